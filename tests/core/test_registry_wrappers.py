import jax
import jax.numpy as jnp
import numpy as np
import pytest

import marljax
from marljax.envs.matrix import MatrixGame, prisoners_dilemma
from marljax.wrappers import AutoResetWrapper, EpisodeStatistics


def test_unknown_env_lists_known_names():
    with pytest.raises(marljax.UnknownEnvError) as err:
        marljax.make("matrix/StagHunt")
    message = str(err.value)
    assert "matrix/StagHunt-v0" in message
    for name in marljax.registered():
        assert name in message


def test_make_passes_kwargs_and_describes():
    env = marljax.make("matrix/StagHunt-v0", horizon=3, stag_stag=10.0)
    assert env.max_steps == 3 and float(env.payoffs[0, 0, 0]) == 10.0
    assert "stag hunt" in marljax.describe("matrix/StagHunt-v0")


def test_register_rejects_bad_names():
    with pytest.raises(ValueError, match="family/Name-v0"):
        marljax.register("NoFamily", lambda: None, "x")


def test_episode_statistics_per_agent_returns():
    """Returns are summed per agent over exactly one episode, and reset afterwards."""
    horizon = 3
    env = EpisodeStatistics(AutoResetWrapper(MatrixGame(prisoners_dilemma(), horizon)))
    state, _ = env.reset(jax.random.PRNGKey(0))
    step = jax.jit(env.step)
    # Row cooperates, column defects: rewards (0, 5) per round.
    action = jnp.array([0, 1])
    for t in range(1, 2 * horizon + 1):
        state, ts = step(state, action)
        ended = t % horizon == 0
        assert bool(ts.extras["returned_episode"]) == ended
        if ended:
            np.testing.assert_allclose(ts.extras["episode_return"], [0.0, 5.0 * horizon])
            assert int(ts.extras["episode_length"]) == horizon
            assert int(ts.observation.step_count) == 0  # auto-reset gave the fresh observation
    np.testing.assert_allclose(state.episode_return, 0.0)


def test_rollout_trajectory_layout_and_rewards():
    env = MatrixGame(prisoners_dilemma(), horizon=4)
    always_defect = lambda key, obs: jnp.ones(obs.action_mask.shape[0], jnp.int32)  # noqa: E731
    _, traj = marljax.rollout(env, always_defect, jax.random.PRNGKey(0), 5, 9)
    assert traj.action.shape == (9, 5, 2)
    np.testing.assert_allclose(traj.reward, 1.0)  # punishment payoff, every step, every env
    last = np.asarray(traj.step_type == 2)
    assert last[:, 0].tolist() == [False, False, False, True, False, False, False, True, False]
    np.testing.assert_allclose(np.asarray(traj.discount)[last], 0.0)
