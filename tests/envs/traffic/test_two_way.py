"""TwoWay: head-on crashes, safe following, overtakes, mirrored players, PSRO wiring, bad values."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import marljax
from marljax.envs.traffic.two_way import OVERTAKING_LANE, OWN_LANE, TwoWay, TwoWayState, in_frame
from marljax.solvers import psro_rl

LANE_LEFT, IDLE, LANE_RIGHT, FASTER = 0, 1, 2, 3


def _state(env, own_x, own_lane, speed, target_speed=None):
    """A hand-built scene: every vehicle (in its own frame) at ``own_x``, in lane ``own_lane``
    (1: its own lane, 0: the oncoming lane), heading along the road, all IDM exponents 4."""
    vehicles = env.scene.sample(jax.random.PRNGKey(0))
    m = len(own_x)
    lane = jnp.asarray(own_lane, jnp.int32)
    speed = jnp.asarray(speed, jnp.float32)
    vehicles = vehicles.replace(
        position=jnp.stack([jnp.asarray(own_x, jnp.float32), 4.0 * lane], -1),
        heading=jnp.zeros(m),
        speed=speed,
        target_speed=speed if target_speed is None else jnp.asarray(target_speed, jnp.float32),
        target_lane=lane,
        driver=vehicles.driver.replace(delta=jnp.full((m,), 4.0)),
    )
    return TwoWayState(key=jax.random.PRNGKey(1), step_count=jnp.int32(0), vehicles=vehicles)


@pytest.fixture(scope="module")
def small():
    """Two players with one slow car each (learners 0 east and 1 west, then their slow cars 2 east
    and 3 west), with one jitted step shared by every hand-built scene."""
    env = TwoWay(players=2, num_slow=1, num_oncoming=0)
    return env, jax.jit(env.step)


@pytest.fixture(scope="module")
def played():
    """The default env (players=2, 3 slow, 6 oncoming) played by always-idle and by uniformly
    random learners: one compiled ``play_episodes``, the policy picked by its carry."""
    env = marljax.make("traffic/TwoWay-v0")

    def policy(random, obs, first, key):
        uniform = jax.random.randint(key, obs.step_count.shape + (2,), 0, 5)
        return random, jnp.where(random, uniform, IDLE).astype(jnp.int32)

    def play(random, key):
        return marljax.play_episodes(env, policy, key, 32, initial_carry=jnp.asarray(random), record_states=True)

    return env, play(False, jax.random.PRNGKey(0)), play(True, jax.random.PRNGKey(1))


def _speed_reward(state, agent=0):
    v = state.vehicles.speed[agent] * jnp.cos(state.vehicles.heading[agent])
    return 0.8 * float(np.clip((v - 20.0) / 10.0, 0.0, 1.0))


FAR = -3000.0  # own-frame x of a vehicle kept out of the way


def test_crash_into_an_oncoming_car_ends_the_agent_with_minus_one(small):
    env, step = small
    # Learner 0 in the oncoming lane at 25 m/s, a westbound car 100 m ahead; the rest far away.
    state = _state(env, [0.0, FAR, FAR, -100.0], [OVERTAKING_LANE, OWN_LANE, OWN_LANE, OWN_LANE], [25.0, 25, 20, 20])
    rewards = []
    for _ in range(10):
        state, ts = step(state, np.array([IDLE, IDLE], np.int32))
        rewards.append(float(ts.reward[0]))
        if float(ts.discount[0]) == 0.0:
            break
    assert rewards[-1] == -1.0 and len(rewards) < 10
    # Before the crash: in the overtaking lane but never clear (the oncoming car closes at ~45 m/s),
    # so only the speed term is paid.
    assert all(0.0 < r < 0.8 for r in rewards[:-1])
    metrics = {k: float(v) for k, v in ts.extras["metrics"].items()}
    assert metrics["crashes"] == 1.0 and metrics["crash_rate"] == 0.5
    assert not bool(ts.last()) and float(ts.discount[1]) == 1.0  # learner 1 drives on
    world = in_frame(state.vehicles, env.scene.direction, 1)
    assert bool(world.crashed[3]) and not bool(world.crashed[2])  # the partner is the oncoming car
    assert float(world.position[0, 1]) == pytest.approx(float(world.position[3, 1]), abs=1.5)  # same lane
    # A crashed learner gets nothing more and its crash is not counted again.
    state, ts = step(state, np.array([FASTER, IDLE], np.int32))
    assert float(ts.reward[0]) == 0.0 and float(ts.discount[0]) == 0.0
    assert float(ts.extras["metrics"]["crashes"]) == 0.0 and float(ts.extras["metrics"]["crash_rate"]) == 0.5


def test_head_on_crash_of_both_learners_ends_the_episode(small):
    env, step = small
    # Learner 0 in the westbound lane, learner 1 (westbound) in it too: 100 m apart, head-on.
    state = _state(env, [0.0, -100.0, FAR, FAR], [OVERTAKING_LANE, OWN_LANE, OWN_LANE, OWN_LANE], [25.0, 25, 20, 20])
    for _ in range(10):
        state, ts = step(state, np.array([IDLE, IDLE], np.int32))
        if bool(ts.last()):
            break
    np.testing.assert_array_equal(ts.reward, [-1.0, -1.0])
    np.testing.assert_array_equal(ts.discount, [0.0, 0.0])
    assert int(ts.observation.step_count) < env.max_steps  # ended by the crash, not the time limit
    assert float(ts.extras["metrics"]["crashes"]) == 2.0 and float(ts.extras["metrics"]["crash_rate"]) == 1.0


def test_idle_cars_behind_slow_traffic_neither_crash_nor_overtake(played):
    env, idle, _ = played
    np.testing.assert_array_equal(idle.metrics["crash_rate"], 0.0)
    np.testing.assert_array_equal(idle.metrics["overtakes"], 0.0)
    np.testing.assert_array_equal(idle.length, env.max_steps)
    x = np.asarray(idle.states.vehicles.position[..., 0])  # [T+1, E, M], own frames
    assert np.all(x[:, :, 0] < x[:, :, 2])  # learner 0 stays behind the first slow eastbound car
    assert np.all(x[:, :, 1:2] < x[:, :, 5:8])  # learner 1 behind its slow westbound cars
    assert np.all(np.asarray(idle.metrics["mean_speed"]) < 24.0)  # held back by them
    np.testing.assert_array_equal(idle.states.vehicles.target_lane[:, :, :2], OWN_LANE)


def test_overtake_is_counted_and_the_clear_lane_bonus_paid(small):
    env, step = small
    # A slow car 40 m ahead of learner 0 at 20 m/s; the westbound cars far away.
    state = _state(env, [0.0, FAR, 40.0, FAR], [OWN_LANE] * 4, [25.0, 25.0, 20.0, 20.0])
    overtakes, bonus_steps = 0.0, 0
    for t in range(20):
        x_agent, x_slow = float(state.vehicles.position[0, 0]), float(state.vehicles.position[2, 0])
        action = LANE_LEFT if t == 0 else FASTER if t < 3 else LANE_RIGHT if x_agent > x_slow + 40 else IDLE
        state, ts = step(state, np.array([action, IDLE], np.int32))
        overtakes += float(ts.extras["metrics"]["overtakes"])
        if int(jnp.round(state.vehicles.position[0, 1] / 4)) == OVERTAKING_LANE:  # and nothing ahead there
            assert float(ts.reward[0]) == pytest.approx(_speed_reward(state) + 0.2, abs=1e-5)
            bonus_steps += 1
        else:
            assert float(ts.reward[0]) == pytest.approx(_speed_reward(state), abs=1e-5)
    assert overtakes == 1.0 and bonus_steps > 2
    assert not bool(state.vehicles.crashed[0])
    assert float(state.vehicles.position[0, 0]) > float(state.vehicles.position[2, 0])
    assert int(jnp.round(state.vehicles.position[0, 1] / 4)) == OWN_LANE  # back in its lane


def test_two_players_see_the_mirrored_world_alike(small):
    env, step = small
    # Learners 60 m behind their slow car, each pair placed alike in its own frame: the world is
    # symmetric under the half-turn that swaps the directions.
    state = _state(env, [-100.0, -100.0, -40.0, -40.0], [OWN_LANE] * 4, [25.0, 25.0, 21.0, 21.0])
    world = in_frame(state.vehicles, env.scene.direction, 1)
    np.testing.assert_allclose(world.position[1], [100.0, 0.0])  # learner 1 drives west in the other lane
    for action in ([LANE_LEFT, LANE_LEFT], [FASTER, FASTER], [IDLE, IDLE], [IDLE, IDLE]):
        state, ts = step(state, np.array(action, np.int32))
        view = np.asarray(ts.observation.agents_view)
        np.testing.assert_allclose(view[0], view[1], atol=1e-4)
        np.testing.assert_allclose(ts.reward[0], ts.reward[1], atol=1e-5)
    np.testing.assert_array_equal(ts.observation.agent_type, [0, 1])
    assert np.abs(view[0, 6:12]).sum() > 0  # the same view, and not an empty one
    # A different action of one learner breaks the symmetry.
    state, ts = step(state, np.array([LANE_RIGHT, IDLE], np.int32))
    state, ts = step(state, np.array([IDLE, IDLE], np.int32))
    assert not np.allclose(ts.observation.agents_view[0], ts.observation.agents_view[1], atol=1e-3)


def test_rl_psro_finds_two_teams_and_crash_metrics(played):
    """What ``marljax psro traffic/TwoWay-v0 --oracle ppo`` needs from the env (the command itself
    runs in the README): the default env splits into team 0 = agent 0 and team 1 = agent 1, and a
    played profile reports crash metrics consistent with the returns."""
    env, _, random = played
    assert env.num_agents == 2
    team_of = psro_rl.team_masks(env.num_agents)
    np.testing.assert_array_equal(team_of, [[True, False], [False, True]])
    stats = psro_rl.profile_statistics(random, jnp.asarray(team_of))
    metrics = {k: float(v) for k, v in stats["env_metrics"].items()}
    assert set(metrics) == set(env.metrics)
    # A learner crashes at most once: crashes per episode = 2 x the final crash rate.
    assert metrics["crashes"] == pytest.approx(2 * metrics["crash_rate"], rel=1e-5)
    assert 0.0 < metrics["crash_rate"] <= 1.0  # random drivers do crash
    assert metrics["return"] == pytest.approx(float(np.mean(stats["team_returns"])), rel=1e-4)


def test_bad_values_raise(small):
    for bad in ({"players": 3}, {"players": 0}, {"num_slow": -1}, {"num_oncoming": -2}, {"max_steps": 0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            marljax.make("traffic/TwoWay-v0", **bad)
    with pytest.raises(ValueError, match="clear_time"):
        TwoWay(clear_time=-1.0)
    env, _ = small
    state = _state(env, [0.0, FAR, 40.0, FAR], [OWN_LANE] * 4, [25.0] * 4)
    with pytest.raises(ValueError, match="out of range"):
        env.step(state, np.array([5, 1], np.int32))
    with pytest.raises(ValueError, match="shape"):
        env.step(state, np.array([1], np.int32))


def test_render_draws_the_road(small, tmp_path, assert_drawn):
    from marljax.viz import save_figure

    env, _ = small
    state = _state(env, [0.0, -60.0, 40.0, -150.0], [OWN_LANE] * 4, [25.0] * 4)
    assert_drawn(save_figure(env.render(state), tmp_path / "two_way.png"), min_height=100)


def test_npcs_drive_by_the_shared_idm(played):
    """The NPCs' lane-keeping IDM equals the shared code's ``npc_decisions`` for vehicles that keep
    their lane, on every state the idle and random episodes visited, in both directions' frames."""
    from marljax.envs.traffic.common import lane_neighbours, npc_decisions
    from marljax.envs.traffic.two_way.generator import ROAD

    env, idle, random = played
    states = jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a, b]).reshape((-1,) + a.shape[2:]), idle, random)
    vehicles = states.states.vehicles

    def both(vehicles, frame):
        seen = in_frame(vehicles, env.scene.direction, frame)
        front, rear = lane_neighbours(ROAD, seen.position)
        return env._lane_keeping_idm(seen), npc_decisions(ROAD, seen, front, rear)[0]

    for frame in (1, -1):
        ours, shared = jax.jit(jax.vmap(both, in_axes=(0, None)), static_argnums=1)(vehicles, frame)
        npc = (env.scene.direction == frame) & (np.arange(env.num_vehicles) >= env.num_agents)
        np.testing.assert_allclose(np.asarray(ours)[:, npc], np.asarray(shared)[:, npc], atol=1e-5)
        assert np.abs(np.asarray(ours)[:, npc]).max() > 1.0  # real braking and accelerating happened
