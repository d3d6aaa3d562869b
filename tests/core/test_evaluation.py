"""Env metrics aggregation (marljax.metrics) and the one episode loop (marljax.evaluation)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from marljax import metrics
from marljax.envs.mpe import SimpleSpread
from marljax.evaluation import play_episodes, summarise

DECLARATION = {"crashes": "sum", "order": "mean", "success": "final"}


def test_aggregation_of_a_hand_made_episode():
    # Two episodes, time-major [T=4, E=2]; the second ends after 2 steps (mask), so its
    # later values (99) must not count.
    values = {
        "crashes": jnp.array([[1.0, 2.0], [0.0, 1.0], [2.0, 99.0], [1.0, 99.0]]),
        "order": jnp.array([[0.5, 1.0], [1.0, 0.0], [0.0, 99.0], [0.5, 99.0]]),
        "success": jnp.array([[0.0, 0.0], [0.0, 1.0], [1.0, 99.0], [1.0, 99.0]]),
    }
    mask = jnp.array([[True, True], [True, True], [True, False], [True, False]])
    out = metrics.aggregate(values, DECLARATION, mask)
    np.testing.assert_allclose(out["crashes"], [4.0, 3.0])
    np.testing.assert_allclose(out["order"], [0.5, 0.5])
    np.testing.assert_allclose(out["success"], [1.0, 1.0])
    assert metrics.aggregate({}, {}) == {}


def test_bad_declarations_and_reports_raise():
    with pytest.raises(ValueError, match="unknown aggregation 'max'"):
        metrics.declared_metrics({"crashes": "max"})
    with pytest.raises(ValueError, match="must be a dict"):
        metrics.declared_metrics(type("Env", (), {"metrics": ["crashes"]})())
    with pytest.raises(ValueError, match=r"reports \['crashes'\] but the env declares \['crashes', 'order'"):
        metrics.step_metrics({"metrics": {"crashes": 1.0}}, DECLARATION)
    assert metrics.step_metrics({}, {}) == {}  # no declaration: no "metrics" key needed


def _random_policy(carry, observation, first, key):
    """Stays put (action 0) on an episode's first step, then moves at random (1..4)."""
    return carry, jnp.where(first, 0, jax.random.randint(key, first.shape, 1, 5))


def test_play_episodes_matches_a_hand_rolled_loop_and_masks_after_the_end():
    env = SimpleSpread(num_agents=4, num_landmarks=4, max_steps=4)
    key, num = jax.random.PRNGKey(5), 3
    count_actions = lambda action, timestep: jax.nn.one_hot(action, 5).sum(1)  # noqa: E731
    batch = play_episodes(
        env, _random_policy, key, num, initial_carry=jnp.int32(0), max_steps=7, record_states=True, tally=count_actions
    )

    # The same episodes by hand: same key splits, same policy, only the 4 steps of an episode.
    @jax.jit
    def by_hand(key):
        reset_key, run_key = jax.random.split(key)
        state, ts = jax.vmap(env.reset)(jax.random.split(reset_key, num))
        returns, per_step = 0.0, []
        for t, step_key in enumerate(jax.random.split(run_key, 7)[: env.max_steps]):
            _, action = _random_policy(0, ts.observation, jnp.full((num, 4), t == 0), step_key)
            state, ts = jax.vmap(env.step)(state, action)
            returns = returns + ts.reward
            per_step.append(ts.extras["metrics"])
        return state, returns, jax.tree_util.tree_map(lambda *x: jnp.stack(x), *per_step)

    state, returns, per_step = by_hand(key)
    expected = metrics.aggregate(per_step, env.metrics)

    np.testing.assert_allclose(batch.returns, returns, rtol=1e-6)
    np.testing.assert_array_equal(batch.length, [4, 4, 4])  # steps 5..7 are masked
    for name in env.metrics:
        np.testing.assert_allclose(batch.metrics[name], expected[name], rtol=1e-6, err_msg=name)
    assert float(np.ptp(batch.metrics["landmark_distance"])) > 0.0  # differs across episodes
    np.testing.assert_array_equal(batch.tally.sum(1), [4 * 4] * num)  # 4 agents x 4 live steps
    np.testing.assert_array_equal(batch.tally[:, 0], [4] * num)  # `first` only on the first step
    np.testing.assert_array_equal(batch.states.pos.shape, (8, num, 8, 2))
    np.testing.assert_array_equal(batch.states.pos[4], batch.states.pos[7])  # frozen after the end
    np.testing.assert_allclose(batch.states.pos[4], state.pos)

    summary = summarise(batch)
    assert summary["episodes"] == num and summary["mean_length"] == 4.0
    np.testing.assert_allclose(summary["mean_return"], float(np.mean(returns)), rtol=1e-6)
    np.testing.assert_allclose(summary["metrics"]["collisions"], float(np.mean(expected["collisions"])), rtol=1e-6)


@pytest.mark.parametrize("bad", [{"num_episodes": 0}, {"max_steps": -1}, {"num_episodes": 2.5}])
def test_play_episodes_rejects_bad_sizes(bad):
    args = {"num_episodes": 2, "max_steps": 3, **bad}
    with pytest.raises(ValueError, match=next(iter(bad))):
        play_episodes(SimpleSpread(), _random_policy, jax.random.PRNGKey(0), args.pop("num_episodes"), **args)
