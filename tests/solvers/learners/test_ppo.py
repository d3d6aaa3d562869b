"""IPPO/MAPPO: learning beats random, best-response oracle, masks, config errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jumanji.wrappers import Wrapper

import marljax
from marljax.envs.matrix import MatrixGame, bimatrix, rock_paper_scissors
from marljax.envs.mpe import SimpleSpread
from marljax.solvers import ippo, mappo, ppo
from marljax.solvers.learners.advantages import bootstrap_truncated_rewards, generalized_advantages
from marljax.solvers.learners.losses import ppo_loss

SEEDS = 2


def _random_return(env, key, num_envs=256):
    """Mean per-agent episode return of the uniform random policy (episodes of max_steps)."""
    _, traj = marljax.rollout(env, marljax.random_policy(env), key, num_envs, env.max_steps)
    return float(traj.reward.sum(0).mean())


@pytest.fixture(scope="module")
def spread():
    return SimpleSpread(num_agents=2, num_landmarks=2)


@pytest.mark.parametrize("algo", [ippo, mappo], ids=["ippo", "mappo"])
def test_learning_beats_random_policy(algo, spread):
    config = ppo.PPOConfig(total_steps=120_000, num_envs=32, num_steps=50, lr=3e-3, num_minibatches=2)
    train = jax.jit(jax.vmap(algo.make_train(config, spread)))
    _, metrics = train(jax.random.split(jax.random.PRNGKey(0), SEEDS))
    final = np.asarray(metrics["episode_return"])[:, -5:].mean(axis=(1, 2))  # [seeds]
    baseline = _random_return(spread, jax.random.PRNGKey(1))
    assert np.all(np.isfinite(np.asarray(metrics["loss"])))
    # Random play scores about -20 per agent; every seed must beat it by a clear margin.
    assert np.all(final > baseline + 3.0), (final, baseline)
    # The env metrics are the same episodes' statistics: summed over the 2 agents, SimpleSpread's
    # return is -(collisions) - 25 * (mean landmark distance) (each reward is half collisions,
    # half distance), so the two must agree update by update.
    env_metrics = {name: np.asarray(value) for name, value in metrics["env_metrics"].items()}
    assert set(env_metrics) == set(spread.metrics)
    team_return = np.asarray(metrics["episode_return"]).sum(-1)
    implied = -env_metrics["collisions"] - spread.max_steps * env_metrics["landmark_distance"]
    np.testing.assert_allclose(team_return, implied, rtol=1e-4, atol=1e-3)
    assert 0.0 <= env_metrics["occupied_landmarks"].min() and env_metrics["occupied_landmarks"].max() <= 2.0


def test_best_response_oracle_recurrent_per_agent():
    """Train only player 0 of rock-paper-scissors against an opponent that always plays rock:
    the best response is paper. Exercises trained_agents, GRU towers and unshared parameters."""
    env = MatrixGame(rock_paper_scissors(), horizon=5)
    rock = lambda key, obs, episode_key: jnp.zeros(2, jnp.int32)  # noqa: E731
    config = ppo.PPOConfig(
        total_steps=8 * 10 * 40,
        num_envs=8,
        num_steps=10,
        lr=1e-2,
        num_minibatches=2,
        recurrent=True,
        share_parameters=False,
        trained_agents=(0,),
        hidden_size=16,
    )
    learner = ippo.make_learner(config, env, opponent_policy=rock)
    runner, metrics = jax.jit(lambda k: learner.run(learner.init(k), config.num_updates))(jax.random.PRNGKey(0))
    _, ts = env.reset(jax.random.PRNGKey(1))
    obs = jax.tree_util.tree_map(lambda x: x[None], ts.observation)
    carry = learner.initial_carry(1)["actor"]
    _, action = learner.act(runner.params, carry, obs, jnp.ones((1, 2), bool), jax.random.PRNGKey(2), greedy=True)
    assert int(action[0, 0]) == 1  # paper
    assert float(metrics["episode_return"][-1, 0]) > 4.0  # wins (almost) every one of 5 rounds


def test_opponent_keeps_its_episode_key_for_the_whole_episode():
    """A coordination game (reward 1 for matching) against an opponent that picks its action
    from ``episode_key``: fixed within an episode, so copying its previous move (the
    observation) pays 1 on every round after the first, up to 0.5 + 4 = 4.5 over 5 rounds.
    Were the opponent's draw fresh every step, no policy could beat 2.5."""
    env = MatrixGame(bimatrix(jnp.eye(2), jnp.eye(2)), horizon=5)
    coin = lambda key, obs, episode_key: jnp.full(2, jax.random.bernoulli(episode_key), jnp.int32)  # noqa: E731
    config = ppo.PPOConfig(
        total_steps=16 * 10 * 60,
        num_envs=16,
        num_steps=10,
        lr=1e-2,
        num_minibatches=2,
        trained_agents=(0,),
        hidden_size=16,
    )
    _, metrics = jax.jit(ippo.make_train(config, env, opponent_policy=coin))(jax.random.PRNGKey(0))
    assert float(np.mean(np.asarray(metrics["episode_return"])[-5:, 0])) > 3.5


def test_action_masks_are_respected():
    env = marljax.make("matrix/MatrixGame-v0")  # 3 players with 2, 3 and 4 actions, 3 agent types
    config = ppo.PPOConfig(total_steps=8 * 10 * 3, num_envs=8, num_steps=10, num_minibatches=2, hidden_size=16)
    learner = mappo.make_learner(config, env)
    runner, _ = jax.jit(lambda k: learner.run(learner.init(k), config.num_updates))(jax.random.PRNGKey(0))
    obs = runner.observation  # [8, 3, ...]
    keys = jax.random.split(jax.random.PRNGKey(1), 200)
    act = jax.vmap(lambda k: learner.act(runner.params, learner.initial_carry(8)["actor"], obs, runner.reset, k)[1])
    actions = np.asarray(act(keys))  # [200, 8, 3]
    limits = np.asarray(env.action_spec.num_values)
    assert (actions < limits).all() and (actions.max(axis=(0, 1)) == limits - 1).all()


def test_continuous_actions_run_and_stay_finite(spread):
    env = SimpleSpread(num_agents=2, num_landmarks=2, action_type="continuous")
    config = ppo.PPOConfig(total_steps=8 * 25 * 4, num_envs=8, num_steps=25, num_minibatches=2, hidden_size=16)
    runner, metrics = jax.jit(ippo.make_train(config, env))(jax.random.PRNGKey(0))
    assert runner.params["actor"]["params"]["log_std"].shape == (5,)
    assert np.all(np.isfinite(np.asarray(metrics["loss"])))
    assert float(metrics["entropy"][0]) > 5 * 1.4  # Gaussian entropy of 5 dims at std 1


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(num_envs=0), "num_envs must be positive"),
        (dict(num_minibatches=3), "does not divide the batch"),
        (dict(recurrent=True, num_envs=6, num_minibatches=4), "num_envs = 6"),
        (dict(total_steps=10), "less than one update"),
        (dict(activation="gelu"), "activation"),
        (dict(trained_agents=(5,)), "trained_agents"),
        (dict(trained_agents=(0,)), "opponent_policy"),
    ],
)
def test_bad_config_raises_before_compiling(change, message, spread):
    with pytest.raises(ValueError, match=message):
        ippo.make_train(ppo.PPOConfig(**change), spread)


def test_unsupported_action_type_raises():
    env = SimpleSpread()
    env.action_type = "multi-binary"  # e.g. an env family whose actions PPO has no head for
    with pytest.raises(ValueError, match="action type 'multi-binary'"):
        ippo.make_train(ppo.PPOConfig(), env)


class _TimeLimited(Wrapper):
    """Turn an env's terminal last step into a time-limit truncation (discount 1)."""

    def step(self, state, action):
        state, ts = self._env.step(state, action)
        return state, ts.replace(discount=jnp.ones_like(ts.discount))


def _critic_value(env, bootstrap):
    config = ppo.PPOConfig(
        total_steps=8 * 4 * 150,
        num_envs=8,
        num_steps=4,
        num_minibatches=1,
        lr=1e-2,
        gamma=0.5,
        anneal_lr=False,
        hidden_size=16,
        bootstrap_truncation=bootstrap,
    )
    _, metrics = jax.jit(ippo.make_train(config, env))(jax.random.PRNGKey(0))
    return float(np.mean(np.asarray(metrics["value"])[-20:]))


def test_time_limit_truncation_bootstraps_and_termination_does_not():
    """Reward 1 every round of a 2-round game, gamma 1/2. A time limit (truncation) is not an end
    of the world, so the bootstrapped critic learns the infinite-horizon value 1/(1-gamma) = 2;
    treated as terminal, it learns the mean of the 2-step returns (1.5 + 1) / 2 = 1.25. A real
    termination (discount 0) must not be bootstrapped: 1.25 again."""
    game = MatrixGame(jnp.ones((2, 2, 2)), horizon=2)
    truncated = _TimeLimited(game)
    assert abs(_critic_value(truncated, True) - 2.0) < 0.1
    assert abs(_critic_value(truncated, False) - 1.25) < 0.1
    assert abs(_critic_value(game, True) - 1.25) < 0.1


# ----- the maths, against hand computations ---------------------------------------------------
REWARDS, VALUES, LAST_VALUE = jnp.array([1.0, 2.0, 3.0]), jnp.array([0.5, 1.0, 2.0]), jnp.array(4.0)
DONES = jnp.array([False, True, False])  # the episode ends after step 1; a new one starts at step 2


@pytest.mark.parametrize(
    "discounts, rewards, advantages",
    [
        # No bootstrap: d2 = 3 + .5*4 - 2 = 3; d1 = 2 - 1 = 1 (cut); d0 = 1 + .5*1 - .5 = 1, A0 = 1 + .25*1.
        (None, [1.0, 2.0, 3.0], [1.25, 1.0, 3.0]),
        # A time limit (discount 1) at step 1: r1 = 2 + .5 * 1 * V_final(6) = 5, so A1 = 4, A0 = 1 + .25*4.
        ([1.0, 1.0, 1.0], [1.0, 5.0, 3.0], [2.0, 4.0, 3.0]),
        # A termination (discount 0) adds nothing: as without bootstrap.
        ([1.0, 0.0, 1.0], [1.0, 2.0, 3.0], [1.25, 1.0, 3.0]),
    ],
    ids=["cut", "truncation", "termination"],
)
def test_generalized_advantages_by_hand(discounts, rewards, advantages):
    gamma, lam = 0.5, 0.5
    r = REWARDS
    if discounts is not None:  # final values matter only where an episode ended (step 1)
        r = bootstrap_truncated_rewards(REWARDS, DONES, jnp.array(discounts), jnp.array([9.0, 6.0, 9.0]), gamma)
    np.testing.assert_allclose(r, rewards)
    adv, targets = generalized_advantages(r, VALUES, DONES, LAST_VALUE, gamma, lam)
    np.testing.assert_allclose(adv, advantages, rtol=1e-6)
    np.testing.assert_allclose(targets, np.asarray(advantages) + np.asarray(VALUES), rtol=1e-6)


def test_ppo_loss_terms_by_hand():
    args = dict(
        log_prob=jnp.log(jnp.array([1.5, 0.5])),  # ratios 1.5 and 0.5 against old log-probs 0
        old_log_prob=jnp.zeros(2),
        entropy=jnp.array([1.0, 2.0]),
        values=jnp.array([1.0, 3.0]),
        old_values=jnp.array([0.0, 2.9]),
        advantages=jnp.array([3.0, 1.0]),  # normalised to (1, -1)
        targets=jnp.array([0.5, 0.0]),
    )
    total, terms = ppo_loss(**args, clip_eps=0.2, vf_coef=0.5, ent_coef=0.01)
    # actor: -(min(1.5, 1.2) * 1 + min(0.5 * -1, 0.8 * -1)) / 2 = -(1.2 - 0.8) / 2
    np.testing.assert_allclose(terms["actor_loss"], -0.2, rtol=1e-5)
    # value: V_clip = (0.2, 3.0); 0.5 * mean(max(.25, .09), max(9, 9)) = 0.5 * 4.625
    np.testing.assert_allclose(terms["value_loss"], 2.3125, rtol=1e-6)
    np.testing.assert_allclose(terms["entropy"], 1.5)
    kl = np.mean([0.5 - np.log(1.5), -0.5 - np.log(0.5)])
    np.testing.assert_allclose(terms["approx_kl"], kl, rtol=1e-5)
    np.testing.assert_allclose(total, -0.2 + 0.5 * 2.3125 - 0.01 * 1.5, rtol=1e-5)
    # Weights (only agent 0 learns) restrict every mean to the weighted entries.
    _, only_first = ppo_loss(**args, clip_eps=0.2, vf_coef=0.5, ent_coef=0.01, weight=jnp.array([1.0, 0.0]))
    np.testing.assert_allclose(only_first["value_loss"], 0.5 * 0.25)
    np.testing.assert_allclose(only_first["entropy"], 1.0)
