"""All vehicles of a traffic scene in fixed-size arrays, stepped together.

Vehicles ``0 .. num_controlled - 1`` are driven by meta-actions (learning agents), the rest by
IDM + MOBIL (:mod:`.drivers`). One simulation step (:func:`traffic_step`, highway-env's
``Road.act`` then ``Road.step``) is:

1. **Neighbours.** For every vehicle and every lane, the nearest vehicle ahead (``x_j >= x_i``)
   and behind (``x_j < x_i``) among those whose centre is on that lane (within half a lane width
   plus 1 m, highway-env's ``neighbour_vehicles``): ranks in ``x`` order (``M^2`` comparisons, cheaper
   than a comparator sort on CPU; :func:`x_order`), then one scan each way over the ranks carrying the
   nearest vehicle on every lane, ``O(M^2 + M * lanes)`` instead of ``O(M^2 * lanes)`` masks. The
   order is computed once per simulation step, after the move: collisions use it, and so does the
   next step's neighbour search (:func:`traffic_steps`).
2. **NPC decisions** (``IDMVehicle.act``): an NPC in the middle of a lane change aborts it when
   another vehicle heading into the same lane is ahead within its desired gap; otherwise, once its
   timer exceeds its lane-change delay (timer reset), it evaluates MOBIL on the lane to its left and
   then to its right (the right wins when both pass), if it moves (``|v| >= 1``). Its
   acceleration is the IDM behind its leader on its lane (and the smaller one behind the leader on
   the target lane while changing), clipped to ``+-a_max``.
3. **Controlled vehicles** track their target speed and lane (:mod:`.kinematics`).
4. **Integration** by the kinematic bicycle; crashed vehicles brake to a stop and stay (steering and
   integration in one, :func:`~.kinematics.steer_and_step`).
5. **Collisions**: vehicles whose boxes overlap (separating axes, :mod:`marljax.physics.boxes`)
   are crashed from then on; only pairs closer in ``x`` than two half-diagonals are tested (sort and
   sweep with the ``x`` order, :func:`~marljax.physics.boxes.any_box_overlap`), exact.

The lane-change abort compares only vehicles that are changing lanes (a handful at a time), listed
in a fixed capacity of 16; when more change lanes at once, the all-pairs test runs instead
(:func:`_at_most_once`: under ``vmap``, once for the whole batch and only if some scene needs it).

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
from marljax.envs.traffic.common.kinematics import LENGTH, WIDTH, speed_control, steer_and_step
from marljax.envs.traffic.common.road import ON_LANE_MARGIN, Road
from marljax.physics.boxes import any_box_overlap

__all__ = [
    "Vehicles",
    "init_vehicles",
    "x_order",
    "lane_neighbours",
    "npc_decisions",
    "traffic_step",
    "traffic_steps",
    "collisions",
]

#: lane-changing vehicles the abort test lists per scene before it falls back to all pairs.
CHANGING_CAPACITY = 16


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


def x_order(x: chex.Array) -> tuple[chex.Array, chex.Array]:
    """Places of vehicles in ``x`` order (ties by index, as a stable sort).

    Args:
        x: ``[M]`` longitudinal positions.

    Returns:
        ``(rank, order)``, each ``[M]`` int32: ``rank[i]`` is vehicle ``i``'s place, ``order[p]`` the
        vehicle at place ``p`` (``order[rank[i]] = i``).
    """
    m = x.shape[0]
    index = jnp.arange(m, dtype=jnp.int32)
    # Rank by counting who comes first: M^2 comparisons vectorise, while XLA's comparator sort of M keys costs
    # several times more on CPU. (Pair matrices are laid out [j, i] and summed over axis 0 in int16: the fastest
    # reduction on CPU.) The inverse permutation is a scatter, cheaper than a second [M, M] count.
    count_dtype = jnp.int16 if m < 2**15 else jnp.int32
    comes_first = (x[:, None] < x[None, :]) | ((x[:, None] == x[None, :]) & (index[:, None] < index[None, :]))
    rank = jnp.sum(comes_first, axis=0, dtype=count_dtype).astype(jnp.int32)
    order = jnp.zeros(m, jnp.int32).at[rank].set(index, unique_indices=True)
    return rank, order


def lane_neighbours(
    road: Road, position: chex.Array, ranking: tuple[chex.Array, chex.Array] | None = None
) -> tuple[chex.Array, chex.Array]:
    """Index of the nearest vehicle ahead and behind each vehicle on each lane.

    A vehicle ``j != i`` is on lane ``l`` when ``|y_j - y_l| <= lane_width / 2 + 1``; it is ahead of
    ``i`` when ``x_j >= x_i`` (behind when ``x_j < x_i``). Ties in ``x`` are broken by index.

    Args:
        road: the road.
        position: ``[M, 2]`` vehicle centres.
        ranking: ``x_order(position[:, 0])`` when already known.

    Returns:
        ``(front, rear)``, each ``[M, lanes]`` int32; ``M`` where there is no such vehicle.
    """
    m = position.shape[0]
    rank, order = x_order(position[:, 0]) if ranking is None else ranking
    lanes = jnp.arange(road.num_lanes)
    on_lane = road.on_lane(position[order, 1][:, None], lanes[None, :], ON_LANE_MARGIN)  # [M, lanes], x-sorted
    # The nearest on-lane vehicle at or after / at or before each sorted slot: a scan over the M slots with
    # [lanes] carries (cheaper on CPU for batched envs than lax.cummin's log-depth scan), carrying the vehicle
    # itself so that no slot-to-vehicle lookup follows; padded with "no vehicle" (M) so that slot +-1 exists.
    # Carried in int8 when M fits: the scans move a quarter of the bytes.
    carry_dtype = jnp.int8 if m < 127 else jnp.int32
    no_vehicle = jnp.full((1, road.num_lanes), m, carry_dtype)
    vehicle_rows = (on_lane, order.astype(carry_dtype))
    _, next_vehicle = jax.lax.scan(_last_on_lane, no_vehicle[0], vehicle_rows, reverse=True)
    _, prev_vehicle = jax.lax.scan(_last_on_lane, no_vehicle[0], vehicle_rows)
    front = jnp.concatenate([next_vehicle, no_vehicle])[rank + 1]  # strictly after i in x order
    rear = jnp.concatenate([no_vehicle, prev_vehicle])[rank]  # row rank of the padded table = slot rank - 1
    return front.astype(jnp.int32), rear.astype(jnp.int32)


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
    acceleration, target, timer, _ = _npc_decisions(road, vehicles, front, rear)
    return acceleration, target, timer


def _npc_decisions(road: Road, vehicles: Vehicles, front: chex.Array, rear: chex.Array):
    """:func:`npc_decisions`, also returning ``(cos, sin)`` of the headings as computed once for them."""
    m = vehicles.speed.shape[0]
    me = jnp.arange(m)
    x, y = vehicles.position[:, 0], vehicles.position[:, 1]
    lane = road.closest_lane(y)
    cos, sin = jnp.cos(vehicles.heading), jnp.sin(vehicles.heading)
    # One row per vehicle (plus a "no vehicle" row M): one gather per neighbour lookup, not five.
    table = _padded(jnp.stack([x, vehicles.speed, cos, sin, vehicles.target_speed], -1))
    # The deciders' own rows are read through a gather too, with an index XLA cannot prove to be the identity:
    # from a slice table[:m], XLA would fuse the trigonometry into every consumer, evaluating cos and sin once per
    # IDM evaluation (about ten) instead of once per vehicle.
    own = table[jnp.where(front[:, 0] < 0, m, me)]
    x, cos, sin = own[:, 0], own[:, 2], own[:, 3]
    driver = vehicles.driver

    def acc(ego, lead):
        """IDM acceleration of vehicles ``ego`` behind ``lead`` (``(index, row)`` pairs, rows of ``table``;
        ``None`` = the deciders themselves), computed with each decider's parameters."""
        e = own if ego is None else ego[1]
        f = own if lead is None else lead[1]
        closing_speed = e[:, 1] - f[:, 1] * (f[:, 2] * e[:, 2] + f[:, 3] * e[:, 3])
        has_front = jnp.full((m,), True) if lead is None else lead[0] < m
        a = idm_from_closing_speed(
            driver, e[:, 1], e[:, 4], road.speed_limit, has_front, f[:, 0] - e[:, 0], closing_speed
        )
        return a if ego is None else jnp.where(ego[0] < m, a, 0.0)  # no vehicle, no acceleration

    # --- lane change policy ------------------------------------------------------------------
    changing = lane != vehicles.target_lane
    abort = changing & _abort(vehicles, driver, x, cos, sin, lane, changing)

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
    return acceleration, target, timer, (cos, sin)


def _abort(
    vehicles: Vehicles, driver: DriverParams, x: chex.Array, cos: chex.Array, sin: chex.Array, lane, changing
) -> chex.Array:
    """``[M]`` bool: whether some ``j`` heading into ``i``'s target lane (``target_j = target_i != lane_j``)
    is ahead of ``i`` within ``i``'s desired gap: ``0 < x_j - x_i < d*_ij`` (meaningful for changing ``i``).

    ``d*_ij = A_i - B_i v_j cos(psi_j - psi_i)`` is IDM's gap, expanded so that a pair costs two
    multiply-adds (``j = i`` drops out since ``x_i - x_i = 0``). Both vehicles of a conflicting pair are
    changing lanes, so only those are compared: the first ``CHANGING_CAPACITY`` of them, listed; all
    ``M^2`` pairs when more change lanes at once.
    """
    m = x.shape[0]
    two_sqrt_ab = 2 * jnp.sqrt(driver.comfort_acc * driver.comfort_dec)
    gap_fixed = driver.distance_wanted + vehicles.speed * driver.time_wanted + jnp.square(vehicles.speed) / two_sqrt_ab
    gap_slope = vehicles.speed / two_sqrt_ab
    vx, vy, slope_x, slope_y, reach = (
        vehicles.speed * cos,
        vehicles.speed * sin,
        gap_slope * cos,
        gap_slope * sin,
        x + gap_fixed,
    )
    columns = (x, vx, vy, slope_x, slope_y, reach, vehicles.target_lane, lane)

    def conflicts(columns):
        """Pairs laid out [j, i] (other, decider), reduced over axis 0: XLA's fastest "any" on CPU."""
        x, vx, vy, slope_x, slope_y, reach, target, lane = columns
        within_gap = x[:, None] + slope_x[None, :] * vx[:, None] + slope_y[None, :] * vy[:, None] < reach[None, :]
        heading_there = (target[:, None] == target[None, :]) & (lane[:, None] != target[None, :])
        return jnp.any(heading_there & (x[:, None] > x[None, :]) & within_gap, axis=0)

    capacity = min(CHANGING_CAPACITY, m)
    # Place of each changing vehicle in the list (a running count; a scan is cheaper than cumsum on CPU).
    _, place = jax.lax.scan(lambda n, c: (n + c, n), jnp.int32(0), changing.astype(jnp.int32))
    place = jnp.where(changing & (place < capacity), place, capacity)
    listed = jnp.zeros(capacity + 1, jnp.int32).at[place].set(jnp.arange(m, dtype=jnp.int32))[:capacity]
    # Unused list entries repeat the first listed vehicle: duplicates change no "any", and only the listed
    # deciders' results are read back.
    listed = jnp.where(jnp.arange(capacity) < jnp.sum(changing), listed, listed[0])
    abort = jnp.concatenate([conflicts(tuple(c[listed] for c in columns)), jnp.zeros(1, bool)])[place]
    return _at_most_once(jnp.sum(changing) > capacity, conflicts, columns, abort)


def _at_most_once(needed: chex.Array, compute, operands, value: chex.Array) -> chex.Array:
    """``compute(operands)`` where ``needed``, else ``value``, by a loop that runs at most once.

    A ``lax.cond`` under ``vmap`` becomes a select that evaluates both branches for every element;
    the loop's body runs only if some element needs it (once, for the whole batch), and those that do
    not keep ``value``. (The operands are passed through the flag so that XLA cannot hoist the
    computation out of the loop, which would run it every time.)
    """

    def body(carry):
        needed, _ = carry
        return jnp.zeros_like(needed), compute(tuple(jnp.where(needed, a, jnp.zeros_like(a)) for a in operands))

    return jax.lax.while_loop(lambda c: c[0], body, (needed, value))[1]


def collisions(vehicles: Vehicles, order: chex.Array | None = None) -> chex.Array:
    """``[M]`` bool: whether each vehicle's box overlaps another's.

    Args:
        vehicles: the state.
        order: ``[M]`` the vehicles in ``x`` order (:func:`x_order`'s second output), when known.
    """
    if order is None:
        order = x_order(vehicles.position[:, 0])[1]
    return any_box_overlap(vehicles.position, vehicles.heading, LENGTH, WIDTH, order)


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
    return _step(road, vehicles, x_order(vehicles.position[:, 0]), num_controlled, dt)[0]


def traffic_steps(road: Road, vehicles: Vehicles, num_controlled: int, dt: float, num_steps: int) -> Vehicles:
    """``num_steps`` simulation steps (:func:`traffic_step` repeated), the ``x`` order carried from each
    step's collision test to the next step's neighbour search instead of being recomputed."""

    def body(_, carry):
        return _step(road, *carry, num_controlled, dt)

    ranking = x_order(vehicles.position[:, 0])
    return jax.lax.fori_loop(0, num_steps, body, (vehicles, ranking))[0]


def _step(road: Road, vehicles: Vehicles, ranking, num_controlled: int, dt: float):
    """:func:`traffic_step` given the ``x`` order of the vehicles; also returns the order after the step."""
    m = vehicles.speed.shape[0]
    controlled = jnp.arange(m) < num_controlled
    front, rear = lane_neighbours(road, vehicles.position, ranking)
    npc_acceleration, npc_target, npc_timer, (cos, sin) = _npc_decisions(road, vehicles, front, rear)
    # A crashed NPC takes no decisions (highway-env's IDMVehicle.act returns at once).
    keeps = controlled | vehicles.crashed
    target_lane = jnp.where(keeps, vehicles.target_lane, npc_target)
    timer = jnp.where(keeps, vehicles.timer, npc_timer) + dt
    acceleration = jnp.where(controlled, speed_control(vehicles.speed, vehicles.target_speed), npc_acceleration)
    position, heading, speed = steer_and_step(
        road,
        vehicles.position,
        vehicles.heading,
        vehicles.speed,
        target_lane,
        acceleration,
        vehicles.crashed,
        dt,
        cos_heading=cos,
        sin_heading=sin,
    )
    moved = vehicles.replace(position=position, heading=heading, speed=speed, target_lane=target_lane, timer=timer)
    ranking = x_order(position[:, 0])
    return moved.replace(crashed=vehicles.crashed | collisions(moved, ranking[1])), ranking
