"""Spaces: how positions are compared and moved, as pairs of pure functions (JAX MD's ``space``).

A space is built by a constructor that returns ``(displacement, shift)``:

- ``displacement(a, b) -> d``: the vector from ``b`` to ``a`` (``a - b``) measured in the space,
  for points ``[..., 2]`` (broadcasting);
- ``shift(x, dx) -> x'``: ``x`` moved by ``dx`` and put back into the space.

On the periodic square box (a torus) of side ``L`` the displacement is the minimum image

    d = a - b - L round((a - b) / L)        (each component in [-L/2, L/2])

and a shift wraps positions into ``[0, L)``. :func:`free` is the unbounded plane. Constructors
validate their parameters once (``ValueError``); the functions they return are jit- and vmap-able.

References:
    Schoenholz and Cubuk 2020, "JAX MD: A Framework for Differentiable Physics" (``space.periodic``).
"""

from __future__ import annotations

from typing import Callable

import chex
import jax.numpy as jnp

from marljax.checks import number

__all__ = ["periodic", "free", "distance", "pairwise_displacement", "circular_mean"]

Displacement = Callable[[chex.Array, chex.Array], chex.Array]
Shift = Callable[[chex.Array, chex.Array], chex.Array]


def periodic(box_size: float) -> tuple[Displacement, Shift]:
    """The periodic square box ``[0, L)^2`` with minimum-image displacements.

    Args:
        box_size: side ``L`` of the box (> 0).

    Returns:
        ``(displacement, shift)``: ``displacement(a, b)`` is the shortest vector from ``b`` to
        ``a`` on the torus (components in ``[-L/2, L/2]``); ``shift(x, dx)`` is ``(x + dx) mod L``.

    Raises:
        ValueError: ``box_size`` is not a positive finite number.
    """
    side = number(0.0, open_low=True)("box_size", box_size)

    def displacement(a: chex.Array, b: chex.Array) -> chex.Array:
        delta = a - b
        return delta - side * jnp.round(delta / side)

    def shift(x: chex.Array, dx: chex.Array) -> chex.Array:
        return jnp.mod(x + dx, side)

    return displacement, shift


def free() -> tuple[Displacement, Shift]:
    """The unbounded plane: ``displacement(a, b) = a - b``, ``shift(x, dx) = x + dx``."""
    return (lambda a, b: a - b), (lambda x, dx: x + dx)


def distance(delta: chex.Array) -> chex.Array:
    """Euclidean length of displacements ``[..., 2]`` (``[...]``)."""
    return jnp.sqrt(jnp.sum(delta * delta, axis=-1))


def pairwise_displacement(displacement: Displacement, a: chex.Array, b: chex.Array) -> chex.Array:
    """All displacements ``[A, B, 2]`` from each point of ``b [B, 2]`` to each of ``a [A, 2]``.

    Quadratic in memory: for the small-N (all-pairs) path only; large swarms use
    :mod:`marljax.physics.neighbours`' cell list.
    """
    return displacement(a[:, None, :], b[None, :, :])


def circular_mean(pos: chex.Array, box_size: float, weights: chex.Array | None = None) -> chex.Array:
    """The centre ``[2]`` of points ``pos [N, 2]`` in the periodic box ``[0, L)^2``.

    Each coordinate is mapped to an angle ``2 pi x / L`` on a circle; the centre is the angle of
    the (weighted) mean unit vector mapped back to ``[0, L)`` (Bai and Breen 2008, "Calculating
    Center of Mass in an Unbounded 2D Environment"). A plain mean would put a cluster that
    straddles the boundary in the middle of the box.

    Args:
        pos: positions ``[N, 2]`` in ``[0, L)``.
        box_size: side ``L``.
        weights: optional ``[N]`` non-negative weights (default: all 1).

    Returns:
        ``[2]`` the centre in ``[0, L)^2``.
    """
    angle = 2.0 * jnp.pi * pos / box_size
    w = jnp.ones(pos.shape[:1], pos.dtype) if weights is None else weights
    mean_cos = jnp.sum(w[:, None] * jnp.cos(angle), axis=0)
    mean_sin = jnp.sum(w[:, None] * jnp.sin(angle), axis=0)
    return jnp.mod(jnp.arctan2(mean_sin, mean_cos), 2.0 * jnp.pi) * box_size / (2.0 * jnp.pi)
