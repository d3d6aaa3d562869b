"""Tableau pivoting shared by the simplex method (:mod:`marljax.solvers.equilibria.lp`) and
Lemke-Howson (:mod:`marljax.solvers.equilibria.lemke_howson`).

Both keep a dense tableau ``T = [B^{-1} A | B^{-1} b]`` of fixed shape and pivot inside
``lax.while_loop``. The leaving row is chosen by the *lexicographic* minimum-ratio test: among
rows with a positive entry in the entering column, minimise ``(b_r, (B^{-1})_r) / T[r, col]``
lexicographically. As long as the rows start lexicographically positive (true for a slack
basis with ``b >= 0``), no basis repeats, so degenerate problems (ties, integer payoffs) can
not cycle (Dantzig, Orden & Wolfe 1955; von Stengel 2002, section 6 for Lemke-Howson).
"""

from __future__ import annotations

from typing import Callable

import chex
import jax
import jax.numpy as jnp

from marljax.solvers.base import first_true

__all__ = ["lexicographic_min_ratio", "pivot"]

#: Entries at most this large are treated as zero when choosing pivots (float64 tableaux).
PIVOT_TOL = 1e-12
#: Relative tolerance under which two ratios count as tied.
TIE_TOL = 1e-9


def lexicographic_min_ratio(
    column: chex.Array,
    rhs: chex.Array,
    tie_breaker: Callable[[chex.Array], chex.Array],
    num_tie_breakers: int,
    eligible: chex.Array | None = None,
) -> tuple[chex.Array, chex.Array]:
    """Leaving row of the lexicographic minimum-ratio test.

    Args:
      column: ``[R]`` entering column of the tableau.
      rhs: ``[R]`` right-hand side ``B^{-1} b``.
      tie_breaker: ``j -> [R]`` the ``j``-th column of ``B^{-1}`` (the tableau columns that
        started as the identity), read only when ratios tie.
      num_tie_breakers: how many such columns there are (static).
      eligible: ``[R]`` rows that may leave (default all).
    Returns:
      ``(row, bounded)``: the leaving row and whether any row had a positive entry (if not,
      the ray is unbounded and ``row`` is meaningless).
    """
    positive = column > PIVOT_TOL
    if eligible is not None:
        positive = positive & eligible
    safe = jnp.where(positive, column, 1.0)

    def keep_minimal(candidates, values):
        ratio = jnp.where(candidates, values / safe, jnp.inf)
        best = jnp.min(ratio)
        return candidates & (ratio <= best + TIE_TOL * (1.0 + jnp.abs(best)))

    candidates = keep_minimal(positive, rhs)

    def tied(carry):
        j, cand = carry
        return (j < num_tie_breakers) & (jnp.sum(cand) > 1)

    def break_tie(carry):
        j, cand = carry
        return j + 1, keep_minimal(cand, tie_breaker(j))

    _, candidates = jax.lax.while_loop(tied, break_tie, (jnp.int32(0), candidates))
    return first_true(candidates), jnp.any(positive)


def pivot(tableau: chex.Array, row: chex.Array, col: chex.Array, rows: chex.Array | None = None) -> chex.Array:
    """Gauss-Jordan pivot on ``tableau[row, col]``: the column becomes the unit vector ``e_row``.

    Works on any extra rows too (e.g. an objective row stacked last); ``rows`` (a ``[R]`` mask)
    limits the elimination to some rows (the others belong to an independent system).
    """
    pivot_row = tableau[row] / tableau[row, col]
    factors = tableau[:, col] if rows is None else jnp.where(rows, tableau[:, col], 0.0)
    updated = tableau - factors[:, None] * pivot_row[None, :]
    return updated.at[row].set(pivot_row)
