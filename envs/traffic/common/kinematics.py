"""Vehicle kinematics and the meta-action controller (highway-env's ``Vehicle``, ``ControlledVehicle``, ``MDPVehicle``).

**Kinematic bicycle** (highway-env ``Vehicle.step``, explicit Euler with step ``dt``), length ``L``:

    beta = arctan(tan(delta) / 2)
    x' = v cos(psi + beta),  y' = v sin(psi + beta),  psi' = v sin(beta) / (L / 2),  v' = a

Position moves with the old heading and speed, the heading with the old speed, the speed last.
The speed is kept in ``[-40, 40]`` by limiting the acceleration (``a <= 40 - v`` above the cap).
A crashed vehicle brakes to a stop: ``a = -v``, ``delta = 0``.

**Low-level controller** (``ControlledVehicle.steering_control`` / ``speed_control``) on a straight
lane with centre ``y_lane`` and heading 0:

    v_lat = -K_lat (y - y_lane),                       K_lat = 1 / 0.6 s
    psi_ref = clip(arcsin(clip(v_lat / v, -1, 1)), -pi/4, pi/4)
    psi_rate = K_psi wrap(psi_ref - psi),                K_psi = 1 / 0.2 s
    delta = clip(arctan(2 tan(arcsin(clip(L/2 psi_rate / v, -1, 1)))), -pi/3, pi/3)
    a = K_a (v_target - v),                              K_a = 1 / 0.6 s

with ``v`` replaced by +-0.01 near zero (highway-env's ``not_zero``). :func:`steer_and_step` is the
controller and the bicycle step in one, with the steering angle's inverse trigonometry cancelled.

**Meta-actions** (``MDPVehicle``): 0 lane left, 1 idle, 2 lane right, 3 faster, 4 slower. Lane
changes move the *target* lane by one (clipped to the road); faster/slower pick the target speed
one index above/below the index of the speed grid nearest to the *current* speed.

References:
    Leurent (2018), highway-env, ``highway_env/vehicle/kinematics.py`` and ``controller.py``.
    Polack, Altche, d'Andrea-Novel, de La Fortelle (2017), "The kinematic bicycle model: a
    consistent model for planning feasible trajectories for autonomous vehicles?", IV.
"""

from __future__ import annotations

import chex
import jax.numpy as jnp
import numpy as np

from marljax.envs.traffic.common.road import Road

__all__ = [
    "LENGTH",
    "WIDTH",
    "MAX_SPEED",
    "MAX_STEERING",
    "TAU_ACC",
    "TAU_HEADING",
    "TAU_LATERAL",
    "TARGET_SPEEDS",
    "LANE_LEFT",
    "IDLE",
    "LANE_RIGHT",
    "FASTER",
    "SLOWER",
    "META_ACTIONS",
    "not_zero",
    "wrap_to_pi",
    "bicycle_step",
    "steering_control",
    "speed_control",
    "steer_and_step",
    "apply_meta_action",
]

LENGTH, WIDTH = 5.0, 2.0  # m
MAX_SPEED = 40.0  # m/s, |v| <= MAX_SPEED
MAX_STEERING = jnp.pi / 3
TAU_ACC, TAU_HEADING, TAU_LATERAL = 0.6, 0.2, 0.6  # s
TAU_PURSUIT = 0.5 * TAU_HEADING  # look-ahead time of the lane heading (irrelevant on straight lanes)
TARGET_SPEEDS = (20.0, 25.0, 30.0)  # m/s, MDPVehicle.DEFAULT_TARGET_SPEEDS
LANE_LEFT, IDLE, LANE_RIGHT, FASTER, SLOWER = 0, 1, 2, 3, 4
META_ACTIONS = ("LANE_LEFT", "IDLE", "LANE_RIGHT", "FASTER", "SLOWER")


def not_zero(x: chex.Array, eps: float = 1e-2) -> chex.Array:
    """``x`` pushed away from zero to at least ``eps`` in magnitude (sign kept, 0 -> +eps)."""
    return jnp.where(jnp.abs(x) > eps, x, jnp.where(x >= 0, eps, -eps))


def wrap_to_pi(x: chex.Array) -> chex.Array:
    """Angle wrapped to ``[-pi, pi)``."""
    return (x + jnp.pi) % (2 * jnp.pi) - jnp.pi


def bicycle_step(
    position: chex.Array,
    heading: chex.Array,
    speed: chex.Array,
    steering: chex.Array,
    acceleration: chex.Array,
    crashed: chex.Array,
    dt: float,
    length: float = LENGTH,
) -> tuple[chex.Array, chex.Array, chex.Array]:
    """One explicit-Euler step of the kinematic bicycle model (see the module docstring).

    Args:
        position: ``[M, 2]``; heading, speed, steering, acceleration: ``[M]``.
        crashed: ``[M]`` bool; crashed vehicles get ``delta = 0``, ``a = -v``.
        dt: step in s.
        length: vehicle length ``L`` in m.

    Returns:
        ``(position, heading, speed)`` after the step.
    """
    steering = jnp.where(crashed, 0.0, steering)
    acceleration = jnp.where(crashed, -speed, acceleration)
    acceleration = jnp.where(speed > MAX_SPEED, jnp.minimum(acceleration, MAX_SPEED - speed), acceleration)
    acceleration = jnp.where(speed < -MAX_SPEED, jnp.maximum(acceleration, -MAX_SPEED - speed), acceleration)
    beta = jnp.arctan(0.5 * jnp.tan(steering))
    velocity = speed[:, None] * jnp.stack([jnp.cos(heading + beta), jnp.sin(heading + beta)], -1)
    position = position + velocity * dt
    heading = heading + speed * jnp.sin(beta) / (length / 2) * dt
    speed = speed + acceleration * dt
    return position, heading, speed


def steering_control(
    road: Road, y: chex.Array, heading: chex.Array, speed: chex.Array, target_lane: chex.Array, length: float = LENGTH
) -> chex.Array:
    """Steering angle that brings a vehicle onto the centre line of ``target_lane`` (clipped to +-pi/3).

    Args:
        road: the straight road (lanes have heading 0).
        y: ``[M]`` lateral positions; heading, speed: ``[M]``; target_lane: ``[M]`` int.

    Returns:
        ``[M]`` steering angles delta.
    """
    lateral = y - road.lane_centre(target_lane)
    lateral_speed_command = -lateral / TAU_LATERAL
    heading_command = jnp.arcsin(jnp.clip(lateral_speed_command / not_zero(speed), -1.0, 1.0))
    heading_ref = jnp.clip(heading_command, -jnp.pi / 4, jnp.pi / 4)
    heading_rate_command = wrap_to_pi(heading_ref - heading) / TAU_HEADING
    slip_angle = jnp.arcsin(jnp.clip(length / 2 / not_zero(speed) * heading_rate_command, -1.0, 1.0))
    # arctan(2 tan(beta)) for |beta| <= pi/2, written so that float32's pi/2 (whose tan is negative) keeps its sign.
    steering = jnp.arctan2(2 * jnp.sin(slip_angle), jnp.abs(jnp.cos(slip_angle)))
    return jnp.clip(steering, -MAX_STEERING, MAX_STEERING)


def steer_and_step(
    road: Road,
    position: chex.Array,
    heading: chex.Array,
    speed: chex.Array,
    target_lane: chex.Array,
    acceleration: chex.Array,
    crashed: chex.Array,
    dt: float,
    cos_heading: chex.Array | None = None,
    sin_heading: chex.Array | None = None,
    length: float = LENGTH,
) -> tuple[chex.Array, chex.Array, chex.Array]:
    """:func:`steering_control` then :func:`bicycle_step`, with the steering angle's trigonometry solved.

    The controller's slip command ``c = clip(L/2 psi_rate / v, -1, 1)`` gives ``delta = arctan(2 tan beta)``
    with ``beta = arcsin(c)``, and the bicycle turns ``delta`` back into ``beta = arctan(tan(delta) / 2)``.
    Unless the steering clip binds (``|delta| > pi/3``, i.e. ``2 |c| > sqrt(3) sqrt(1 - c^2)``), that is the
    same ``beta``, so ``sin beta = c`` and ``cos beta = sqrt(1 - c^2)``; when it binds,
    ``tan beta = tan(pi/3) / 2``: ``sin beta = +-sqrt(3/7)``, ``cos beta = sqrt(4/7)``; a crashed vehicle
    has ``beta = 0``. The velocity direction is ``(cos psi cos beta - sin psi sin beta, sin psi cos beta +
    cos psi sin beta)``. Same model and equal to the two calls to float32 rounding, with one ``arcsin``
    per vehicle instead of three inverse trigonometric functions, a tangent and three sines and cosines.

    Args:
        road: the road (lanes have heading 0).
        position: ``[M, 2]``; heading, speed: ``[M]``; target_lane: ``[M]`` int.
        acceleration: ``[M]`` commanded accelerations; crashed: ``[M]`` bool.
        dt: step in s.
        cos_heading, sin_heading: ``cos`` and ``sin`` of ``heading`` when already computed.
        length: vehicle length ``L`` in m.

    Returns:
        ``(position, heading, speed)`` after the step.
    """
    cos_heading = jnp.cos(heading) if cos_heading is None else cos_heading
    sin_heading = jnp.sin(heading) if sin_heading is None else sin_heading
    lateral = position[:, 1] - road.lane_centre(target_lane)
    lateral_speed_command = -lateral / TAU_LATERAL
    heading_command = jnp.arcsin(jnp.clip(lateral_speed_command / not_zero(speed), -1.0, 1.0))
    heading_ref = jnp.clip(heading_command, -jnp.pi / 4, jnp.pi / 4)
    heading_error = heading_ref - heading
    # wrap_to_pi without its floating-point remainder (a scalar library call on CPU): round to whole turns.
    heading_error = heading_error - 2 * jnp.pi * jnp.round(heading_error / (2 * jnp.pi))
    heading_rate_command = heading_error / TAU_HEADING
    slip = jnp.clip(length / 2 / not_zero(speed) * heading_rate_command, -1.0, 1.0)  # sin(beta) unclipped
    cos_slip = jnp.sqrt(1.0 - jnp.square(slip))
    clipped = 2 * jnp.abs(slip) > np.sqrt(3.0) * cos_slip
    sin_beta = jnp.where(clipped, jnp.sign(slip) * np.sqrt(3.0 / 7.0), slip)
    cos_beta = jnp.where(clipped, np.sqrt(4.0 / 7.0), cos_slip)
    sin_beta, cos_beta = jnp.where(crashed, 0.0, sin_beta), jnp.where(crashed, 1.0, cos_beta)
    acceleration = jnp.where(crashed, -speed, acceleration)
    acceleration = jnp.where(speed > MAX_SPEED, jnp.minimum(acceleration, MAX_SPEED - speed), acceleration)
    acceleration = jnp.where(speed < -MAX_SPEED, jnp.maximum(acceleration, -MAX_SPEED - speed), acceleration)
    direction = jnp.stack(
        [cos_heading * cos_beta - sin_heading * sin_beta, sin_heading * cos_beta + cos_heading * sin_beta], -1
    )
    position = position + speed[:, None] * direction * dt
    heading = heading + speed * sin_beta / (length / 2) * dt
    speed = speed + acceleration * dt
    return position, heading, speed


def speed_control(speed: chex.Array, target_speed: chex.Array) -> chex.Array:
    """Acceleration ``(v_target - v) / 0.6 s`` of the proportional speed controller."""
    return (target_speed - speed) / TAU_ACC


def _speed_index(speed: chex.Array, target_speeds: chex.Array) -> chex.Array:
    """Index of the grid speed nearest to ``speed`` (``MDPVehicle.speed_to_index``, uniform grid)."""
    k = target_speeds.shape[0]
    x = (speed - target_speeds[0]) / (target_speeds[-1] - target_speeds[0])
    return jnp.clip(jnp.round(x * (k - 1)), 0, k - 1).astype(jnp.int32)


def apply_meta_action(
    road: Road,
    action: chex.Array,
    speed: chex.Array,
    target_lane: chex.Array,
    target_speed: chex.Array,
    target_speeds=TARGET_SPEEDS,
) -> tuple[chex.Array, chex.Array]:
    """New target lane and target speed of controlled vehicles after meta-actions.

    Args:
        road: the road (its lane count bounds lane changes).
        action: ``[N]`` int in 0..4 (lane left, idle, lane right, faster, slower).
        speed: ``[N]`` current speeds; target_lane: ``[N]`` int; target_speed: ``[N]``.
        target_speeds: the uniform grid of speeds faster/slower choose from.

    Returns:
        ``(target_lane, target_speed)``.
    """
    grid = jnp.asarray(target_speeds, jnp.float32)
    lane_step = jnp.where(action == LANE_LEFT, -1, jnp.where(action == LANE_RIGHT, 1, 0))
    target_lane = jnp.clip(target_lane + lane_step, 0, road.num_lanes - 1).astype(jnp.int32)
    index_step = jnp.where(action == FASTER, 1, -1)
    new_index = jnp.clip(_speed_index(speed, grid) + index_step, 0, grid.shape[0] - 1)
    changes_speed = (action == FASTER) | (action == SLOWER)
    target_speed = jnp.where(changes_speed, grid[new_index], target_speed)
    return target_lane, target_speed
