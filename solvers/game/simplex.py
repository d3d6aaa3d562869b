"""The probability simplex: normalising weights and Euclidean projection, each written once.

Every solver that turns weights into a mixed strategy (LP solutions, pivoting bases, regret
matching, meta-strategies over masked populations) calls :func:`normalise`; every projected
gradient step (projected replicator dynamics, the risk-averse best response) calls
:func:`project_simplex`. Both work on the last axis, take an optional boolean ``mask`` of the
allowed entries (PSRO's filled population slots), and are jit- and vmap-able.
"""

from __future__ import annotations

import chex
import jax.numpy as jnp

__all__ = ["normalise", "project_simplex", "uniform_on"]


def uniform_on(mask: chex.Array, dtype=jnp.float32) -> chex.Array:
    """The uniform distribution over the true entries of ``mask`` (last axis)."""
    mask = jnp.asarray(mask, bool)
    return (mask / jnp.sum(mask, axis=-1, keepdims=True)).astype(dtype)


def normalise(weights: chex.Array, mask: chex.Array | None = None) -> chex.Array:
    """``w^+ / sum(w^+)`` over the last axis, zero off ``mask``.

    Negative entries (float noise of an LP or a pivoting basis) count as zero; a row with no
    positive weight becomes uniform over ``mask`` (over every entry without one), so the
    answer is always on the simplex.

    Args:
      weights: ``[..., A]`` non-negative weights (up to rounding).
      mask: optional ``[..., A]`` booleans, the entries allowed to carry weight.
    Returns:
      ``[..., A]`` simplex vectors, in ``weights``' dtype.
    """
    weights = jnp.asarray(weights)
    mask = jnp.ones(weights.shape, bool) if mask is None else jnp.asarray(mask, bool)
    w = jnp.where(mask, jnp.maximum(weights, 0.0), 0.0)
    total = jnp.sum(w, axis=-1, keepdims=True)
    fallback = uniform_on(mask, weights.dtype)
    return jnp.where(total > 0, w / jnp.where(total > 0, total, 1.0), fallback).astype(weights.dtype)


def project_simplex(v: chex.Array, mask: chex.Array | None = None, floor=0.0) -> chex.Array:
    """Euclidean projection of ``v [A]`` onto ``{x : sum x = 1, x >= floor on mask, x = 0 off it}``.

    Sort-based (Held, Wolfe & Crowder 1974; Duchi et al. 2008): with ``s = 1 - floor k`` the
    mass above the floor (``k`` allowed entries), ``x = max(v - floor - theta, 0) + floor``
    where ``theta`` is the threshold that makes the entries above it sum to ``s``. Masked-out
    entries are moved below any possible threshold (``theta >= max v - floor - s``), so they
    get exactly zero. ``floor`` must satisfy ``floor * k < 1`` (PRD's exploration floor
    ``gamma / A``).
    """
    v = jnp.asarray(v)
    size = v.shape[-1]
    mask = jnp.ones((size,), bool) if mask is None else jnp.asarray(mask, bool)
    allowed = jnp.sum(mask).astype(v.dtype)
    mass = 1.0 - floor * allowed
    shifted = v - floor
    top = jnp.max(jnp.where(mask, shifted, -jnp.inf))
    shifted = jnp.where(mask, shifted, top - 2.0 * mass - 1.0)
    ordered = jnp.sort(shifted)[::-1]
    cumulative = jnp.cumsum(ordered)
    k = jnp.arange(1, size + 1, dtype=v.dtype)
    support = jnp.max(jnp.where(ordered - (cumulative - mass) / k > 0, k, 1.0))
    theta = (jnp.take(cumulative, support.astype(jnp.int32) - 1) - mass) / support
    return jnp.where(mask, jnp.maximum(shifted - theta, 0.0) + floor, 0.0)
