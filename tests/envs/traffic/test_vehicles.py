"""Traffic physics against highway-env: oriented boxes, bicycle kinematics, controller, IDM and MOBIL."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from marljax.envs.traffic.common import (
    AGGRESSIVE,
    NORMAL,
    Road,
    Vehicles,
    apply_meta_action,
    bicycle_step,
    init_vehicles,
    lane_neighbours,
    npc_decisions,
    sample_driver_params,
    speed_control,
    steer_and_step,
    steering_control,
    traffic_step,
    traffic_steps,
    x_order,
)
from marljax.envs.traffic.highway.generator import HighwayGenerator
from marljax.physics.boxes import any_box_overlap, box_corners, one_vs_many_box_overlap, pairwise_box_overlap

highway_env = pytest.importorskip("highway_env")
from highway_env import utils as hw_utils  # noqa: E402
from highway_env.road.road import Road as HwRoad  # noqa: E402
from highway_env.road.road import RoadNetwork  # noqa: E402
from highway_env.vehicle.behavior import IDMVehicle  # noqa: E402
from highway_env.vehicle.controller import ControlledVehicle, MDPVehicle  # noqa: E402
from highway_env.vehicle.kinematics import Vehicle as HwVehicle  # noqa: E402

LANES = 4
ROAD = Road(LANES)
NETWORK = RoadNetwork.straight_road_network(LANES, length=10_000, speed_limit=ROAD.speed_limit)


def _hw_road():
    return HwRoad(network=NETWORK, np_random=np.random.default_rng(0))


# ----- oriented boxes ----------------------------------------------------------------------------
def test_box_corners_and_overlap_match_highway_env_polygons():
    rng = np.random.default_rng(0)
    m = 60
    centre = rng.uniform(0, 14, (m, 2))
    heading = rng.uniform(-np.pi, np.pi, m)
    length, width = rng.uniform(1, 6, m), rng.uniform(0.5, 3, m)
    corners = np.asarray(
        box_corners(jnp.asarray(centre), jnp.asarray(heading), jnp.asarray(length), jnp.asarray(width))
    )
    overlap = np.asarray(
        jax.jit(pairwise_box_overlap)(
            jnp.asarray(centre), jnp.asarray(heading), jnp.asarray(length), jnp.asarray(width)
        )
    )
    expected = np.zeros((m, m), bool)
    for i in range(m):
        for j in range(m):
            if i != j:
                a, b = np.vstack([corners[i], corners[i][:1]]), np.vstack([corners[j], corners[j][:1]])
                expected[i, j] = hw_utils.are_polygons_intersecting(a, b, np.zeros(2), np.zeros(2))[0]
    assert 0.05 < expected.mean() < 0.6  # a real mix of overlapping and separate pairs
    np.testing.assert_array_equal(overlap, expected)
    # Corners are highway-env's polygon (same set of points) for a vehicle-sized box.
    vehicle = HwVehicle(_hw_road(), centre[0], heading=float(heading[0]))
    ours = np.asarray(box_corners(jnp.asarray(centre[0]), jnp.asarray(heading[0]), 5.0, 2.0))
    theirs = vehicle.polygon()[:4]
    np.testing.assert_allclose(np.sort(ours, axis=0), np.sort(theirs, axis=0), atol=1e-5)
    # One-vs-many is a row of the pairwise matrix (self excluded there).
    row = one_vs_many_box_overlap(
        jnp.asarray(centre[3]), heading[3], length[3], width[3], jnp.asarray(centre), heading, length, width
    )
    np.testing.assert_array_equal(np.delete(np.asarray(row), 3), np.delete(overlap[3], 3))


def test_sort_and_sweep_overlap_equals_all_pairs():
    """any_box_overlap (sorted sweep, loop past the unrolled offsets) equals the all-pairs test bit for bit, on
    crowded scenes (up to ~20 boxes within reach of each other: the loop runs) and sparse ones, under vmap."""
    rng = np.random.default_rng(4)
    m, scenes = 30, 8
    spread = np.repeat([8.0, 40.0, 120.0, 4000.0], 2)[:, None]  # m boxes over this many metres of x
    centre = np.stack([1000 + rng.uniform(0, 1, (scenes, m)) * spread, rng.uniform(-2, 14, (scenes, m))], -1)
    heading = rng.normal(0, 0.4, (scenes, m))
    centre, heading = jnp.asarray(centre, jnp.float32), jnp.asarray(heading, jnp.float32)
    swept = jax.jit(jax.vmap(lambda c, h: any_box_overlap(c, h, 5.0, 2.0)))(centre, heading)
    expected = jax.vmap(lambda c, h: pairwise_box_overlap(c, h, 5.0, 2.0).any(0))(centre, heading)
    np.testing.assert_array_equal(swept, expected)
    hits = np.asarray(expected).mean(1)
    assert hits[0] > 0.9 and 0.1 < hits[4] < 0.9  # crowded and sparse scenes both occur
    # Touching counts as overlapping; a box 5 m ahead touches, one 5.01 m ahead does not.
    row = jnp.array([[0.0, 0.0], [5.0, 0.0], [105.0, 0.0], [110.01, 0.0]])
    np.testing.assert_array_equal(any_box_overlap(row, jnp.zeros(4), 5.0, 2.0), [True, True, False, False])


# ----- kinematics and controller ------------------------------------------------------------------
def test_bicycle_step_and_controller_equal_highway_env():
    rng = np.random.default_rng(1)
    m = 200
    position = rng.uniform([0, -2], [100, 14], (m, 2))
    heading = rng.normal(0, 0.3, m)
    speed = rng.uniform(-5, 45, m)  # includes speeds above the 40 m/s cap
    steering = rng.uniform(-1.0, 1.0, m)
    accel = rng.uniform(-8, 8, m)
    crashed = rng.uniform(size=m) < 0.2
    target_lane = rng.integers(0, LANES, m)
    target_speed = rng.uniform(15, 35, m)
    dt = 0.2
    new_pos, new_heading, new_speed = bicycle_step(
        jnp.asarray(position, jnp.float32),
        jnp.asarray(heading, jnp.float32),
        jnp.asarray(speed, jnp.float32),
        jnp.asarray(steering, jnp.float32),
        jnp.asarray(accel, jnp.float32),
        jnp.asarray(crashed),
        dt,
    )
    our_steer = steering_control(
        ROAD, jnp.asarray(position[:, 1]), jnp.asarray(heading), jnp.asarray(speed), target_lane
    )
    our_accel = speed_control(jnp.asarray(speed), jnp.asarray(target_speed))
    road = _hw_road()
    for i in range(m):
        v = ControlledVehicle(road, position[i].copy(), heading=heading[i], speed=speed[i])
        assert v.steering_control(("0", "1", int(target_lane[i]))) == pytest.approx(float(our_steer[i]), abs=1e-5)
        assert v.speed_control(target_speed[i]) == pytest.approx(float(our_accel[i]), rel=1e-5, abs=1e-5)
        v.crashed = bool(crashed[i])
        v.action = {"steering": steering[i], "acceleration": accel[i]}
        v.step(dt)
        np.testing.assert_allclose(new_pos[i], v.position, rtol=1e-5, atol=1e-4)
        assert float(new_heading[i]) == pytest.approx(v.heading, abs=1e-5)
        assert float(new_speed[i]) == pytest.approx(v.speed, abs=1e-4)


def test_fused_steering_and_bicycle_step_equal_the_two_steps():
    """steer_and_step (steering trigonometry solved) equals steering_control then bicycle_step, also where the
    steering clip binds, at speeds near zero and for crashed vehicles."""
    rng = np.random.default_rng(5)
    m = 400
    position = jnp.asarray(rng.uniform([0, -3], [100, 15], (m, 2)), jnp.float32)
    heading = jnp.asarray(rng.normal(0, 0.4, m), jnp.float32)
    speed = jnp.asarray(np.concatenate([rng.uniform(-5, 42, m - 20), rng.uniform(-0.02, 0.02, 20)]), jnp.float32)
    target_lane = jnp.asarray(rng.integers(0, LANES, m))
    accel = jnp.asarray(rng.uniform(-8, 8, m), jnp.float32)
    crashed = jnp.asarray(rng.uniform(size=m) < 0.2)
    steering = steering_control(ROAD, position[:, 1], heading, speed, target_lane)
    expected = bicycle_step(position, heading, speed, steering, accel, crashed, 0.2)
    fused = steer_and_step(ROAD, position, heading, speed, target_lane, accel, crashed, 0.2)
    clipped = np.isclose(np.abs(np.asarray(steering)), np.pi / 3)
    assert 20 < clipped.sum() < m - 100  # the clip binds for some vehicles, not for most
    for ours, theirs in zip(fused, expected):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=2e-5)


def test_meta_actions_equal_mdp_vehicle():
    rng = np.random.default_rng(2)
    m = 300
    speed = rng.uniform(10, 35, m)
    target_lane = rng.integers(0, LANES, m)
    action = rng.integers(0, 5, m)
    target_speed = np.array([20.0, 25.0, 30.0])[rng.integers(0, 3, m)]
    new_lane, new_speed = apply_meta_action(
        ROAD, jnp.asarray(action), jnp.asarray(speed), jnp.asarray(target_lane), jnp.asarray(target_speed)
    )
    names = ("LANE_LEFT", "IDLE", "LANE_RIGHT", "FASTER", "SLOWER")
    road = _hw_road()
    for i in range(m):
        v = MDPVehicle(road, np.array([50.0, 4.0 * target_lane[i]]), speed=speed[i], target_speed=target_speed[i])
        v.target_lane_index = ("0", "1", int(target_lane[i]))
        v.act(names[action[i]])
        assert v.target_lane_index[2] == int(new_lane[i])
        assert v.target_speed == pytest.approx(float(new_speed[i]))


# ----- IDM and MOBIL ------------------------------------------------------------------------------
def _random_scene(rng, m):
    """Vehicles around 4 lanes, some between lanes, some mid lane change, all driver types."""
    y = rng.integers(0, LANES, m) * 4.0 + rng.normal(0, 0.6, m)
    lane = np.clip(np.round(y / 4), 0, LANES - 1).astype(int)
    return dict(
        x=rng.uniform(50, 170, m),
        y=y,
        heading=rng.normal(0, 0.05, m),
        speed=rng.uniform(0, 35, m),
        target_speed=rng.uniform(15, 32, m),
        target_lane=np.clip(lane + rng.choice([-1, 0, 0, 0, 1], m), 0, LANES - 1),
        timer=rng.uniform(0, 1.5, m),
        driver_type=rng.integers(0, 3, m),
    )


def _as_vehicles(scene, key):
    m = len(scene["x"])
    return Vehicles(
        position=jnp.asarray(np.stack([scene["x"], scene["y"]], 1), jnp.float32),
        heading=jnp.asarray(scene["heading"], jnp.float32),
        speed=jnp.asarray(scene["speed"], jnp.float32),
        target_lane=jnp.asarray(scene["target_lane"], jnp.int32),
        target_speed=jnp.asarray(scene["target_speed"], jnp.float32),
        crashed=jnp.zeros(m, bool),
        timer=jnp.asarray(scene["timer"], jnp.float32),
        driver_type=jnp.asarray(scene["driver_type"], jnp.int32),
        driver=sample_driver_params(key, jnp.asarray(scene["driver_type"], jnp.int32)),
    )


def _hw_idm_vehicles(scene, params):
    """highway-env IDMVehicles of the scene with our per-vehicle parameters set on each."""
    road = _hw_road()
    for i in range(len(scene["x"])):
        v = IDMVehicle(
            road,
            np.array([scene["x"][i], scene["y"][i]], float),
            heading=float(scene["heading"][i]),
            speed=float(scene["speed"][i]),
            target_lane_index=("0", "1", int(scene["target_lane"][i])),
            target_speed=float(scene["target_speed"][i]),
            timer=float(scene["timer"][i]),
        )
        v.ACC_MAX, v.COMFORT_ACC_MAX = float(params.acc_max[i]), float(params.comfort_acc[i])
        v.COMFORT_ACC_MIN = -float(params.comfort_dec[i])
        v.DISTANCE_WANTED, v.TIME_WANTED = float(params.distance_wanted[i]), float(params.time_wanted[i])
        v.DELTA, v.POLITENESS = float(params.delta[i]), float(params.politeness[i])
        v.LANE_CHANGE_MIN_ACC_GAIN = float(params.lane_change_threshold[i])
        v.LANE_CHANGE_MAX_BRAKING_IMPOSED = float(params.max_braking_imposed[i])
        v.LANE_CHANGE_DELAY = float(params.lane_change_delay[i])
        road.vehicles.append(v)
    return road.vehicles


def test_idm_accelerations_and_mobil_decisions_equal_highway_env():
    """Every vehicle's IDM acceleration and lane-change decision (MOBIL, abort, timer) in 150 random
    scenes of 12 vehicles (1,800 decisions) equals highway-env's ``IDMVehicle.act`` with our parameters."""
    rng = np.random.default_rng(3)
    decide = jax.jit(lambda v: npc_decisions(ROAD, v, *lane_neighbours(ROAD, v.position)))
    num_scenes, m = 150, 12
    ours_acc, theirs_acc, ours_lane, theirs_lane, old_lane = [], [], [], [], []
    for s in range(num_scenes):
        scene = _random_scene(rng, m)
        vehicles = _as_vehicles(scene, jax.random.PRNGKey(s))
        acceleration, target, _ = decide(vehicles)
        hw = _hw_idm_vehicles(scene, jax.tree_util.tree_map(np.asarray, vehicles.driver))
        for i, v in enumerate(hw):
            for j, w in enumerate(hw):  # decisions taken simultaneously: every vehicle sees the old targets
                w.target_lane_index = ("0", "1", int(scene["target_lane"][j]))
            v.act()
            theirs_acc.append(v.action["acceleration"])
            theirs_lane.append(v.target_lane_index[2])
        ours_acc.extend(np.asarray(acceleration))
        ours_lane.extend(np.asarray(target))
        old_lane.extend(scene["target_lane"])
    ours_acc, theirs_acc = np.array(ours_acc), np.array(theirs_acc)
    np.testing.assert_allclose(ours_acc, theirs_acc, rtol=1e-3, atol=1e-3)
    np.testing.assert_array_equal(ours_lane, theirs_lane)
    changed = np.array(theirs_lane) != np.array(old_lane)
    assert changed.sum() > 200  # MOBIL changes and aborts do happen in these scenes
    assert (theirs_acc < -1).sum() > 200 and (theirs_acc > 0.5).sum() > 200  # braking and accelerating


def test_x_order_and_lane_neighbours_equal_brute_force():
    """Ranks (ties in x by index) and every vehicle's nearest vehicle ahead/behind on every lane equal a
    direct search over all vehicles, including vehicles between lanes (on two lanes) and equal x."""
    rng = np.random.default_rng(6)
    m = 40
    x = np.round(rng.uniform(0, 120, m), 0).astype(np.float32)  # whole metres: many ties
    y = (rng.integers(0, LANES, m) * 4.0 + rng.normal(0, 1.2, m)).astype(np.float32)
    rank, order = x_order(jnp.asarray(x))
    np.testing.assert_array_equal(order, np.lexsort((np.arange(m), x)))
    np.testing.assert_array_equal(np.asarray(order)[np.asarray(rank)], np.arange(m))
    front, rear = map(np.asarray, lane_neighbours(ROAD, jnp.asarray(np.stack([x, y], 1))))
    key = list(zip(x, np.arange(m)))
    for i in range(m):
        for lane in range(LANES):
            on = [j for j in range(m) if j != i and abs(y[j] - 4.0 * lane) <= 3.0]
            ahead = [j for j in on if key[j] > key[i]]
            behind = [j for j in on if key[j] < key[i]]
            assert front[i, lane] == (min(ahead, key=lambda j: key[j]) if ahead else m)
            assert rear[i, lane] == (max(behind, key=lambda j: key[j]) if behind else m)


def test_lane_change_aborts_equal_highway_env_beyond_the_list_capacity():
    """Scenes where more vehicles change lanes at once than the abort test lists (16) take the all-pairs path:
    batched with a scene that does not (under vmap the fallback runs once for the batch), both scenes'
    decisions equal highway-env's ``IDMVehicle.act``."""
    rng = np.random.default_rng(7)
    m = 24
    decide = jax.jit(jax.vmap(lambda v: npc_decisions(ROAD, v, *lane_neighbours(ROAD, v.position))))
    scenes = [_random_scene(rng, m) for _ in range(2)]
    for scene, changes in zip(scenes, (m, 4)):  # every vehicle changing lanes / only four
        lane = np.clip(np.round(scene["y"] / 4), 0, LANES - 1).astype(int)
        step = np.where(lane == 0, 1, np.where(lane == LANES - 1, -1, rng.choice([-1, 1], m)))
        scene["target_lane"] = np.where(np.arange(m) < changes, lane + step, lane)
        scene["x"] = rng.uniform(50, 110, m)  # crowded: aborts happen
    batch = [_as_vehicles(scene, jax.random.PRNGKey(10 + k)) for k, scene in enumerate(scenes)]
    acceleration, target, _ = decide(jax.tree_util.tree_map(lambda *a: jnp.stack(a), *batch))
    aborted = 0
    for k, (scene, vehicles) in enumerate(zip(scenes, batch)):
        hw = _hw_idm_vehicles(scene, jax.tree_util.tree_map(np.asarray, vehicles.driver))
        for i, v in enumerate(hw):
            for j, w in enumerate(hw):
                w.target_lane_index = ("0", "1", int(scene["target_lane"][j]))
            v.act()
            assert int(target[k, i]) == v.target_lane_index[2], (k, i)
            assert float(acceleration[k, i]) == pytest.approx(v.action["acceleration"], rel=1e-3, abs=1e-3)
            aborted += int(v.target_lane_index[2] != scene["target_lane"][i])
    assert aborted >= 3  # aborts do happen in the crowded scenes


# ----- traffic ------------------------------------------------------------------------------------
def test_normal_traffic_runs_10000_steps_without_a_crash():
    road = Road(4)
    vehicles = HighwayGenerator(road, 1, 24, "mild", spawn_length=300.0)(jax.random.PRNGKey(1))
    normal = jnp.full_like(vehicles.driver_type, NORMAL)
    vehicles = vehicles.replace(driver_type=normal, driver=sample_driver_params(jax.random.PRNGKey(2), normal))

    @jax.jit
    def run(vehicles):
        def step(v, _):
            new = traffic_step(road, v, 0, 0.2)  # no controlled vehicle: 25 NPCs
            decisions = jnp.sum(new.target_lane != v.target_lane)  # lane changes started (or aborted)
            return new, (new.crashed.any(), new.speed.min(), new.speed.max(), decisions)

        return jax.lax.scan(step, vehicles, None, length=10_000)

    final, (crashed, low, high, lane_changes) = run(vehicles)
    assert not bool(crashed.any())
    assert float(low.min()) >= 0.0 and float(high.max()) <= road.speed_limit + 1e-3
    assert int(lane_changes.sum()) >= 5  # lanes do change: it is traffic, not parallel cruising
    assert float(jnp.ptp(final.position[:, 0])) > 300  # vehicles moved relative to each other


def test_crashed_vehicles_stop_and_stay():
    road = Road(1)
    # An aggressive NPC at 30 m/s closing on a crashed vehicle standing 30 m ahead on a one-lane road
    # (no way round), a third far ahead: it cannot brake from 30 m/s within 25 m at 9 m/s^2 (needs 50 m).
    position = jnp.array([[0.0, 0.0], [30.0, 0.0], [1000.0, 0.0]])
    vehicles = init_vehicles(
        jax.random.PRNGKey(0), road, position, jnp.array([30.0, 0.0, 20.0]), jnp.array([AGGRESSIVE, NORMAL, NORMAL])
    )
    vehicles = vehicles.replace(crashed=jnp.array([False, True, False]), target_speed=jnp.array([30.0, 20.0, 20.0]))

    def step(v, _):
        v = traffic_step(road, v, 0, 0.2)
        return v, (v.crashed, v.speed, v.position)

    _, (crashed, speed, pos) = jax.lax.scan(step, vehicles, None, length=100)
    crashed, speed, pos = map(np.asarray, (crashed, speed, pos))
    hit = int(np.argmax(crashed[:, 0]))
    assert crashed[hit:, 0].all() and crashed[:, 1].all() and not crashed[:, 2].any()
    assert 0 < hit < 25
    np.testing.assert_allclose(speed[-1, :2], 0.0, atol=1e-3)  # both brake to a stop ...
    np.testing.assert_allclose(pos[-1, :2], pos[-10, :2], atol=1e-2)  # ... and stay where they are
    assert speed[-1, 2] > 15  # the uninvolved vehicle keeps driving


def test_traffic_steps_equal_repeated_traffic_step():
    """traffic_steps (the x order carried from each step's collision test to the next step) equals
    traffic_step applied repeatedly, crashes included."""
    road = Road(3)
    vehicles = HighwayGenerator(road, 2, 16, "chaotic", spawn_length=200.0)(jax.random.PRNGKey(3))
    vehicles = vehicles.replace(target_lane=vehicles.target_lane.at[:2].set(jnp.array([0, 2])))
    carried = jax.jit(lambda v: traffic_steps(road, v, 2, 0.2, 40))(vehicles)
    repeated = jax.jit(lambda v: jax.lax.fori_loop(0, 40, lambda _, v: traffic_step(road, v, 2, 0.2), v))(vehicles)
    np.testing.assert_array_equal(carried.crashed, repeated.crashed)
    np.testing.assert_array_equal(carried.target_lane, repeated.target_lane)
    np.testing.assert_allclose(carried.position, repeated.position, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(carried.speed, repeated.speed, atol=1e-3)
