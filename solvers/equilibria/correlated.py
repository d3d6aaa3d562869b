"""Correlated (CE) and coarse correlated (CCE) equilibria of n-player games, by LP.

A joint distribution ``x`` over pure profiles is a *correlated equilibrium* (Aumann 1974) when
no player gains by a *swap* ``a -> a'`` of a recommended action:

    sum_{a_-i} x(a, a_-i) [u_i(a', a_-i) - u_i(a, a_-i)] <= 0   for all i, a, a',

and a *coarse* CE (Moulin & Vial 1978; Hannan) when no player gains by committing to ``a'``
before seeing the recommendation:

    sum_a x(a) [u_i(a', a_-i) - u_i(a)] <= 0   for all i, a'.

Both sets are polytopes; we pick the point that maximises a linear objective (social welfare
``sum_i u_i`` by default) with the float64 lexicographic simplex of :mod:`marljax.solvers.equilibria.lp`.
The constraints are homogeneous, so writing ``sum x = 1`` as ``sum x <= 1`` with a strictly
positive (shifted) objective gives an LP in slack form whose optimum has ``sum x = 1``.

The result's ``profile`` is the tuple of marginals of the joint (what a PSRO meta-solver plays
independently), ``nash_conv`` the marginals' NashConv, and ``gap`` the (C)CE gap of the joint.
"""

from __future__ import annotations

import chex
import jax.numpy as jnp
from flax import struct

from marljax import checks
from marljax.solvers.base import (
    DEFAULT_TOLERANCE,
    float64,
    game_check,
    jit_when_concrete,
    output_dtype,
    payoff_range,
    validated,
)
from marljax.solvers.equilibria.lp import linprog
from marljax.solvers.game import payoffs as normal_form
from marljax.solvers.game.simplex import normalise

__all__ = ["ce", "cce", "ce_gap", "cce_gap", "product_distribution", "marginals", "CorrelatedResult"]


@struct.dataclass
class CorrelatedResult:
    """``joint [A_1..A_n]`` the equilibrium distribution, ``gap`` its (C)CE gap, ``objective`` the
    expected objective under it, ``expected_payoffs [n]``; ``success``: LP optimal and
    ``gap <= tol * payoff range``. ``profile`` = marginals of ``joint``, ``nash_conv`` theirs."""

    profile: tuple
    nash_conv: chex.Array
    success: chex.Array
    joint: chex.Array
    gap: chex.Array
    objective: chex.Array
    expected_payoffs: chex.Array


def product_distribution(profile) -> chex.Array:
    """The joint distribution ``[A_1..A_n]`` of independent play of a mixed profile."""
    joint = profile[0]
    for p in profile[1:]:
        joint = joint[..., None] * p
    return joint


def marginals(joint: chex.Array) -> tuple:
    """Each player's marginal of a joint distribution ``[A_1..A_n]``."""
    axes = tuple(range(joint.ndim))
    return tuple(jnp.sum(joint, axis=tuple(a for a in axes if a != i)) for i in axes)


def _front(u_i: chex.Array, i: int) -> chex.Array:
    """Player ``i``'s payoffs with its own action first, the others flattened: ``[A_i, R]``."""
    return jnp.moveaxis(u_i, i, 0).reshape(u_i.shape[i], -1)


def _swap_gains(payoffs: chex.Array, i: int) -> chex.Array:
    """``G[a, a', joint]``: player ``i``'s gain from swapping ``a -> a'`` at each pure profile
    (zero where ``a_i != a``), flattened in the joint's C order: ``[A_i, A_i, N]``."""
    u = _front(payoffs[i], i)  # [A, R]
    size = u.shape[0]
    gains = u[None, :, :] - u[:, None, :]  # [a, a', R]
    on_a = jnp.eye(size, dtype=u.dtype)[:, None, :, None]  # [a, 1, a_i, 1]
    g = on_a * gains[:, :, None, :]  # [a, a', a_i, R]
    shape = payoffs.shape[1:]
    others = tuple(s for j, s in enumerate(shape) if j != i)
    g = g.reshape(size, size, size, *others)
    return jnp.moveaxis(g, 2, 2 + i).reshape(size, size, -1)


def _commit_gains(payoffs: chex.Array, i: int) -> chex.Array:
    """``G[a', joint]``: player ``i``'s gain from committing to ``a'`` at each pure profile: ``[A_i, N]``."""
    u = _front(payoffs[i], i)  # [A, R]
    size = u.shape[0]
    g = u[:, None, :] - u[None, :, :]  # [a', a_i, R]
    others = tuple(s for j, s in enumerate(payoffs.shape[1:]) if j != i)
    g = g.reshape(size, size, *others)
    return jnp.moveaxis(g, 1, 1 + i).reshape(size, -1)


def _ce_constraints(payoffs):
    return jnp.concatenate([_swap_gains(payoffs, i).reshape(-1, payoffs[0].size) for i in range(payoffs.shape[0])])


def _cce_constraints(payoffs):
    return jnp.concatenate([_commit_gains(payoffs, i) for i in range(payoffs.shape[0])])


def ce_gap(payoffs: chex.Array, joint: chex.Array) -> chex.Array:
    """``sum_i sum_a max_a' (swap gain)^+``: zero exactly at a correlated equilibrium."""
    x = joint.reshape(-1)
    return sum(jnp.sum(jnp.maximum(jnp.max(_swap_gains(payoffs, i) @ x, axis=1), 0.0)) for i in range(payoffs.shape[0]))


def cce_gap(payoffs: chex.Array, joint: chex.Array) -> chex.Array:
    """``sum_i max_a' (commit gain)^+``: zero exactly at a coarse correlated equilibrium."""
    x = joint.reshape(-1)
    return sum(jnp.maximum(jnp.max(_commit_gains(payoffs, i) @ x), 0.0) for i in range(payoffs.shape[0]))


@game_check
def _objective_option(name: str, objective, payoffs) -> chex.Array:
    """``"welfare"`` (the sum of payoffs) or one weight per pure profile, as an array."""
    if isinstance(objective, str):
        if objective != "welfare":
            raise ValueError(f"{name} must be 'welfare' or an array of shape {payoffs.shape[1:]}; got {objective!r}")
        return jnp.sum(payoffs, axis=0)
    objective = jnp.asarray(objective, payoffs.dtype)
    if objective.shape != payoffs.shape[1:]:
        raise ValueError(
            f"{name} must have shape {payoffs.shape[1:]} (one weight per pure profile); got {objective.shape}"
        )
    return objective


_CHECKS = dict(objective=_objective_option, tol=checks.number(0.0), max_pivots=checks.optional(checks.integer(1)))


@jit_when_concrete(static_argnums=(2, 3, 4, 5))
def _solve_lp(payoffs, target, constraints_fn, gap_fn, tol, max_pivots) -> CorrelatedResult:
    dtype = output_dtype(payoffs)
    with float64():
        game = jnp.asarray(payoffs, jnp.float64)
        target = jnp.asarray(target, jnp.float64).reshape(-1)
        constraints = constraints_fn(game) / payoff_range(game)
        # Shift the objective to be >= 1 so the optimum sits on sum x = 1 (see module doc).
        shifted = (target - jnp.min(target)) / payoff_range(target) + 1.0
        a_ub = jnp.concatenate([constraints, jnp.ones((1, target.size))])
        b_ub = jnp.zeros(a_ub.shape[0]).at[-1].set(1.0)
        lp = linprog(shifted, a_ub, b_ub, max_pivots)
        joint = normalise(lp.x).reshape(game.shape[1:])
        profile = marginals(joint)
        gap = gap_fn(game, joint)
        flat = joint.reshape(-1)
        return CorrelatedResult(
            profile=tuple(p.astype(dtype) for p in profile),
            nash_conv=normal_form.nash_conv(game, profile).astype(dtype),
            success=lp.success & (gap <= tol * payoff_range(game)),
            joint=joint.astype(dtype),
            gap=gap.astype(dtype),
            objective=(target @ flat).astype(dtype),
            expected_payoffs=(game.reshape(game.shape[0], -1) @ flat).astype(dtype),
        )


@validated(**_CHECKS)
def ce(
    payoffs: chex.Array, objective="welfare", tol: float = DEFAULT_TOLERANCE, max_pivots: int | None = None
) -> CorrelatedResult:
    """The correlated equilibrium maximising ``objective`` (``"welfare"`` = sum of payoffs, or a
    ``[A_1..A_n]`` array of weights per pure profile). jit- and vmap-able over games."""
    return _solve_lp(payoffs, objective, _ce_constraints, ce_gap, tol, max_pivots)


@validated(**_CHECKS)
def cce(
    payoffs: chex.Array, objective="welfare", tol: float = DEFAULT_TOLERANCE, max_pivots: int | None = None
) -> CorrelatedResult:
    """The coarse correlated equilibrium maximising ``objective`` (see :func:`ce`)."""
    return _solve_lp(payoffs, objective, _cce_constraints, cce_gap, tol, max_pivots)
