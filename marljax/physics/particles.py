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

Walls, kicks and a hard arena box are here too (soccer's, usable by any task): static line
segments push discs with the same softplus contact law (:func:`segment_contact_forces`), a
kick adds a velocity impulse to a ball within reach (:func:`kick_impulse`) and
:func:`clamp_to_box` keeps disc centres inside an axis-aligned box (VMAS's world semidims).
:func:`pair_contact_fn` builds the contact forces of a fixed set of discs evaluating each pair
once (several times faster under ``vmap`` on a CPU), and :func:`integrate_symplectic` is the
velocity-first Euler step of VMAS and the original MPE (nearly elastic contacts at coarse steps).

:func:`batch_minor` runs a kernel written for one trailing batch axis with the ``vmap`` axis moved
last: XLA on a CPU vectorises along the minor (last) axis, so a vmapped world of a few discs,
``[B, E, 2]`` with the batch leading, runs its pairwise arithmetic an order of magnitude slower
than the same world laid out ``[E, 2, B]``.

Nothing here knows about tasks: envs (``marljax.envs.mpe``, the traffic envs) build a
:class:`ParticleWorld` from per-entity constants and call :meth:`ParticleWorld.step`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import chex
import jax
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
    "integrate_symplectic",
    "pair_contact_fn",
    "pairwise_overlap",
    "pairwise_distance",
    "segment_contact_forces",
    "kick_impulse",
    "clamp_to_box",
    "batch_minor",
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


def pair_contact_fn(
    radius: np.ndarray,
    contact_force: float = CONTACT_FORCE,
    contact_margin: float = CONTACT_MARGIN,
) -> Callable[[chex.Array], chex.Array]:
    """The contact forces of :func:`contact_forces` (every entity colliding and movable) as a
    function ``pos [E, 2] -> forces [E, 2]`` built once, outside jit, for a fixed set of discs.

    Each unordered pair ``i < j`` is evaluated once (``E (E - 1) / 2`` pairs instead of ``E^2``)
    and its force is added to ``i`` and subtracted from ``j`` by one matrix product with the
    constant ``[E, P]`` incidence matrix. Besides halving the work this is several times faster
    than the ``[E, E, 2]`` broadcast-and-sum under ``vmap`` on a CPU, and the action-reaction
    pairs are exactly opposite, so the contact model conserves momentum.

    Args:
        radius: ``[E]`` disc radii (static).
        contact_force, contact_margin: as in :func:`contact_forces`.

    Returns:
        ``forces(pos)``: the total contact force ``[E, 2, ...]`` on each disc of ``pos [E, 2, ...]``
        (trailing axes are batch axes, as in :func:`batch_minor`'s kernels).
    """
    radius = np.asarray(radius, np.float32)
    num = radius.shape[0]
    first, second = np.triu_indices(num, 1)
    incidence = np.zeros((num, first.size), np.float32)
    incidence[first, np.arange(first.size)] = 1.0
    incidence[second, np.arange(first.size)] = -1.0
    overlap = radius[first] + radius[second]

    def forces(pos: chex.Array) -> chex.Array:
        delta = pos[first] - pos[second]  # [P, 2, ...], from j to i
        dist = jnp.sqrt(jnp.sum(delta * delta, 1))
        safe = jnp.where(dist > 0, dist, 1.0)  # coincident centres: no direction, no force
        reach = _per_entity(overlap, dist)
        penetration = jnp.logaddexp(0.0, -(dist - reach) / contact_margin) * contact_margin
        pair = jnp.where(dist > 0, contact_force * penetration / safe, 0.0)[:, None] * delta
        return jnp.tensordot(jnp.asarray(incidence), pair, axes=1)

    return forces


def integrate_symplectic(pos, vel, force, mass, max_speed, dt: float):
    """One symplectic (semi-implicit) Euler step, velocity first, as VMAS and the original MPE:
    ``v' = cap(v + dt F / m)``, ``x' = x + dt v'`` (speed caps: negative = none; no damping).

    Unlike :func:`integrate` (which moves ``x`` with the old velocity), this order does not add
    energy in stiff contacts, so a disc-disc collision stays (nearly) elastic at soccer's step.
    Arrays are ``[E, 2, ...]`` (trailing batch axes allowed), ``mass`` and ``max_speed`` ``[E]``."""
    new_vel = vel + (force / _per_entity(mass, vel)) * dt
    speed = jnp.sqrt(jnp.sum(new_vel * new_vel, 1, keepdims=True))
    cap = _per_entity(max_speed, vel)
    too_fast = (speed > cap) & (cap >= 0)
    new_vel = jnp.where(too_fast, new_vel / jnp.where(too_fast, speed, 1.0) * cap, new_vel)
    return pos + new_vel * dt, new_vel


def segment_contact_forces(
    pos: chex.Array,
    radius: chex.Array,
    seg_start: chex.Array,
    seg_end: chex.Array,
    contact_force: float = CONTACT_FORCE,
    contact_margin: float = CONTACT_MARGIN,
) -> chex.Array:
    """Soft contact forces ``[E, 2]`` that static line segments (walls) exert on discs.

    For disc ``e`` and segment ``s`` from ``a`` to ``b`` the closest point is
    ``q = a + t (b - a)``, ``t = clip((x - a).(b - a) / |b - a|^2, 0, 1)``, and the force is the
    disc-disc law with the wall as a zero-radius disc at ``q``:
    ``contact_force * (x - q) / |x - q| * k log(1 + exp(-(|x - q| - r) / k))`` (a segment's end
    acts as a round post). Summed over segments; every pair is computed at once (``[E, S]``).

    Args:
        pos: ``[E, 2]`` disc centres.
        radius: ``[E]`` disc radii.
        seg_start, seg_end: ``[S, 2]`` segment end points (static walls).
        contact_force: stiffness of the contact.
        contact_margin: softplus margin ``k``.

    Returns:
        ``[E, 2]`` the total wall force on each disc.
    """
    seg_start = jnp.asarray(seg_start, pos.dtype)
    along = jnp.asarray(seg_end, pos.dtype) - seg_start  # [S, 2]
    rel = pos[:, None, :] - seg_start[None, :, :]  # [E, S, 2]
    t = jnp.clip(jnp.sum(rel * along, -1) / jnp.sum(along * along, -1), 0.0, 1.0)
    delta = rel - t[..., None] * along  # from the closest point to the centre
    dist = jnp.sqrt(jnp.sum(delta * delta, -1))
    # A centre exactly on a wall has no direction to be pushed in: keep it finite (no force).
    safe = jnp.where(dist > 0, dist, 1.0)
    penetration = jnp.logaddexp(0.0, -(dist - radius[:, None]) / contact_margin) * contact_margin
    pair = jnp.where((dist > 0)[..., None], contact_force * delta / safe[..., None] * penetration[..., None], 0.0)
    return jnp.sum(pair, axis=1)


def kick_impulse(
    kicker_pos: chex.Array,
    direction: chex.Array,
    kicking: chex.Array,
    ball_pos: chex.Array,
    reach: float,
    speed: float,
) -> chex.Array:
    """Velocity change ``[2]`` of a ball kicked by the kickers within reach.

    Kicker ``i`` with ``kicking[i]`` adds ``speed * direction[i] / |direction[i]|`` when the ball's
    centre is within ``reach`` of its own and in front of it (``(ball - x_i) . direction_i > 0``:
    no kicking backwards through oneself). Kicks of several players add up; the ball's speed cap
    applies afterwards, in the integration.

    Args:
        kicker_pos: ``[N, 2]`` kicker centres.
        direction: ``[N, 2]`` kick directions (any length; zero means no kick).
        kicking: ``[N]`` bool, who tries to kick.
        ball_pos: ``[2]`` the ball's centre.
        reach: maximum centre-to-centre distance of a kick.
        speed: speed a single kick adds.

    Returns:
        ``[2]`` the ball's velocity change (``[2, ...]`` when the arguments carry trailing batch
        axes: ``kicker_pos [N, 2, ...]``, ``kicking [N, ...]``, ``ball_pos [2, ...]``).
    """
    norm = jnp.sqrt(jnp.sum(direction * direction, 1))
    unit = direction / jnp.where(norm > 0, norm, 1.0)[:, None]
    to_ball = ball_pos[None] - kicker_pos
    close = jnp.sum(to_ball * to_ball, 1) <= reach * reach
    in_front = jnp.sum(to_ball * unit, 1) > 0
    hits = kicking & close & in_front & (norm > 0)
    return speed * jnp.sum(jnp.where(hits[:, None], unit, 0.0), axis=0)


def clamp_to_box(pos: chex.Array, radius: chex.Array, half_extent) -> chex.Array:
    """Disc centres ``[E, 2]`` clamped so that each disc stays inside ``|x| <= half_extent``
    (``[2]``, centred at the origin): ``|x_d| <= half_extent_d - r`` (``pos [E, 2, ...]``: trailing
    batch axes allowed)."""
    limit = jnp.asarray(half_extent, pos.dtype)[None, :] - jnp.asarray(radius)[:, None]
    limit = jnp.reshape(limit, limit.shape + (1,) * (pos.ndim - 2))
    return jnp.clip(pos, -limit, limit)


def _per_entity(values, like: chex.Array) -> chex.Array:
    """Per-entity constants ``[E]`` shaped to broadcast against ``like [E, ...]``."""
    values = jnp.asarray(values)
    return jnp.reshape(values, values.shape + (1,) * (like.ndim - values.ndim))


def batch_minor(kernel: Callable) -> Callable:
    """Run ``kernel`` with the batch as the last axis of every array, under ``vmap`` or not.

    ``kernel(*args)`` takes pytrees of arrays that each carry one trailing batch axis ``[..., B]``
    and returns a pytree of arrays with the same trailing axis (``B``, or 1 to broadcast).
    The returned function takes and returns unbatched arrays (``kernel`` sees ``B = 1``); under
    ``jax.vmap`` (a :func:`jax.custom_batching.custom_vmap` rule) the mapped axis is moved last on
    the way in and first on the way out, so ``kernel`` runs once on the whole batch laid out
    ``[..., B]`` and its arithmetic vectorises along ``B`` -- on a CPU an order of magnitude
    faster than ``vmap``'s own batch-first layout for worlds of a few entities. Unbatched
    arguments are broadcast along the batch. Nested ``vmap``: the innermost one goes
    last, the outer ones batch the kernel's operations as usual. Forward-mode only (no ``grad``).

    Args:
        kernel: ``(*args) -> outputs`` written for one trailing batch axis.

    Returns:
        The function of unbatched arguments, with the batch-last rule for ``vmap``.
    """

    def with_trailing_axis(*args):
        return kernel(*jax.tree.map(lambda x: jnp.asarray(x)[..., None], args))

    def rule(axis_size, in_batched, consts, *args):
        # ``consts`` arrive batched only when an enclosing lax.cond with a batched predicate
        # broadcast every operand (jumanji's AutoResetWrapper resets inside one): they are copies.
        del consts

        def batch_last(x, mapped):
            x = jnp.asarray(x)
            return jnp.moveaxis(x, 0, -1) if mapped else jnp.broadcast_to(x[..., None], x.shape + (axis_size,))

        args = jax.tree.map(batch_last, list(args), in_batched[1:])
        out = jax.tree.map(
            lambda y: jnp.moveaxis(jnp.broadcast_to(y, y.shape[:-1] + (axis_size,)), -1, 0), kernel(*args)
        )
        return out, jax.tree.map(lambda _: True, out)

    def call(*args):
        # The unbatched path evaluates the kernel's jaxpr with its constants passed as operands, so
        # that the custom_vmap primitive closes over no arrays (custom_vmap requires its closed-over
        # constants unbatched, which a batched lax.cond around it would break).
        closed, out_shape = jax.make_jaxpr(with_trailing_axis, return_shape=True)(*args)
        out_tree = jax.tree.structure(out_shape)

        def unbatched(consts, *args):
            flat = jax.core.eval_jaxpr(closed.jaxpr, consts, *jax.tree.leaves(args))
            return jax.tree.unflatten(out_tree, [y[..., 0] for y in flat])

        batched = jax.custom_batching.custom_vmap(unbatched)
        batched.def_vmap(rule)
        return batched(list(closed.consts), *args)

    return call


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
