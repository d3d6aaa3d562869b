"""traffic/HeterogeneousHighway-v0: constructor checks, actions, crashes, rewards, observations, metrics."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import marljax
from marljax.envs.traffic.common import AGGRESSIVE, DEFENSIVE, NORMAL, init_vehicles, sample_driver_types
from marljax.envs.traffic.highway import HeterogeneousHighway, HighwayState

KW = dict(num_agents=2, num_npcs=6, num_lanes=3, spawn_length=200.0)


@pytest.fixture(scope="module")
def env():
    return HeterogeneousHighway(**KW)


@pytest.fixture(scope="module")
def step(env):
    return jax.jit(env.step)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(traffic="rush-hour"), "known mixes: ['chaotic', 'mild']"),
        (dict(num_npcs=500), "more than the road holds"),
        (dict(num_npcs=-1), "num_npcs must be non-negative"),
        (dict(num_lanes=0), "num_lanes must be at least 1"),
        (dict(num_agents=0), "num_agents must be at least 1"),
        (dict(num_agents=-3), "num_agents must be at least 1"),
        (dict(simulation_frequency=4, policy_frequency=3), "multiple of policy_frequency"),
    ],
)
def test_bad_constructor_values_raise(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        marljax.make("traffic/HeterogeneousHighway-v0", **kwargs)


def test_bad_actions_raise_outside_jit(env):
    state, _ = jax.jit(env.reset)(jax.random.PRNGKey(0))
    for action, message in [
        (jnp.ones(3, jnp.int32), "shape"),
        (jnp.array([1, 5], jnp.int32), "out of range"),
        (jnp.array([-1, 1], jnp.int32), "out of range"),
        (jnp.ones(2, jnp.float32), "dtype"),
    ]:
        with pytest.raises(ValueError, match=message):
            env.step(state, action)


def _scene(env, npc_x, npc_lane, npc_speed, crashed_npc=True):
    """Agent 0 at x=100 on lane 1 at 30 m/s, agent 1 at x=100 on lane 2 at 25 m/s, one NPC as given,
    the other NPCs 2 km ahead on lane 0."""
    n, m = env.num_agents, env.num_vehicles
    x = np.concatenate([[100.0, 100.0, npc_x], 2000.0 + 30.0 * np.arange(m - 3)])
    lane = np.concatenate([[1, 2, npc_lane], np.zeros(m - 3)])
    speed = np.concatenate([[30.0, 25.0, npc_speed], np.full(m - 3, 22.0)])
    types = np.array([NORMAL, NORMAL, DEFENSIVE] + [AGGRESSIVE] * (m - 3))
    vehicles = init_vehicles(
        jax.random.PRNGKey(0), env.road, jnp.asarray(np.stack([x, 4.0 * lane], 1)), jnp.asarray(speed), types
    )
    vehicles = vehicles.replace(
        crashed=vehicles.crashed.at[2].set(crashed_npc), target_speed=vehicles.target_speed.at[:n].set(speed[:n])
    )
    return HighwayState(
        key=jax.random.PRNGKey(0), step_count=jnp.int32(0), vehicles=vehicles, survival=jnp.zeros(n, jnp.int32)
    )


def test_agent_driving_into_a_car_crashes_then_stops_and_stays(env, step):
    state = _scene(env, npc_x=130.0, npc_lane=1, npc_speed=0.0)  # a wreck 30 m ahead of agent 0
    idle = jnp.ones(2, jnp.int32)
    state, ts = step(state, idle)  # 1 s at 30 m/s: agent 0 reaches the wreck
    assert bool(state.vehicles.crashed[0]) and not bool(state.vehicles.crashed[1])
    np.testing.assert_array_equal(ts.discount, [0.0, 1.0])
    lane_term, speed = 0.1 * 1 / 2, float(state.vehicles.speed[0])
    expected = (-1.0 + lane_term + 0.4 * np.clip((speed - 20) / 10, 0, 1) + 1.0) / 1.5
    assert float(ts.reward[0]) == pytest.approx(expected, abs=2e-3)
    # Agent 1 drives on at 25 m/s on lane 2 of 3: (0.1 + 0.4 * 0.5 + 1) / 1.5.
    assert float(ts.reward[1]) == pytest.approx((0.1 + 0.2 + 1.0) / 1.5, abs=1e-3)
    metrics = {k: float(v) for k, v in ts.extras["metrics"].items()}
    assert metrics["crashes"] == 1 and metrics["success"] == 0.5 and metrics["survival_time"] == 0.5
    assert metrics["episodic_reward"] == pytest.approx(float(ts.reward.sum()))
    assert int(ts.step_type) == 1  # MID: agent 1 is still driving
    for _ in range(8):
        before = state.vehicles.position[0]
        state, ts = step(state, idle)
        assert (
            float(ts.reward[0]) == 0.0 and float(ts.discount[0]) == 0.0 and float(ts.extras["metrics"]["crashes"]) == 0
        )
    assert bool(state.vehicles.crashed[0]) and abs(float(state.vehicles.speed[0])) < 1e-2
    np.testing.assert_allclose(state.vehicles.position[0], before, atol=1e-2)


def test_episode_terminates_when_every_agent_has_crashed(env, step):
    state = _scene(env, npc_x=130.0, npc_lane=1, npc_speed=0.0)
    state = state.replace(vehicles=state.vehicles.replace(crashed=state.vehicles.crashed.at[1].set(True)))
    state, ts = step(state, jnp.ones(2, jnp.int32))
    assert int(ts.step_type) == 2 and np.all(np.asarray(ts.discount) == 0.0)


def test_observation_lists_nearest_vehicles_ahead(env):
    state = _scene(env, npc_x=130.0, npc_lane=0, npc_speed=20.0, crashed_npc=False)
    view = np.asarray(env._views(state.vehicles))
    k = env.observed_vehicles
    rows = view[0, : 5 * k].reshape(k, 5)
    # Agent 0 (x=100, lane 1, 30 m/s) sees agent 1 (same x, lane 2) first, then the NPC 30 m ahead on lane 0.
    np.testing.assert_allclose(rows[0], [1.0, 0.0, 0.04, -0.25, 0.0], atol=1e-6)
    np.testing.assert_allclose(rows[1], [1.0, 0.3, -0.04, -0.5, 0.0], atol=1e-6)
    np.testing.assert_allclose(rows[2], [1.0, 1.0, -0.04, -0.4, 0.0], atol=1e-6)  # 1.9 km ahead: clipped
    np.testing.assert_allclose(view[0, -2:], [0.5, 30.0 / 40.0], atol=1e-6)  # own lane 1 of 0..2, speed / 40
    # A vehicle more than 10 m behind is not observed.
    behind = _scene(env, npc_x=85.0, npc_lane=1, npc_speed=20.0, crashed_npc=False)
    rows = np.asarray(env._views(behind.vehicles))[0, : 5 * k].reshape(k, 5)
    assert not np.any(np.isclose(rows[:, 1], -0.15) & (rows[:, 0] == 1))


def test_rollout_rewards_metrics_and_speeds(env):
    policy = marljax.random_policy(env)
    _, traj = jax.jit(lambda k: marljax.rollout(env, policy, k, 4, 40))(jax.random.PRNGKey(1))
    reward = np.asarray(traj.reward)
    assert reward.min() >= 0.0 and reward.max() <= 1.0 and reward.max() > 0.5
    metrics = traj.extras["metrics"]
    assert set(metrics) == set(env.metrics)
    np.testing.assert_allclose(metrics["episodic_reward"], reward.sum(-1), rtol=1e-5)
    success = np.asarray(metrics["success"])
    assert np.all((success >= 0) & (success <= 1))
    speed = np.asarray(metrics["mean_speed"])
    assert np.all(np.abs(speed) <= 40.0)


def test_traffic_mix_sets_driver_type_shares():
    for traffic, expected in (("mild", [0.8, 0.1, 0.1]), ("chaotic", [0.4, 0.3, 0.3])):
        assert HeterogeneousHighway(traffic=traffic, **KW).generator.traffic == traffic
        types = np.asarray(sample_driver_types(jax.random.PRNGKey(2), 5000, traffic))
        np.testing.assert_allclose(np.bincount(types, minlength=3) / types.size, expected, atol=0.02)


def test_render_gives_an_rgb_frame(env):
    state, _ = jax.jit(env.reset)(jax.random.PRNGKey(3))
    frame = env.render_rgb(state)
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    green = (frame[..., 1] > 140) & (frame[..., 0] < 80) & (frame[..., 2] < 80)  # agents are drawn green
    assert green.sum() > 20
