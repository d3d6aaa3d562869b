"""All vehicles of a traffic scene in fixed-size arrays, stepped together.

Vehicles ``0 .. num_controlled - 1`` are driven by meta-actions (learning agents), the rest by
IDM + MOBIL (:mod:`.drivers`). One simulation step (:func:`traffic_step`, highway-env's
``Road.act`` then ``Road.step``) is:

1. **Neighbours.** For every vehicle and every lane, the nearest vehicle ahead (``x_j >= x_i``)
   and behind (``x_j < x_i``) among those whose centre is on that lane (within half a lane width
   plus 1 m, highway-env's ``neighbour_vehicles``): ranks in ``x`` order (``M^2`` comparisons, cheaper
   than a comparator sort on CPU), then one scan each way over the ranks carrying the nearest vehicle on
   every lane, ``O(M^2 + M * lanes)`` instead of ``O(M^2 * lanes)`` masks.
2. **NPC decisions** (``IDMVehicle.act``): an NPC in the middle of a lane change aborts it when
   another vehicle heading into the same lane is ahead within its desired gap; otherwise, once its
   timer exceeds its lane-change delay (timer reset), it evaluates MOBIL on the lane to its left and
   then to its right (the right wins when both pass), if it moves (``|v| >= 1``). Its
   acceleration is the IDM behind its leader on its lane (and the smaller one behind the leader on
   the target lane while changing), clipped to ``+-a_max``.
3. **Controlled vehicles** track their target speed and lane (:mod:`.kinematics`).
4. **Integration** by the kinematic bicycle; crashed vehicles brake to a stop and stay.
5. **Collisions**: vehicles whose boxes overlap (separating axes, :mod:`marljax.physics.boxes`)
   are crashed from then on.

Differences from highway-env, by design: decisions of one step are taken simultaneously (highway-env
loops over vehicles, so a later vehicle's abort check sees an earlier one's new target lane), the
road is unbounded in ``x``, and overlapping vehicles are not pushed apart (highway-env's
``impact``); they are crashed either way.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp

from marljax.envs.traffic.common.drivers import DriverParams, idm_from_closing_speed, sample_driver_params
from marljax.envs.traffic.common.kinematics import LENGTH, WIDTH, bicycle_step, speed_control, steering_control
from marljax.envs.traffic.common.road import ON_LANE_MARGIN, Road
from marljax.physics.boxes import materialised, pairwise_box_overlap

__all__ = ["Vehicles", "init_vehicles", "lane_neighbours", "npc_decisions", "traffic_step", "collisions"]


@chex.dataclass
class Vehicles:
    """The state of ``M`` vehicles (controlled ones first).

    Attributes:
        position: ``[M, 2]`` centre (m).
        heading: ``[M]`` rad (0 = along the road).
        speed: ``[M]`` m/s.
        target_lane: ``[M]`` int32, the lane the lateral controller steers to.
        target_speed: ``[M]`` m/s (controlled: the meta-action's; NPC: IDM's desired speed v0).
        crashed: ``[M]`` bool; a crashed vehicle brakes to a stop and stays crashed.
        timer: ``[M]`` s since the last MOBIL evaluation.
        driver_type: ``[M]`` int32 (NORMAL, AGGRESSIVE, DEFENSIVE; rendering and analysis only).
        driver: :class:`DriverParams` of ``[M]`` arrays (ignored for controlled vehicles).
    """

    position: chex.Array
    heading: chex.Array
    speed: chex.Array
    target_lane: chex.Array
    target_speed: chex.Array
    crashed: chex.Array
    timer: chex.Array
    driver_type: chex.Array
    driver: DriverParams


def init_vehicles(
    key: chex.PRNGKey,
    road: Road,
    position: chex.Array,
    speed: chex.Array,
    driver_type: chex.Array,
    target_speed: chex.Array | None = None,
) -> Vehicles:
    """Vehicles heading along the road, uncrashed, each targeting its closest lane.

    Args:
        key: PRNG key (IDM exponents ``delta`` and the initial lane-change timers, U[0, delay)).
        road: the road.
        position: ``[M, 2]`` centres; speed: ``[M]``.
        driver_type: ``[M]`` int32 driver type ids (any value for controlled vehicles).
        target_speed: ``[M]`` desired speeds; default the initial speeds (highway-env's default).

    Returns:
        The :class:`Vehicles`.
    """
    key_delta, key_timer = jax.random.split(key)
    m = speed.shape[0]
    driver_type = jnp.asarray(driver_type, jnp.int32)
    driver = sample_driver_params(key_delta, driver_type)
    speed = jnp.asarray(speed, jnp.float32)
    return Vehicles(
        position=jnp.asarray(position, jnp.float32),
        heading=jnp.zeros(m, jnp.float32),
        speed=speed,
        target_lane=road.closest_lane(position[:, 1]),
        target_speed=speed if target_speed is None else jnp.asarray(target_speed, jnp.float32),
        crashed=jnp.zeros(m, bool),
        timer=jax.random.uniform(key_timer, (m,), jnp.float32) * driver.lane_change_delay,
        driver_type=driver_type,
        driver=driver,
    )


def lane_neighbours(road: Road, position: chex.Array) -> tuple[chex.Array, chex.Array]:
    """Index of the nearest vehicle ahead and behind each vehicle on each lane.

    A vehicle ``j != i`` is on lane ``l`` when ``|y_j - y_l| <= lane_width / 2 + 1``; it is ahead of
    ``i`` when ``x_j >= x_i`` (behind when ``x_j < x_i``). Ties in ``x`` are broken by index.

    Args:
        road: the road.
        position: ``[M, 2]`` vehicle centres.

    Returns:
        ``(front, rear)``, each ``[M, lanes]`` int32; ``M`` where there is no such vehicle.
    """
    m = position.shape[0]
    x = position[:, 0]
    index = jnp.arange(m, dtype=jnp.int32)
    # Rank in x order (ties by index, as a stable sort) by counting who comes first: M^2 comparisons vectorise,
    # while XLA's comparator sort of M keys costs several times more on CPU. order[rank[i]] = i. (Pair
    # matrices are laid out [j, i] and summed over axis 0 in int16: the fastest reduction on CPU.)
    count_dtype = jnp.int16 if m < 2**15 else jnp.int32
    comes_first = (x[:, None] < x[None, :]) | ((x[:, None] == x[None, :]) & (index[:, None] < index[None, :]))
    rank = jnp.sum(comes_first, axis=0, dtype=count_dtype).astype(jnp.int32)
    is_slot = rank[:, None] == index[None, :]
    order = jnp.sum(jnp.where(is_slot, index[:, None], 0), axis=0, dtype=count_dtype).astype(jnp.int32)
    lanes = jnp.arange(road.num_lanes)
    on_lane = road.on_lane(position[order, 1][:, None], lanes[None, :], ON_LANE_MARGIN)  # [M, lanes], x-sorted
    # The nearest on-lane vehicle at or after / at or before each sorted slot: a scan over the M slots with
    # [lanes] carries (cheaper on CPU for batched envs than lax.cummin's log-depth scan), carrying the vehicle
    # itself so that no slot-to-vehicle lookup follows; padded with "no vehicle" (M) so that slot +-1 exists.
    no_vehicle = jnp.full((1, road.num_lanes), m, jnp.int32)
    vehicle_rows = (on_lane, order)
    _, next_vehicle = jax.lax.scan(_last_on_lane, no_vehicle[0], vehicle_rows, reverse=True)
    _, prev_vehicle = jax.lax.scan(_last_on_lane, no_vehicle[0], vehicle_rows)
    front = jnp.concatenate([next_vehicle, no_vehicle])[rank + 1]  # strictly after i in x order
    rear = jnp.concatenate([no_vehicle, prev_vehicle])[rank]  # row rank of the padded table = slot rank - 1
    return front, rear


def _last_on_lane(carry, row):
    """Scan body: per lane, the latest vehicle seen on it (``row = (on_lane [lanes], vehicle)`` of one slot)."""
    on_lane, vehicle = row
    carry = jnp.where(on_lane, vehicle, carry)
    return carry, carry


def _padded(x: chex.Array, fill=0.0) -> chex.Array:
    """``x`` with one extra row (index ``M`` = "no vehicle")."""
    return jnp.concatenate([x, jnp.full((1, *x.shape[1:]), fill, x.dtype)])


def npc_decisions(
    road: Road, vehicles: Vehicles, front: chex.Array, rear: chex.Array
) -> tuple[chex.Array, chex.Array, chex.Array]:
    """IDM + MOBIL decisions of every vehicle as if all were NPCs (the caller keeps the NPCs').

    Args:
        road: the road.
        vehicles: the current state.
        front, rear: ``[M, lanes]`` from :func:`lane_neighbours`.

    Returns:
        ``(acceleration, target_lane, timer)``: the clipped IDM acceleration, the target lane after
        the lane-change policy, and the lane-change timer (reset when MOBIL was evaluated).
    """
    m = vehicles.speed.shape[0]
    me = jnp.arange(m)
    x, y = vehicles.position[:, 0], vehicles.position[:, 1]
    lane = road.closest_lane(y)
    cos, sin = jnp.cos(vehicles.heading), jnp.sin(vehicles.heading)
    # One row per vehicle (plus a "no vehicle" row M): one gather per neighbour lookup, not five.
    table = _padded(jnp.stack([x, vehicles.speed, cos, sin, vehicles.target_speed], -1))
    driver = vehicles.driver

    def acc(ego, lead):
        """IDM acceleration of vehicles ``ego`` behind ``lead`` (``(index, row)`` pairs, rows of ``table``;
        ``None`` = the deciders themselves), computed with each decider's parameters."""
        e = table[:m] if ego is None else ego[1]
        f = table[:m] if lead is None else lead[1]
        closing_speed = e[:, 1] - f[:, 1] * (f[:, 2] * e[:, 2] + f[:, 3] * e[:, 3])
        has_front = jnp.full((m,), True) if lead is None else lead[0] < m
        a = idm_from_closing_speed(
            driver, e[:, 1], e[:, 4], road.speed_limit, has_front, f[:, 0] - e[:, 0], closing_speed
        )
        return a if ego is None else jnp.where(ego[0] < m, a, 0.0)  # no vehicle, no acceleration

    # --- lane change policy ------------------------------------------------------------------
    changing = lane != vehicles.target_lane
    # Abort when some j (not yet on my target lane, but heading there) is ahead within my desired gap:
    # 0 < x_j - x_i < d*_ij with d*_ij = A_i - B_i v_j cos(psi_j - psi_i) (IDM's gap, expanded so that the
    # [M, M] test is two multiply-adds per pair; j = i drops out since x_i - x_i = 0).
    two_sqrt_ab = 2 * jnp.sqrt(driver.comfort_acc * driver.comfort_dec)
    gap_fixed = driver.distance_wanted + vehicles.speed * driver.time_wanted + jnp.square(vehicles.speed) / two_sqrt_ab
    gap_slope = vehicles.speed / two_sqrt_ab
    # Per-vehicle terms materialised: fused into the [M, M] loop, their trigonometry, square root and
    # division would be re-evaluated per pair.
    vx, vy, slope_x, slope_y, reach = materialised(
        vehicles.speed * cos, vehicles.speed * sin, gap_slope * cos, gap_slope * sin, x + gap_fixed
    )
    # Pairs laid out [j, i] (other, decider) and reduced over axis 0: XLA's fastest "any" on CPU.
    within_gap = x[:, None] + slope_x[None, :] * vx[:, None] + slope_y[None, :] * vy[:, None] < reach[None, :]
    heading_there = (vehicles.target_lane[:, None] == vehicles.target_lane[None, :]) & (
        lane[:, None] != vehicles.target_lane[None, :]
    )
    conflict = heading_there & (x[:, None] > x[None, :]) & within_gap
    abort = changing & jnp.any(conflict, axis=0)

    # Every neighbour the decisions read: front and rear on the current lane, on the lanes left and right of
    # it (clipped to the road), and the front on the current target lane. (Separate gathers: XLA fuses each
    # into its consumer; one [M, 7] gather is materialised and costs more.)
    left, right = jnp.clip(lane - 1, 0, road.num_lanes - 1), jnp.clip(lane + 1, 0, road.num_lanes - 1)
    old_front, old_rear, left_front, left_rear, right_front, right_rear, target_front = (
        (index, table[index])
        for index in (
            front[me, lane],
            rear[me, lane],
            front[me, left],
            rear[me, left],
            front[me, right],
            rear[me, right],
            front[me, vehicles.target_lane],
        )
    )
    self_a = acc(None, old_front)
    old_follower_a = acc(old_rear, None)
    old_follower_pred_a = acc(old_rear, old_front)

    def mobil(candidate, new_front, new_rear):
        """Whether MOBIL changes to lane ``candidate`` (with its new leader and follower), and the
        decider's acceleration behind the new leader."""
        valid = (candidate >= 0) & (candidate < road.num_lanes)
        new_follower_a = acc(new_rear, new_front)
        new_follower_pred_a = acc(new_rear, None)
        safe = new_follower_pred_a >= -driver.max_braking_imposed
        behind_new_front = acc(None, new_front)
        gain = (
            behind_new_front
            - self_a
            + driver.politeness * (new_follower_pred_a - new_follower_a + old_follower_pred_a - old_follower_a)
        )
        return valid & safe & (gain >= driver.lane_change_threshold), behind_new_front

    due = ~changing & (vehicles.timer > driver.lane_change_delay)
    moving = jnp.abs(vehicles.speed) >= 1.0
    to_left, behind_left_front = mobil(lane - 1, left_front, left_rear)
    to_right, behind_right_front = mobil(lane + 1, right_front, right_rear)
    to_left, to_right = due & moving & to_left, due & moving & to_right
    target = jnp.where(to_right, lane + 1, jnp.where(to_left, lane - 1, vehicles.target_lane))
    target = jnp.where(abort, lane, target).astype(jnp.int32)
    timer = jnp.where(due, 0.0, vehicles.timer)

    # --- longitudinal: IDM on the current lane, and on the target lane while changing -----------
    acceleration = self_a
    # Behind the leader on the target lane: MOBIL's value for a new change, else the ongoing change's target.
    behind_target_front = jnp.where(
        to_right, behind_right_front, jnp.where(to_left, behind_left_front, acc(None, target_front))
    )
    acceleration = jnp.where(target != lane, jnp.minimum(acceleration, behind_target_front), acceleration)
    acceleration = jnp.clip(acceleration, -driver.acc_max, driver.acc_max)
    return acceleration, target, timer


def collisions(vehicles: Vehicles) -> chex.Array:
    """``[M]`` bool: whether each vehicle's box overlaps another's."""
    overlap = pairwise_box_overlap(vehicles.position, vehicles.heading, LENGTH, WIDTH)
    return jnp.any(overlap, axis=0)  # symmetric; XLA reduces over the major axis faster on CPU


def traffic_step(road: Road, vehicles: Vehicles, num_controlled: int, dt: float) -> Vehicles:
    """One simulation step of all vehicles (see the module docstring).

    Args:
        road: the road.
        vehicles: the state; controlled vehicles' targets are set beforehand (meta-actions).
        num_controlled: how many leading vehicles follow their targets instead of IDM/MOBIL (static).
        dt: simulation step in s (highway-env's 1 / simulation_frequency).

    Returns:
        The state after the step.
    """
    m = vehicles.speed.shape[0]
    controlled = jnp.arange(m) < num_controlled
    front, rear = lane_neighbours(road, vehicles.position)
    npc_acceleration, npc_target, npc_timer = npc_decisions(road, vehicles, front, rear)
    # A crashed NPC takes no decisions (highway-env's IDMVehicle.act returns at once).
    keeps = controlled | vehicles.crashed
    target_lane = jnp.where(keeps, vehicles.target_lane, npc_target)
    timer = jnp.where(keeps, vehicles.timer, npc_timer) + dt
    acceleration = jnp.where(controlled, speed_control(vehicles.speed, vehicles.target_speed), npc_acceleration)
    steering = steering_control(road, vehicles.position[:, 1], vehicles.heading, vehicles.speed, target_lane)
    position, heading, speed = bicycle_step(
        vehicles.position, vehicles.heading, vehicles.speed, steering, acceleration, vehicles.crashed, dt
    )
    moved = vehicles.replace(position=position, heading=heading, speed=speed, target_lane=target_lane, timer=timer)
    return moved.replace(crashed=vehicles.crashed | collisions(moved))
