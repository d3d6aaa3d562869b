import jax
import jax.numpy as jnp
import numpy as np
import pytest

import marljax
from marljax.envs.matrix import MatrixGame, prisoners_dilemma
from marljax.wrappers import AutoResetWrapper, EpisodeStatistics


class MeteredGame(MatrixGame):
    """Prisoner's dilemma reporting ``value = round + 10 * row action`` under each aggregation."""

    metrics = {"total": "sum", "level": "mean", "last": "final"}

    def _metered(self, timestep, value):
        value = jnp.asarray(value, jnp.float32)
        return timestep.replace(extras={"metrics": {name: value for name in self.metrics}})

    def reset(self, key):
        state, timestep = super().reset(key)
        return state, self._metered(timestep, 0.0)

    def step(self, state, action):
        state, timestep = super().step(state, action)
        return state, self._metered(timestep, state.step_count + 10 * action[0])


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


def test_episode_statistics_aggregates_metrics_across_auto_reset():
    """Episode 1 plays row action 0 (values 1, 2, 3), episode 2 row action 1 (11, 12, 13)."""
    env = EpisodeStatistics(AutoResetWrapper(MeteredGame(prisoners_dilemma(), horizon=3)))
    state, ts = env.reset(jax.random.PRNGKey(0))
    np.testing.assert_allclose([ts.extras["episode_metrics"][k] for k in ("total", "level", "last")], 0.0)
    step = jax.jit(env.step)
    reported = []
    for row in (0, 0, 0, 1, 1, 1, 1):
        state, ts = step(state, jnp.array([row, 0]))
        reported.append({k: float(v) for k, v in ts.extras["episode_metrics"].items()})
    first, second = {"total": 6.0, "level": 2.0, "last": 3.0}, {"total": 36.0, "level": 12.0, "last": 13.0}
    assert reported[2] == first and reported[3] == first  # repeated until the next episode ends
    assert reported[5] == second and reported[6] == second
    assert float(state.episode_metrics["total"]) == 11.0  # the third episode's running total


def test_episode_statistics_rejects_unknown_aggregation():
    class Bad(MeteredGame):
        metrics = {"total": "median"}

    with pytest.raises(ValueError, match="'total' has unknown aggregation 'median'"):
        EpisodeStatistics(Bad(prisoners_dilemma(), horizon=3))


def test_rollout_trajectory_layout_and_rewards():
    env = MatrixGame(prisoners_dilemma(), horizon=4)
    always_defect = lambda key, obs: jnp.ones(obs.action_mask.shape[0], jnp.int32)  # noqa: E731
    _, traj = marljax.rollout(env, always_defect, jax.random.PRNGKey(0), 5, 9)
    assert traj.action.shape == (9, 5, 2)
    np.testing.assert_allclose(traj.reward, 1.0)  # punishment payoff, every step, every env
    last = np.asarray(traj.step_type == 2)
    assert last[:, 0].tolist() == [False, False, False, True, False, False, False, True, False]
    np.testing.assert_allclose(np.asarray(traj.discount)[last], 0.0)
