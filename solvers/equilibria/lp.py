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

:func:`linprog` is the one public call (the zero-sum and correlated-equilibrium solvers use it);
its tableau steps (``_init``, ``_pivot``) are private: an LP is not a game, so it is not one of
the ``init(payoffs)``/``update(state, payoffs)`` solvers.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
from flax import struct

from marljax.checks import is_concrete
from marljax.solvers.base import argmin, float64
from marljax.solvers.equilibria.pivoting import lexicographic_min_ratio, pivot

__all__ = ["linprog", "LPResult", "OPTIMAL", "UNBOUNDED", "PIVOT_BUDGET"]

OPTIMAL, UNBOUNDED, PIVOT_BUDGET, RUNNING = 0, 1, 2, 3
REDUCED_COST_TOL = 1e-11


@struct.dataclass
class _Tableau:
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


def _init(c, A, b) -> _Tableau:
    """All slacks basic: ``x = 0``, feasible because ``b >= 0``."""
    with float64():
        c, A, b = (jnp.asarray(v, jnp.float64) for v in (c, A, b))
        m, n = A.shape
        constraints = jnp.concatenate([A, jnp.eye(m), b[:, None]], axis=1)
        costs = jnp.concatenate([-c, jnp.zeros(m + 1)])[None, :]
        return _Tableau(
            tableau=jnp.concatenate([constraints, costs], axis=0),
            basis=jnp.arange(n, n + m, dtype=jnp.int32),
            pivots=jnp.int32(0),
            status=jnp.int32(RUNNING),
        )


def _pivot(state: _Tableau) -> _Tableau:
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
        return _Tableau(tableau, basis, state.pivots + moving.astype(jnp.int32), status.astype(jnp.int32))


def linprog(c, A, b, max_pivots: int | None = None) -> LPResult:
    """``max c^T x  s.t.  A x <= b, x >= 0`` (``b >= 0``), by the lexicographic simplex method.

    Args:
      c: ``[n]`` objective.
      A: ``[m, n]`` constraint matrix.
      b: ``[m]`` right-hand side, ``>= 0``.
      max_pivots: pivot budget (default ``10 (m + n) + 100``).
    Returns:
      :class:`LPResult` of float64 arrays (computed with x64 enabled at trace time).
    """
    _check(c, A, b)
    state = _init(c, A, b)
    with float64():
        m, n = jnp.shape(A)
        budget = 10 * (m + n) + 100 if max_pivots is None else max_pivots

        def running(s):
            return (s.status == RUNNING) & (s.pivots < budget)

        state = jax.lax.while_loop(running, _pivot, state)
        status = jnp.where(state.status == RUNNING, PIVOT_BUDGET, state.status)
        t = state.tableau
        x = jnp.zeros(n + m).at[state.basis].set(t[:m, -1])[:n]
        return LPResult(x=x, dual=t[m, n : n + m], objective=t[m, -1], status=status, pivots=state.pivots)
