"""A dense, jittable, vmappable simplex method for linear programs in JAX.

Solves the LP in "slack form"

    maximise  c^T x   subject to   A x <= b,  x >= 0,   with  b >= 0,

so that ``x = 0`` (all slacks basic) is a feasible start and no phase one is needed. Every LP
in this package has that form: the zero-sum game LP (``max 1^T y, A' y <= 1`` with ``A' > 0``)
and the correlated-equilibrium LPs (homogeneous incentive constraints plus ``sum x <= 1``).

Method: the tableau simplex (Dantzig 1947) in float64 inside ``lax.while_loop``; entering
column by Dantzig's rule (most negative reduced cost), leaving row by the lexicographic
minimum-ratio test (:mod:`marljax.solvers.equilibria.pivoting`), which makes the method terminate on
degenerate LPs too. The pivot budget keeps the loop bounded; ``status`` says how it ended.

Optax style: ``solver = simplex(max_pivots)`` gives pure ``init(c, A, b)`` and ``update(state)``
(one pivot) and ``solve(c, A, b)``. :func:`linprog` is the one-call convenience.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import chex
import jax
import jax.numpy as jnp
from flax import struct

from marljax.checks import is_concrete
from marljax.solvers.base import argmin, float64
from marljax.solvers.equilibria.pivoting import lexicographic_min_ratio, pivot

__all__ = ["simplex", "linprog", "SimplexState", "LPResult", "OPTIMAL", "UNBOUNDED", "PIVOT_BUDGET"]

OPTIMAL, UNBOUNDED, PIVOT_BUDGET, RUNNING = 0, 1, 2, 3
REDUCED_COST_TOL = 1e-11


@struct.dataclass
class SimplexState:
    tableau: chex.Array  # [m + 1, n + m + 1]: constraint rows, then the reduced-cost row
    basis: chex.Array  # [m] index of the basic variable of each row (slacks are n..n+m-1)
    pivots: chex.Array
    status: chex.Array


@struct.dataclass
class LPResult:
    """``x`` primal optimum, ``dual`` the constraint multipliers (``A^T dual >= c``),
    ``objective`` = ``c^T x`` = ``b^T dual`` at the optimum, ``status`` OPTIMAL/UNBOUNDED/PIVOT_BUDGET."""

    x: chex.Array
    dual: chex.Array
    objective: chex.Array
    status: chex.Array
    pivots: chex.Array

    @property
    def success(self) -> chex.Array:
        return self.status == OPTIMAL


class Simplex(NamedTuple):
    init: Callable[..., SimplexState]
    update: Callable[[SimplexState], SimplexState]
    solve: Callable[..., LPResult]


def _check(c, A, b) -> None:
    if not is_concrete(c, A, b):
        return
    A = jnp.asarray(A)
    if A.ndim != 2 or jnp.shape(c) != (A.shape[1],) or jnp.shape(b) != (A.shape[0],):
        raise ValueError(f"linprog needs c [n], A [m, n], b [m]; got {jnp.shape(c)}, {A.shape}, {jnp.shape(b)}")
    for name, v in (("c", c), ("A", A), ("b", b)):
        if not bool(jnp.all(jnp.isfinite(jnp.asarray(v)))):
            raise ValueError(f"linprog: {name} has NaN or infinite entries")
    if bool(jnp.any(jnp.asarray(b) < 0)):
        raise ValueError("linprog needs b >= 0 (so that x = 0 is a feasible start)")


def simplex(max_pivots: int | None = None) -> Simplex:
    """Build the simplex solver. ``max_pivots`` defaults to ``10 (m + n) + 100``."""

    def init(c, A, b) -> SimplexState:
        _check(c, A, b)
        with float64():
            c, A, b = (jnp.asarray(v, jnp.float64) for v in (c, A, b))
            m, n = A.shape
            constraints = jnp.concatenate([A, jnp.eye(m), b[:, None]], axis=1)
            costs = jnp.concatenate([-c, jnp.zeros(m + 1)])[None, :]
            return SimplexState(
                tableau=jnp.concatenate([constraints, costs], axis=0),
                basis=jnp.arange(n, n + m, dtype=jnp.int32),
                pivots=jnp.int32(0),
                status=jnp.int32(RUNNING),
            )

    def update(state: SimplexState) -> SimplexState:
        """One pivot (or the final status when optimal/unbounded)."""
        with float64():
            t = state.tableau
            m = t.shape[0] - 1
            n = t.shape[1] - 1 - m
            costs = t[m, :-1]
            scale = 1.0 + jnp.max(jnp.abs(costs))
            col = argmin(costs)
            optimal = costs[col] >= -REDUCED_COST_TOL * scale
            row, bounded = lexicographic_min_ratio(t[:m, col], t[:m, -1], lambda j: t[:m, n + j], m)
            moving = ~optimal & bounded
            tableau = jnp.where(moving, pivot(t, row, col), t)
            basis = jnp.where(moving, state.basis.at[row].set(col), state.basis)
            status = jnp.where(optimal, OPTIMAL, jnp.where(bounded, RUNNING, UNBOUNDED))
            return SimplexState(tableau, basis, state.pivots + moving.astype(jnp.int32), status.astype(jnp.int32))

    def solve(c, A, b) -> LPResult:
        state = init(c, A, b)
        with float64():
            m, n = jnp.shape(A)
            budget = 10 * (m + n) + 100 if max_pivots is None else max_pivots

            def running(s):
                return (s.status == RUNNING) & (s.pivots < budget)

            state = jax.lax.while_loop(running, update, state)
            status = jnp.where(state.status == RUNNING, PIVOT_BUDGET, state.status)
            t = state.tableau
            x = jnp.zeros(n + m).at[state.basis].set(t[:m, -1])[:n]
            return LPResult(x=x, dual=t[m, n : n + m], objective=t[m, -1], status=status, pivots=state.pivots)

    return Simplex(init, update, solve)


def linprog(c, A, b, max_pivots: int | None = None) -> LPResult:
    """``max c^T x  s.t.  A x <= b, x >= 0`` (``b >= 0``), by the lexicographic simplex method.

    Returns float64 arrays (computed with x64 enabled at trace time).
    """
    return simplex(max_pivots).solve(c, A, b)
