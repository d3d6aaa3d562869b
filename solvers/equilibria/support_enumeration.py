"""Support enumeration: every Nash equilibrium of a small non-degenerate bimatrix game.

In a non-degenerate game every equilibrium has supports ``I`` (row) and ``J`` (column) of equal
size ``k`` (von Stengel 2002, Thm 2.10 / Porter, Nudelman & Shoham 2008). For each such pair
solve the indifference equations

    sum_{j in J} A_ij y_j = v   (i in I),   sum_j y_j = 1,   y_j = 0 (j not in J)
    sum_{i in I} B_ij x_i = w   (j in J),   sum_i x_i = 1,   x_i = 0 (i not in I)

and keep the pair if ``x, y >= 0`` and no action outside the support pays more
(``max_i (A y)_i <= v``, ``max_j (B^T x)_j <= w``). All ``sum_k C(m, k) C(n, k)`` support
pairs are solved in one vmapped batch of padded ``(n + 1) x (n + 1)`` linear systems, so the
cost grows combinatorially: meant for small games and as a test oracle (the same
equilibrium set as ``nashpy``'s ``support_enumeration`` on non-degenerate games).
"""

from __future__ import annotations

import itertools
import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from marljax import checks
from marljax.solvers.base import (
    DEFAULT_TOLERANCE,
    first_true,
    float64,
    jit_when_concrete,
    output_dtype,
    payoff_range,
    validated,
)
from marljax.solvers.game import payoffs as normal_form
from marljax.solvers.game.simplex import normalise

__all__ = ["support_enumeration", "SupportEnumerationResult", "equilibria"]

#: Above this many support pairs we refuse (the batch of linear systems would be huge).
MAX_SUPPORT_PAIRS = 200_000


@struct.dataclass
class SupportEnumerationResult:
    """``row_strategies [P, m]``, ``column_strategies [P, n]`` for every equal-size support pair
    ``P``; ``is_equilibrium [P]`` marks the equilibria. ``profile``/``nash_conv`` are the first
    equilibrium's (uniform and its NashConv when there is none); ``success``: one was found."""

    profile: tuple
    nash_conv: chex.Array
    success: chex.Array
    row_strategies: chex.Array
    column_strategies: chex.Array
    is_equilibrium: chex.Array
    num_equilibria: chex.Array


def _support_pairs(m: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks ``[P, m]`` and ``[P, n]`` of all support pairs of equal size."""
    rows, columns = [], []
    for k in range(1, min(m, n) + 1):
        for i_set in itertools.combinations(range(m), k):
            for j_set in itertools.combinations(range(n), k):
                rows.append(np.isin(np.arange(m), i_set))
                columns.append(np.isin(np.arange(n), j_set))
    return np.array(rows), np.array(columns)


def _indifferent_mixture(matrix: chex.Array, own: chex.Array, other: chex.Array):
    """The mixture over ``other``'s support that makes every action in ``own`` indifferent.

    ``matrix [a, b]``: payoff to the indifferent player for its action ``a`` against ``b``.
    Solves the padded square system in the unknowns ``(z [b], v)``: one equation per
    ``own`` action (``matrix[a] . z = v``), ``z_b = 0`` off ``other``'s support, ``sum z = 1``.
    Because ``|own| = |other|`` exactly ``b_size + 1`` equations are active. Returns ``(z, v)``.
    """
    a_size, b_size = matrix.shape
    r = jnp.arange(b_size)
    k = jnp.sum(own)
    own_first = jnp.argsort(~own, stable=True)  # the own-support actions, then the rest
    off_first = jnp.argsort(other, stable=True)  # the off-support columns, then the rest
    eq_rows = matrix[own_first[jnp.clip(r, 0, a_size - 1)]]
    unit_rows = jax.nn.one_hot(off_first[jnp.clip(r - k, 0, b_size - 1)], b_size, dtype=matrix.dtype)
    is_indifference = r < k
    body = jnp.where(is_indifference[:, None], eq_rows * other[None, :], unit_rows)
    system = jnp.concatenate([body, -is_indifference[:, None].astype(matrix.dtype)], axis=1)
    system = jnp.concatenate([system, jnp.concatenate([other.astype(matrix.dtype), jnp.zeros(1)])[None]], axis=0)
    rhs = jnp.zeros(b_size + 1).at[-1].set(1.0)
    solution = jnp.linalg.solve(system, rhs)
    return solution[:-1], solution[-1]


@validated(num_players=2, tol=checks.number(0.0))
def support_enumeration(payoffs: chex.Array, tol: float = DEFAULT_TOLERANCE) -> SupportEnumerationResult:
    """All Nash equilibria of a non-degenerate two-player game (small games only).

    Args:
      payoffs: ``[2, m, n]`` payoff tensor.
      tol: feasibility/best-response tolerance relative to the payoff range.
    Returns:
      :class:`SupportEnumerationResult` (fixed shapes: jit- and vmap-able over games); use
      :func:`equilibria` to list the equilibria as numpy arrays.
    """
    return _support_enumeration(payoffs, tol)


@jit_when_concrete(static_argnums=(1,))
def _support_enumeration(payoffs, tol) -> SupportEnumerationResult:
    dtype = output_dtype(payoffs)
    m, n = payoffs.shape[1:]
    num_pairs = sum(math.comb(m, k) * math.comb(n, k) for k in range(1, min(m, n) + 1))
    if num_pairs > MAX_SUPPORT_PAIRS:
        raise ValueError(
            f"support enumeration of a {m}x{n} game needs {num_pairs:.3g} support pairs "
            f"(limit {MAX_SUPPORT_PAIRS}); use lemke_howson for games this large"
        )
    row_masks, column_masks = _support_pairs(m, n)
    with float64():
        game = jnp.asarray(payoffs, jnp.float64)
        a, b = game[0], game[1]
        slack = tol * payoff_range(game)

        def candidate(row_support, column_support):
            y, v = _indifferent_mixture(a, row_support, column_support)
            x, w = _indifferent_mixture(b.T, column_support, row_support)
            feasible = jnp.all(x >= -slack) & jnp.all(y >= -slack) & jnp.all(jnp.isfinite(x)) & jnp.all(jnp.isfinite(y))
            best_reply = (jnp.max(a @ y) <= v + slack) & (jnp.max(x @ b) <= w + slack)
            return normalise(x), normalise(y), feasible & best_reply

        xs, ys, found = jax.vmap(candidate)(jnp.asarray(row_masks), jnp.asarray(column_masks))
        xs = jnp.where(found[:, None], xs, 0.0)
        ys = jnp.where(found[:, None], ys, 0.0)
        first = first_true(found)
        # Without an equilibrium (a degenerate game) the profile is uniform, with its NashConv.
        profile = (
            jnp.where(found[first], xs[first], 1.0 / m),
            jnp.where(found[first], ys[first], 1.0 / n),
        )
        conv = normal_form.nash_conv(game, profile)
        return SupportEnumerationResult(
            profile=tuple(p.astype(dtype) for p in profile),
            nash_conv=conv.astype(dtype),
            success=jnp.any(found),
            row_strategies=xs.astype(dtype),
            column_strategies=ys.astype(dtype),
            is_equilibrium=found,
            num_equilibria=jnp.sum(found).astype(jnp.int32),
        )


def equilibria(result: SupportEnumerationResult) -> list[tuple[np.ndarray, np.ndarray]]:
    """The equilibria of one (unbatched) result as a list of numpy ``(x, y)`` pairs."""
    found = np.asarray(result.is_equilibrium)
    return [
        (np.asarray(x), np.asarray(y)) for x, y, f in zip(result.row_strategies, result.column_strategies, found) if f
    ]
