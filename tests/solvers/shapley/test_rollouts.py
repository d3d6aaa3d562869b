"""Characteristic functions from rollouts on a repeated matrix game whose answer is known."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from marljax.envs.matrix.env import MatrixGame
from marljax.solvers import shapley
from marljax.solvers.shapley import games

WORTH = np.array([1.0, 2.0, 3.0])
HORIZON = 4


@pytest.fixture(scope="module")
def env():
    """Three players with actions (idle, work); player i earns WORTH[i] each round it works."""
    action = np.indices((2, 2, 2))  # [3, 2, 2, 2]: player i's action in each joint action
    return MatrixGame(WORTH[:, None, None, None] * action, horizon=HORIZON)


def work(carry, observation, first, key):
    """Every agent always works (action 1)."""
    return carry, jnp.ones(observation.action_mask.shape[:2], jnp.int32)


def test_noop_replacement_gives_each_agent_its_worth(env):
    game = shapley.rollout_game(env, work, jax.random.PRNGKey(0), num_episodes=8, replace="noop")
    result = shapley.exact(game, game.num_players)
    np.testing.assert_allclose(result.values, HORIZON * WORTH, atol=1e-5)
    assert result.grand == pytest.approx(HORIZON * WORTH.sum()) and result.empty == 0.0
    np.testing.assert_allclose(result.stderr, 0.0, atol=1e-6)  # deterministic: no episode noise


def test_random_replacement_halves_the_worth_within_its_standard_error(env):
    game = shapley.rollout_game(env, work, jax.random.PRNGKey(1), num_episodes=256, replace="random")
    result = shapley.exact(game, 3)
    # A replaced agent works half the time: the policy's gain is half its worth.
    expected = HORIZON * WORTH / 2
    assert np.all(result.stderr > 0)
    assert np.all(np.abs(result.values - expected) < 4 * result.stderr), (result.values, result.stderr)
    sampled = shapley.permutation(game, 3, jax.random.PRNGKey(2), 8)
    assert np.all(np.abs(sampled.values - expected) < 4 * sampled.stderr)


def test_random_player_replacement_copies_a_worker(env):
    # Every agent works, so a replaced agent copying any other agent also works: nobody makes a difference.
    game = shapley.rollout_game(env, work, jax.random.PRNGKey(0), num_episodes=4, replace="random_player")
    result = shapley.banzhaf(game, 3)
    np.testing.assert_allclose(result.values, 0.0, atol=1e-5)
    assert result.empty == pytest.approx(HORIZON * WORTH.sum())


def test_random_player_copies_another_agent_never_itself(env):
    # Agent i plays action i % 2 (0, 1, 0); replaced agents must copy one of the *others*.
    def alternate(carry, observation, first, key):
        e, n = observation.action_mask.shape[:2]
        return carry, jnp.broadcast_to(jnp.arange(n) % 2, (e, n)).astype(jnp.int32)

    policy = shapley.replaced_policy(env, alternate, "random_player")
    observation = env.reset(jax.random.PRNGKey(0))[1].observation
    batch = jax.tree_util.tree_map(lambda x: jnp.broadcast_to(x, (512,) + x.shape), observation)
    _, action = policy((jnp.zeros(3, bool), None), batch, None, jax.random.PRNGKey(3))
    # Agents 0 and 2 copy from {1, 2} / {0, 1}: half the time a 1; agent 1 copies 0 or 2: always 0.
    assert np.all(np.asarray(action[:, 1]) == 0)
    assert 0.4 < float(action[:, 0].mean()) < 0.6 and 0.4 < float(action[:, 2].mean()) < 0.6


def test_players_subset_and_one_compilation_per_structure(env):
    # Agent 2 always plays and its return is not the team's: the players are agents 0 and 1.
    before = games._evaluate._cache_size()
    for seed in range(2):  # another key: the same compiled batch
        game = shapley.rollout_game(env, work, jax.random.PRNGKey(seed), num_episodes=8, players=(0, 1))
        np.testing.assert_allclose(shapley.exact(game, 2).values, HORIZON * WORTH[:2], atol=1e-5)
    assert games._evaluate._cache_size() == before + 1


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(replace="zero"), "unknown replacement 'zero'"),
        (dict(num_episodes=0), "num_episodes"),
        (dict(players=(0, 3)), "players must be distinct agents"),
        (dict(players=(1, 1)), "players must be distinct agents"),
        (dict(noop_action=2), "not an action"),
    ],
)
def test_bad_rollout_options_raise(env, kwargs, message):
    with pytest.raises(ValueError, match=message):
        shapley.rollout_game(env, work, jax.random.PRNGKey(0), **kwargs)
