"""Soccer's physics on :mod:`marljax.physics.particles`: discs, walls with goal mouths, kicks, goals.

One env step (VMAS's integration scheme, Bettini et al. 2022, "VMAS: A Vectorized
Multi-Agent Simulator for Collective Robot Learning"):

1. kicks add their impulses to the ball's velocity (:func:`~marljax.physics.particles.kick_impulse`);
2. drag: ``v <- (1 - drag) v``;
3. ``substeps`` times, with ``h = dt / substeps``: forces = control (players) + disc-disc contacts
   (:func:`~marljax.physics.particles.pair_contact_fn`, every pair once) + wall contacts
   (:func:`wall_forces`); symplectic Euler with each entity's speed cap
   (:func:`~marljax.physics.particles.integrate_symplectic`); centres clamped to the
   pitch-plus-goals box (:func:`~marljax.physics.particles.clamp_to_box`, a safety net that the
   soft walls keep idle).

Every contact, disc-disc or disc-wall, uses the MPE/VMAS softplus law
``F k log(1 + exp(-gap / k))`` (gap = distance minus radii; ``F = 100``, ``k = 1e-3``). Disc-disc
forces are pairwise opposite, so without drag, walls, control and speed caps the total momentum
``sum_e m_e v_e`` is conserved exactly by the contact model.

Every function here also takes arrays with trailing batch axes (``pos [2n + 1, 2, B]``): the env
runs its step batch-last under ``vmap`` (:func:`~marljax.physics.particles.batch_minor`).

Frames: team 1 sees the world rotated by 180 degrees about the centre spot (``x -> -x``), so
both teams attack to the right.
"""

from __future__ import annotations

from typing import Callable

import chex
import jax
import jax.numpy as jnp
import numpy as np

from marljax.envs.soccer.types import Pitch
from marljax.physics.particles import clamp_to_box, integrate_symplectic, kick_impulse, pair_contact_fn

__all__ = ["entity_constants", "wall_forces", "make_physics_step", "goals_scored"]


def entity_constants(pitch: Pitch, team_size: int, max_speed_scale=(1.0, 1.0)) -> dict:
    """Per-entity ``radius``, ``mass`` and ``max_speed`` ``[2n + 1]`` (numpy; players, then the
    ball); ``max_speed_scale[t]`` scales team ``t``'s speed cap (a weaker scripted team)."""
    n = team_size
    radius = np.r_[np.full(2 * n, pitch.player_radius), pitch.ball_radius].astype(np.float32)
    mass = np.r_[np.full(2 * n, pitch.player_mass), pitch.ball_mass].astype(np.float32)
    max_speed = np.r_[
        np.full(n, pitch.player_max_speed * max_speed_scale[0]),
        np.full(n, pitch.player_max_speed * max_speed_scale[1]),
        pitch.ball_max_speed,
    ].astype(np.float32)
    return {"radius": radius, "mass": mass, "max_speed": max_speed}


def wall_forces(pitch: Pitch, pos: chex.Array, radius: chex.Array) -> chex.Array:
    """Soft contact forces ``[E, 2]`` of the pitch's walls on discs inside it.

    The same law and walls as :func:`~marljax.physics.particles.segment_contact_forces` on
    :attr:`Pitch.walls` for discs on the pitch or in a goal (the tests check it), but using that
    every wall is axis-aligned and the pitch symmetric, so each disc meets at most one wall of each
    kind: the nearer touchline; the end line beside the mouth (centre wide of the posts); the goal's
    back net and, for a centre in the goal, its nearer side net; and the nearest post (the segments'
    shared ends, taken once). Five contact terms per disc instead of one per segment (12), and the
    normal distances are signed, so a disc pushed past a wall is still pushed back.

    ``pos`` is ``[E, 2]`` or ``[E, 2, ...]`` with trailing batch axes (the forces have its shape);
    ``radius`` is ``[E]``.
    """
    k, stiffness = pitch.contact_margin, pitch.contact_force
    half_l, half_w, half_g = pitch.length / 2, pitch.width / 2, pitch.goal_width / 2
    x, y = pos[:, 0], pos[:, 1]
    radius = jnp.reshape(jnp.asarray(radius), (-1,) + (1,) * (x.ndim - 1))
    sx, sy = jnp.where(x >= 0, 1.0, -1.0), jnp.where(y >= 0, 1.0, -1.0)
    ax, ay = jnp.abs(x), jnp.abs(y)

    def push(gap):  # force magnitude of a contact with this gap (negative: overlap)
        return stiffness * k * jnp.logaddexp(0.0, -gap / k)

    wide = ay > half_g  # beside the mouth: the end line is a wall
    in_goal = ax > half_l
    fx = -sx * (jnp.where(wide, push(half_l - ax - radius), 0.0) + push(half_l + pitch.goal_depth - ax - radius))
    fy = -sy * (push(half_w - ay - radius) + jnp.where(in_goal, push(half_g - ay - radius), 0.0))
    post = jnp.stack([sx * half_l, sy * half_g], 1)
    delta = pos - post
    dist = jnp.sqrt(jnp.sum(delta * delta, 1))
    radial = jnp.where(dist > 0, push(dist - radius) / jnp.where(dist > 0, dist, 1.0), 0.0)
    return jnp.stack([fx, fy], 1) + radial[:, None] * delta


def make_physics_step(pitch: Pitch, constants: dict) -> Callable:
    """The env step's physics for fixed discs (JAX-MD style: built once, a pure function back).

    Args:
        pitch: the pitch.
        constants: :func:`entity_constants` of the match.

    Returns:
        ``step(pos, vel, control, kick_direction, kicking, drag=None) -> (pos, vel)``: advance
        ``(pos, vel)`` ``[2n + 1, 2]`` (players, then the ball; world frame) by one env step under
        the players' controls ``[2n, 2]`` (clipped to ``[-1, 1]``, force ``u * force_scale``) and
        kicks (``kick_direction [2n, 2]``, ``kicking [2n]`` bool); ``drag`` overrides
        ``pitch.drag`` (0 for momentum checks). Every array may carry trailing batch axes
        (``pos [2n + 1, 2, B]``...: the env's batch-last kernel).
    """
    radius = jnp.asarray(constants["radius"])
    mass = jnp.asarray(constants["mass"])
    max_speed = jnp.asarray(constants["max_speed"])
    contacts = pair_contact_fn(constants["radius"], pitch.contact_force, pitch.contact_margin)
    h = pitch.dt / pitch.substeps

    def step(pos, vel, control, kick_direction, kicking, drag=None):
        drag = pitch.drag if drag is None else drag
        kick = kick_impulse(pos[:-1], kick_direction, kicking, pos[-1], pitch.kick_reach, pitch.kick_speed)
        vel = vel.at[-1].add(kick) * (1.0 - drag)
        applied = jnp.clip(control, -1.0, 1.0) * pitch.force_scale
        applied = jnp.concatenate([applied, jnp.zeros((1,) + applied.shape[1:], applied.dtype)])

        def substep(carry, _):
            pos, vel = carry
            force = applied + contacts(pos) + wall_forces(pitch, pos, radius)
            pos, vel = integrate_symplectic(pos, vel, force, mass, max_speed, h)
            return (clamp_to_box(pos, radius, pitch.half_extent), vel), None

        (pos, vel), _ = jax.lax.scan(substep, (pos, vel), None, length=pitch.substeps, unroll=True)
        return pos, vel

    return step


def goals_scored(pitch: Pitch, ball_before: chex.Array, ball_after: chex.Array) -> chex.Array:
    """``[2]`` bool: whether team 0 / team 1 scored in this step.

    The ball is in a goal when it is wholly over the goal line between the posts
    (``|x| > length / 2 + ball_radius`` and ``|y| <= goal_width / 2``); a goal is the ball
    entering the goal in this step, so it counts once, when it happens, however long the ball
    then stays in the net.
    """

    def in_goal(ball, side):  # ball [2, ...]
        return (side * ball[0] > pitch.length / 2 + pitch.ball_radius) & (jnp.abs(ball[1]) <= pitch.goal_width / 2)

    return jnp.stack([in_goal(ball_after, s) & ~in_goal(ball_before, s) for s in (1.0, -1.0)])
