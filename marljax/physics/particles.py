"""Particle-world physics as pure array functions (the multi-agent particle environments').

A world is a set of round entities -- agents first, then landmarks -- with positions and
velocities ``[E, 2]``. One step applies the agents' control forces plus soft contact forces
between colliding entities, then integrates with damping and an optional speed cap:

    v' = (1 - damping) v + dt F / m          (movable entities only)
    x' = x + dt v                            (semi-implicit: the *old* velocity moves x)
    v' <- v' max_speed / |v'|  if |v'| > max_speed >= 0

The contact force between two colliding entities a, b at distance d with radii r_a, r_b is
``contact_force * (x_a - x_b) / d * k log(1 + exp(-(d - r_a - r_b) / k))`` with margin k:
a softplus penetration that is ~0 apart and linear in the overlap (Lowe et al. 2017,
"Multi-Agent Actor-Critic for Mixed Cooperative-Competitive Environments"; constants as in
OpenAI's multiagent-particle-envs and JaxMARL's MPE: dt 0.1, damping 0.25, force 100, margin 1e-3).

Nothing here knows about tasks: envs (``marljax.envs.mpe``, the traffic envs) build a
:class:`ParticleWorld` from per-entity constants and call :meth:`ParticleWorld.step`.
"""

from __future__ import annotations

from dataclasses import dataclass

import chex
import jax.numpy as jnp
import numpy as np

__all__ = [
    "DT",
    "DAMPING",
    "CONTACT_FORCE",
    "CONTACT_MARGIN",
    "NUM_DISCRETE_MOVES",
    "ParticleWorld",
    "discrete_control",
    "continuous_control",
    "contact_forces",
    "integrate",
    "pairwise_overlap",
    "pairwise_distance",
]

DT = 0.1
DAMPING = 0.25
CONTACT_FORCE = 100.0
CONTACT_MARGIN = 1e-3
#: Discrete moves: 0 stay, 1 -x, 2 +x, 3 -y, 4 +y (the MPE order).
NUM_DISCRETE_MOVES = 5
# Unit force of each discrete move, indexed by action.
_MOVES = jnp.array([[0.0, 0.0], [-1.0, 0.0], [1.0, 0.0], [0.0, -1.0], [0.0, 1.0]], jnp.float32)


def discrete_control(action: chex.Array, accel: chex.Array) -> chex.Array:
    """Control force ``[N, 2]`` of discrete moves ``action [N]`` scaled by ``accel [N]``."""
    return _MOVES[action] * accel[:, None]


def continuous_control(action: chex.Array, accel: chex.Array) -> chex.Array:
    """Control force of MPE continuous actions ``[N, 5]`` in [0, 1]: (stay, -x, +x, -y, +y)
    intensities; the force is ``(a_2 - a_1, a_4 - a_3) * accel``."""
    action = jnp.clip(action, 0.0, 1.0)
    return jnp.stack([action[:, 2] - action[:, 1], action[:, 4] - action[:, 3]], -1) * accel[:, None]


def pairwise_distance(pos_a: chex.Array, pos_b: chex.Array) -> chex.Array:
    """Euclidean distances ``[A, B]`` between two sets of points ``[A, 2]`` and ``[B, 2]``."""
    delta = pos_a[:, None, :] - pos_b[None, :, :]
    return jnp.sqrt(jnp.sum(delta * delta, -1))


def pairwise_overlap(pos_a, pos_b, radius_a, radius_b) -> chex.Array:
    """``[A, B]`` True where two discs overlap (distance < sum of radii)."""
    return pairwise_distance(pos_a, pos_b) < radius_a[:, None] + radius_b[None, :]


def contact_forces(
    pos: chex.Array,
    radius: chex.Array,
    collide: chex.Array,
    movable: chex.Array,
    contact_force: float = CONTACT_FORCE,
    contact_margin: float = CONTACT_MARGIN,
) -> chex.Array:
    """Sum of soft contact forces ``[E, 2]`` on each entity from every other colliding one."""
    delta = pos[:, None, :] - pos[None, :, :]  # [E, E, 2], from b to a
    num = pos.shape[0]
    active = collide[:, None] & collide[None, :] & ~jnp.eye(num, dtype=bool)
    # The self-pair has distance 0: keep it finite before masking (0 * inf would be NaN).
    dist = jnp.where(active, jnp.sqrt(jnp.sum(delta * delta, -1)), 1.0)
    overlap = radius[:, None] + radius[None, :]
    penetration = jnp.logaddexp(0.0, -(dist - overlap) / contact_margin) * contact_margin
    pair = jnp.where(active[..., None], contact_force * delta / dist[..., None] * penetration[..., None], 0.0)
    return jnp.sum(pair, axis=1) * movable[:, None]


def integrate(pos, vel, force, mass, movable, max_speed, dt: float = DT, damping: float = DAMPING):
    """One semi-implicit Euler step with damping and per-entity speed caps (negative = none)."""
    new_pos = pos + vel * dt
    new_vel = vel * (1.0 - damping) + (force / mass[:, None]) * dt * movable[:, None]
    speed = jnp.sqrt(jnp.sum(new_vel * new_vel, -1, keepdims=True))
    cap = max_speed[:, None]
    too_fast = (speed > cap) & (cap >= 0)
    capped = new_vel / jnp.where(too_fast, speed, 1.0) * cap
    return new_pos, jnp.where(too_fast, capped, new_vel)


@dataclass(frozen=True, eq=False)
class ParticleWorld:
    """Constant per-entity properties ``[E]`` of a particle world (agents first).

    Attributes:
        radius, mass: disc radius and mass.
        movable: whether forces move the entity (landmarks do not).
        collide: whether the entity takes part in contacts.
        max_speed: speed cap, negative for none.
        accel: control force multiplier of each *agent* ``[N]`` (N <= E).
    """

    radius: np.ndarray
    mass: np.ndarray
    movable: np.ndarray
    collide: np.ndarray
    max_speed: np.ndarray
    accel: np.ndarray
    dt: float = DT
    damping: float = DAMPING
    contact_force: float = CONTACT_FORCE
    contact_margin: float = CONTACT_MARGIN

    def __post_init__(self):
        sizes = {len(np.atleast_1d(getattr(self, f))) for f in ("radius", "mass", "movable", "collide", "max_speed")}
        if len(sizes) != 1:
            raise ValueError(
                f"radius, mass, movable, collide and max_speed must all have one entry per entity; got lengths {sizes}"
            )
        if len(self.accel) > len(self.radius):
            raise ValueError(f"accel has {len(self.accel)} entries for {len(self.radius)} entities")
        if np.any(np.asarray(self.mass) <= 0) or np.any(np.asarray(self.radius) <= 0):
            raise ValueError("every entity needs a positive mass and radius")

    @property
    def num_entities(self) -> int:
        return len(self.radius)

    def step(self, pos: chex.Array, vel: chex.Array, control: chex.Array):
        """Advance ``(pos, vel)`` ``[E, 2]`` by one step under agents' control forces ``[N, 2]``."""
        f32 = lambda x: jnp.asarray(x, jnp.float32)  # noqa: E731
        movable = f32(self.movable)
        pad = jnp.zeros((self.num_entities - control.shape[0], 2), control.dtype)
        force = jnp.concatenate([control, pad]) * movable[:, None]
        # Contacts only among the entities that collide (a static subset: landmarks of
        # navigation tasks never do), so the pairwise work is |colliders|^2, not E^2.
        colliders = np.flatnonzero(self.collide)
        if colliders.size > 1:
            contact = contact_forces(
                _take(pos, colliders),
                f32(self.radius[colliders]),
                jnp.ones(colliders.size, bool),
                movable[colliders],
                self.contact_force,
                self.contact_margin,
            )
            force = force + _scatter(contact, colliders, self.num_entities)
        return integrate(pos, vel, force, f32(self.mass), movable, f32(self.max_speed), self.dt, self.damping)


def _is_range(index: np.ndarray) -> bool:
    return index.size > 0 and np.array_equal(index, np.arange(index[0], index[0] + index.size))


def _take(x: chex.Array, index: np.ndarray) -> chex.Array:
    """``x[index]`` for a static index, as a slice when the index is a contiguous range."""
    return x[index[0] : index[0] + index.size] if _is_range(index) else x[index]


def _scatter(values: chex.Array, index: np.ndarray, size: int) -> chex.Array:
    """A ``[size, ...]`` zero array with ``values`` at the static rows ``index`` (a pad when contiguous)."""
    if _is_range(index):
        return jnp.pad(values, [(index[0], size - index[0] - index.size)] + [(0, 0)] * (values.ndim - 1))
    return jnp.zeros((size,) + values.shape[1:], values.dtype).at[index].set(values)
