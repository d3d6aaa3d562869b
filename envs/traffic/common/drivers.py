"""NPC drivers: the Intelligent Driver Model (IDM), MOBIL lane changes and iPLAN's driver types.

**IDM** (highway-env ``IDMVehicle.acceleration``): with comfort acceleration ``a_c``, comfort
deceleration ``b``, jam distance ``d0`` (centre to centre), time gap ``T`` and exponent ``delta``,

    a = a_c [1 - (max(v, 0) / v0)^delta - (d* / d)^2],   d* = d0 + v T + v dv / (2 sqrt(a_c b)),

where ``v0`` is the target speed clipped to ``[0, speed_limit]``, ``d`` the longitudinal distance
between the centres of the vehicle and its leader and ``dv = v - v_lead cos(psi_lead - psi)`` the
closing speed projected on the vehicle's heading; the ``(d*/d)^2`` term is absent without a
leader. The vehicle then applies ``clip(a, -a_max, a_max)`` (highway-env's ``ACC_MAX``): the
spec's ``a_max`` bounds the command, the IDM itself runs on the comfort acceleration, exactly as
in highway-env.

**MOBIL** (``IDMVehicle.mobil``), for a candidate lane with new leader/follower ``n_l, n_f`` and
old leader/follower ``o_l, o_f``; ``a(x | y)`` is the IDM acceleration of ``x`` behind ``y``,
computed with the *deciding* vehicle's parameters:

    reject if a(n_f | self) < -b_safe                                  (safety)
    change if a(self | n_l) - a(self | o_l)
              + p [a(n_f | self) - a(n_f | n_l) + a(o_f | o_l) - a(o_f | self)] >= a_threshold

**Driver types** (iPLAN's heterogeneous highway; ``delta`` drawn per vehicle):

    | parameter                 | normal       | aggressive | defensive |
    | a_max                     | 6            | 9          | 5         |
    | comfort acceleration a_c  | 3            | 6          | 2         |
    | comfort deceleration b    | 5            | 9          | 4         |
    | d0 (m, centre to centre)  | 10           | 5.5        | 13        |
    | T (s)                     | 1.5          | 1.2        | 1.8       |
    | delta                     | U[3.5, 4.5]  | 4          | U[3, 4]   |
    | politeness p              | 0.2          | 0          | 0.5       |
    | MOBIL threshold           | 0.2          | 0.1        | 0.3       |
    | b_safe                    | 2            | 9          | 2         |
    | lane-change delay (s)     | 1            | 0.5        | 1         |

References:
    Treiber, Hennecke, Helbing (2000), "Congested traffic states in empirical observations and
    microscopic simulations", Phys. Rev. E 62 (IDM).
    Kesting, Treiber, Helbing (2007), "General lane-changing model MOBIL for car-following
    models", Transportation Research Record 1999 (MOBIL).
    Wu, Bhattacharyya, et al. (2023), "Intent-aware planning in heterogeneous traffic via
    distributed multi-agent reinforcement learning" (iPLAN), CoRL (driver types).
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np

from marljax.envs.traffic.common.kinematics import LENGTH, not_zero

__all__ = [
    "DriverParams",
    "DRIVER_TYPES",
    "NORMAL",
    "AGGRESSIVE",
    "DEFENSIVE",
    "TRAFFIC_MIXES",
    "driver_params",
    "sample_driver_params",
    "sample_driver_types",
    "idm_acceleration",
    "idm_from_closing_speed",
    "desired_gap",
]

NORMAL, AGGRESSIVE, DEFENSIVE = 0, 1, 2


@chex.dataclass
class DriverParams:
    """Per-vehicle IDM/MOBIL parameters, each ``[M]`` float32 (see the module table)."""

    acc_max: chex.Array
    comfort_acc: chex.Array
    comfort_dec: chex.Array  # b > 0
    distance_wanted: chex.Array  # d0, centre to centre
    time_wanted: chex.Array  # T
    delta: chex.Array
    politeness: chex.Array
    lane_change_threshold: chex.Array
    max_braking_imposed: chex.Array  # b_safe
    lane_change_delay: chex.Array


#: name -> (a_max, a_c, b, d0, T, (delta_low, delta_high), p, threshold, b_safe, delay); index = type id.
DRIVER_TYPES = {
    "normal": (6.0, 3.0, 5.0, 5.0 + LENGTH, 1.5, (3.5, 4.5), 0.2, 0.2, 2.0, 1.0),
    "aggressive": (9.0, 6.0, 9.0, 0.5 + LENGTH, 1.2, (4.0, 4.0), 0.0, 0.1, 9.0, 0.5),
    "defensive": (5.0, 2.0, 4.0, 13.0, 1.8, (3.0, 4.0), 0.5, 0.3, 2.0, 1.0),
}
#: traffic mix -> shares of (normal, aggressive, defensive) NPCs.
TRAFFIC_MIXES = {"mild": (0.8, 0.1, 0.1), "chaotic": (0.4, 0.3, 0.3)}

_TABLE = np.array(
    [[row[0], row[1], row[2], row[3], row[4], *row[5], *row[6:]] for row in DRIVER_TYPES.values()], np.float32
)  # [types, 11]: a_max, a_c, b, d0, T, delta_lo, delta_hi, p, threshold, b_safe, delay


def driver_params(driver_type: chex.Array, delta: chex.Array) -> DriverParams:
    """Parameters of vehicles of the given types (``[M]`` int ids) with exponents ``delta [M]``."""
    t = jnp.asarray(_TABLE)[driver_type]
    return DriverParams(
        acc_max=t[:, 0],
        comfort_acc=t[:, 1],
        comfort_dec=t[:, 2],
        distance_wanted=t[:, 3],
        time_wanted=t[:, 4],
        delta=jnp.asarray(delta, jnp.float32),
        politeness=t[:, 7],
        lane_change_threshold=t[:, 8],
        max_braking_imposed=t[:, 9],
        lane_change_delay=t[:, 10],
    )


def sample_driver_params(key: chex.PRNGKey, driver_type: chex.Array) -> DriverParams:
    """Parameters of vehicles of the given types, each exponent ``delta`` drawn from its type's range.

    Args:
        key: PRNG key.
        driver_type: ``[M]`` int ids (``NORMAL``, ``AGGRESSIVE``, ``DEFENSIVE``).

    Returns:
        A :class:`DriverParams` of ``[M]`` arrays.
    """
    t = jnp.asarray(_TABLE)[driver_type]
    delta = jax.random.uniform(key, driver_type.shape, jnp.float32, t[:, 5], t[:, 6])
    return driver_params(driver_type, delta)


def sample_driver_types(key: chex.PRNGKey, num: int, mix: str) -> chex.Array:
    """``[num]`` driver type ids drawn i.i.d. with the shares of traffic mix ``mix``."""
    shares = jnp.log(jnp.asarray(TRAFFIC_MIXES[mix], jnp.float32))
    return jax.random.categorical(key, shares, shape=(num,)).astype(jnp.int32)


def desired_gap(
    driver: DriverParams, speed: chex.Array, heading: chex.Array, front_speed: chex.Array, front_heading: chex.Array
) -> chex.Array:
    """IDM's desired centre distance ``d* = d0 + v T + v dv / (2 sqrt(a_c b))`` (projected ``dv``).

    Inputs broadcast; headings enter only through ``cos`` and ``sin`` of each argument, so
    ``heading[:, None]`` against ``front_heading[None, :]`` costs ``O(M)`` trigonometry, not ``O(M^2)``.
    """
    cos_between = jnp.cos(front_heading) * jnp.cos(heading) + jnp.sin(front_heading) * jnp.sin(heading)
    return _desired_gap(driver, speed, speed - front_speed * cos_between)


def _desired_gap(driver: DriverParams, speed: chex.Array, closing_speed: chex.Array) -> chex.Array:
    ab = driver.comfort_acc * driver.comfort_dec
    return driver.distance_wanted + speed * driver.time_wanted + speed * closing_speed / (2 * jnp.sqrt(ab))


def idm_acceleration(
    driver: DriverParams,
    speed: chex.Array,
    heading: chex.Array,
    target_speed: chex.Array,
    speed_limit: float,
    has_front: chex.Array,
    front_distance: chex.Array,
    front_speed: chex.Array,
    front_heading: chex.Array,
) -> chex.Array:
    """IDM acceleration (unclipped) of vehicles behind their leaders, elementwise.

    Args:
        driver: parameters the acceleration is computed with (broadcastable to the others).
        speed, heading, target_speed: the following vehicle's.
        speed_limit: the lane's limit; the target speed is clipped to ``[0, speed_limit]``.
        has_front: bool, whether there is a leader (otherwise the free-road term alone).
        front_distance: ``x_lead - x`` (centre to centre); front_speed, front_heading: the leader's.

    Returns:
        The acceleration ``a_c [1 - (v/v0)^delta - (d*/d)^2]``.
    """
    closing_speed = speed - front_speed * jnp.cos(front_heading - heading)
    return idm_from_closing_speed(driver, speed, target_speed, speed_limit, has_front, front_distance, closing_speed)


def idm_from_closing_speed(
    driver: DriverParams,
    speed: chex.Array,
    target_speed: chex.Array,
    speed_limit: float,
    has_front: chex.Array,
    front_distance: chex.Array,
    closing_speed: chex.Array,
) -> chex.Array:
    """:func:`idm_acceleration` given the closing speed ``dv = v - v_lead cos(psi_lead - psi)`` directly."""
    target = jnp.clip(target_speed, 0.0, speed_limit)
    # (v / v0)^delta as exp(delta log(v / v0)) (0 at v = 0): XLA's CPU pow is a scalar library call, exp and log
    # are vectorised -- about five times cheaper, equal to a few float32 ulps.
    free_road = 1.0 - jnp.exp(driver.delta * jnp.log(jnp.maximum(speed, 0.0) / jnp.abs(not_zero(target))))
    gap = _desired_gap(driver, speed, closing_speed)
    interaction = jnp.where(has_front, jnp.square(gap / not_zero(front_distance)), 0.0)
    return driver.comfort_acc * (free_road - interaction)
