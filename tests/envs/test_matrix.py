"""Catalog equilibria through nash_conv, generator structure, and the repeated-game env."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from marljax.envs import matrix
from marljax.envs.matrix import CATALOG, NASH_EQUILIBRIA, MatrixGame
from marljax.solvers.game.payoffs import nash_conv, pure_profile

KEY = jax.random.PRNGKey(42)


def _profile(mixtures):
    return tuple(jnp.asarray(m, jnp.float32) for m in mixtures)


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_known_equilibria_have_zero_nash_conv(name):
    game = CATALOG[name]()
    for eq in NASH_EQUILIBRIA[name]:
        assert float(nash_conv(game, _profile(eq))) < 1e-6, (name, eq)


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_pure_profiles_are_equilibria_exactly_when_listed(name):
    """Every pure profile not in the list has NashConv > 0, so the list is complete."""
    game = CATALOG[name]()
    listed = {tuple(int(np.argmax(m)) for m in eq) for eq in NASH_EQUILIBRIA[name] if all(max(m) == 1.0 for m in eq)}
    for actions in itertools.product(*(range(a) for a in game.shape[1:])):
        value = float(nash_conv(game, pure_profile(game, actions)))
        assert (value < 1e-9) == (actions in listed), (name, actions, value)


def test_mixed_equilibria_are_strict_points():
    """Moving off the mixed equilibria of chicken / battle of the sexes / biased RPS raises NashConv."""
    for name, delta in [("chicken", 0.05), ("battle_of_the_sexes", 0.05), ("biased_rps", 0.02)]:
        game = CATALOG[name]()
        mixed = [eq for eq in NASH_EQUILIBRIA[name] if max(eq[0]) < 1.0][0]
        row = np.array(mixed[0]) + delta * np.eye(len(mixed[0]))[0] - delta * np.eye(len(mixed[0]))[1]
        assert float(nash_conv(game, _profile((row, mixed[1])))) > 1e-3, name


def test_stag_hunt_parametrised_mixed_equilibrium():
    game = matrix.stag_hunt(stag_stag=5.0, stag_hare=-1.0, hare_stag=2.0, hare_hare=2.0)
    p = (2.0 + 1.0) / (5.0 + 1.0 - 2.0 + 2.0)
    assert float(nash_conv(game, _profile(([p, 1 - p], [p, 1 - p])))) < 1e-6


def test_random_zero_sum_sums_to_zero():
    u = matrix.random_zero_sum(KEY, (4, 6))
    assert u.shape == (2, 4, 6)
    np.testing.assert_array_equal(u.sum(0), 0.0)


@pytest.mark.parametrize(
    "generator",
    [
        matrix.random_symmetric_zero_sum,
        matrix.transitive_game,
        matrix.cyclic_game,
        matrix.disc_game,
        matrix.spinning_top_game,
    ],
)
def test_symmetric_zero_sum_generators_are_skew_symmetric(generator):
    u = generator(KEY, 7)
    assert u.shape == (2, 7, 7)
    np.testing.assert_allclose(u[0], -u[0].T, atol=1e-6)
    np.testing.assert_allclose(u[1], u[0].T, atol=1e-6)
    np.testing.assert_array_equal(generator(KEY, 7), u)  # same key, same game
    assert not np.array_equal(generator(jax.random.PRNGKey(1), 7), u) or generator is matrix.cyclic_game


def test_transitive_game_strongest_strategy_is_the_equilibrium():
    u = matrix.transitive_game(KEY, 6)
    best = int(np.argmax(np.asarray(u[0]).sum(1)))
    assert float(nash_conv(u, pure_profile(u, (best, best)))) == 0.0
    others = [a for a in range(6) if a != best]
    assert all(float(nash_conv(u, pure_profile(u, (a, a)))) > 0 for a in others)


def test_cyclic_game_uniform_is_equilibrium_and_no_pure_one():
    u = matrix.cyclic_game(KEY, 5)
    uniform = (jnp.full(5, 0.2), jnp.full(5, 0.2))
    assert float(nash_conv(u, uniform)) < 1e-6
    assert min(float(nash_conv(u, pure_profile(u, (a, a)))) for a in range(5)) > 0.5


def test_potential_game_has_the_returned_potential():
    num_actions = (3, 4, 2)
    u, phi = matrix.potential_game(KEY, num_actions, return_potential=True)
    u, phi = np.asarray(u), np.asarray(phi)
    assert u.shape == (3, *num_actions)
    for i in range(3):
        # u_i - phi must not depend on player i's own action.
        residual = u[i] - phi
        np.testing.assert_allclose(residual, np.take(residual, [0], axis=i).repeat(num_actions[i], axis=i), atol=1e-6)


def test_random_general_sum_is_n_player():
    u = matrix.random_general_sum(KEY, (2, 3, 4))
    assert u.shape == (3, 2, 3, 4) and u.dtype == jnp.float32


# ----------------------------------------------------------------------------- the env


def test_matrix_game_env_rewards_observations_and_termination():
    game = matrix.battle_of_the_sexes()
    env = MatrixGame(game, horizon=2)
    state, ts = env.reset(KEY)
    np.testing.assert_array_equal(ts.observation.agents_view, 0.0)
    state, ts = env.step(state, jnp.array([1, 1]))
    np.testing.assert_array_equal(ts.reward, [2.0, 3.0])
    np.testing.assert_array_equal(ts.observation.agents_view[0], [0, 1, 0, 1])
    assert not ts.last() and float(ts.discount[0]) == 1.0
    state, ts = env.step(state, jnp.array([0, 1]))
    np.testing.assert_array_equal(ts.reward, [0.0, 0.0])
    assert ts.last() and np.all(ts.discount == 0.0)


def test_matrix_game_env_heterogeneous_actions_masked_checked_and_clipped_in_jit():
    u = matrix.random_general_sum(KEY, (2, 3, 4))
    env = MatrixGame(u, horizon=5)
    state, ts = env.reset(KEY)
    np.testing.assert_array_equal(
        ts.observation.action_mask,
        [[True, True, False, False], [True, True, True, False], [True, True, True, True]],
    )
    np.testing.assert_array_equal(ts.observation.agent_type, [0, 1, 2])
    with pytest.raises(ValueError, match=r"action\[0\] = 3 is out of range: agent 0 of MatrixGame has 2 actions"):
        env.step(state, jnp.array([3, 3, 3]))
    _, ts = jax.jit(env.step)(state, jnp.array([3, 3, 3]))  # out of range for players 0 and 1: clipped in jit
    np.testing.assert_allclose(ts.reward, u[:, 1, 2, 3])


def test_matrix_game_rejects_bad_payoffs():
    with pytest.raises(ValueError, match="NaN"):
        MatrixGame(jnp.array([[[1.0, jnp.nan]], [[0.0, 0.0]]]))
    with pytest.raises(ValueError, match="dimensions"):
        MatrixGame(jnp.zeros((2, 3)))
    with pytest.raises(ValueError, match="horizon"):
        MatrixGame(matrix.stag_hunt(), horizon=0)
