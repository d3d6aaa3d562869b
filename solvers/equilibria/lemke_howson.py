"""Lemke-Howson for two-player general-sum (bimatrix) games, jitted and vmapped over labels.

Algorithm (Lemke & Howson 1964; the tableau form of von Stengel 2002, "Computing equilibria for
two-person games", sections 2.5-2.7). Shift each player's payoffs to be positive,
``A' = (A - min A) / range + 1`` and likewise ``B'`` (a positive affine map of each player's
payoffs keeps every equilibrium). Labels ``0..m-1`` are the row player's actions and ``m..m+n-1``
the column player's. The polytopes

    P = {x >= 0 : B'^T x <= 1}   (x_i has label i, the slack of column j has label m + j)
    Q = {y >= 0 : A' y <= 1}     (the slack of row i has label i, y_j has label m + j)

are kept in one tableau of fixed shape ``[m + n, m + n + 1]`` whose column ``l`` is the variable
with label ``l``: the first ``m`` rows are Q's system ``[I | A' | 1]``, the last ``n`` rows P's
``[B'^T | I | 1]``; a pivot eliminates only within the entering variable's own block. Starting from
``(0, 0)`` (all labels present twice), *drop* label ``k``: bring the variable with label ``k``
into the basis; the variable that leaves has some label ``l`` that is now missing from its
polytope, so bring the variable with label ``l`` into the *other* polytope's basis; repeat until
the label that leaves is ``k`` itself. The pair then is completely labelled and
``(x / 1^T x, y / 1^T y)`` is a Nash equilibrium.

Degenerate games (ties, integer payoffs) make the plain minimum-ratio test ambiguous and LH can
cycle; the lexicographic ratio test of :mod:`marljax.solvers.equilibria.pivoting` removes that. Pivots run
in float64 with a pivot budget; each finished path is *verified* (NashConv of the answer within
``tol * payoff range``). :func:`lemke_howson` runs all ``m + n`` starting labels in one vmapped
call and returns the first verified equilibrium.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import chex
import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from marljax import checks
from marljax.checks import is_concrete
from marljax.solvers.base import (
    DEFAULT_TOLERANCE,
    first_true,
    float64,
    game_check,
    jit_when_concrete,
    output_dtype,
    payoff_range,
    validated,
)
from marljax.solvers.equilibria.pivoting import lexicographic_min_ratio, pivot
from marljax.solvers.game import payoffs as normal_form
from marljax.solvers.game.simplex import normalise

__all__ = ["lemke_howson", "lemke_howson_solver", "LemkeHowsonState", "LemkeHowsonResult"]


@struct.dataclass
class LemkeHowsonState:
    tableau: chex.Array  # [m + n, m + n + 1]: Q's rows, then P's; column l = label l; rhs last
    basis: chex.Array  # [m + n] label of the basic variable of each row
    in_p: chex.Array  # [m + n] bool: the row belongs to P (else Q)
    num_rows_q: chex.Array  # m (kept, not recounted from ``in_p``: XLA would constant-fold that per batch)
    entering: chex.Array  # label of the variable that enters at the next pivot...
    entering_in_p: chex.Array  # ...and whether it enters P (else Q)
    dropped_label: chex.Array
    pivots: chex.Array
    finished: chex.Array  # the dropped label left: completely labelled
    stuck: chex.Array  # no positive pivot (cannot happen with positive payoffs; kept as a guard)


@struct.dataclass
class LemkeHowsonResult:
    """``success``: some path ended within the pivot budget at a verified equilibrium
    (NashConv <= ``tol * payoff range``); ``label`` is the dropped label that found it,
    ``pivots`` the length of its path and ``num_verified`` how many labels gave one."""

    profile: tuple
    nash_conv: chex.Array
    success: chex.Array
    label: chex.Array
    pivots: chex.Array
    num_verified: chex.Array


class LemkeHowsonSolver(NamedTuple):
    init: Callable[..., LemkeHowsonState]
    update: Callable[[LemkeHowsonState], LemkeHowsonState]
    solve: Callable[..., tuple]
    running: Callable[[LemkeHowsonState], chex.Array]


def _positive(matrix: chex.Array) -> chex.Array:
    return (matrix - jnp.min(matrix)) / payoff_range(matrix) + 1.0


def lemke_howson_solver(max_pivots: int | None = None) -> LemkeHowsonSolver:
    """Build the pivoting solver for one starting label (``max_pivots`` defaults to
    ``50 (m + n)``). ``solve(payoffs, label) -> (x, y, pivots, finished)`` in float64."""

    def init(payoffs, label) -> LemkeHowsonState:
        with float64():
            a = _positive(jnp.asarray(payoffs[0], jnp.float64))
            b = _positive(jnp.asarray(payoffs[1], jnp.float64))
            m, n = a.shape
            q_rows = jnp.concatenate([jnp.eye(m), a, jnp.ones((m, 1))], axis=1)  # r_i, y_j
            p_rows = jnp.concatenate([b.T, jnp.eye(n), jnp.ones((n, 1))], axis=1)  # x_i, s_j
            label = jnp.asarray(label, jnp.int32)
            return LemkeHowsonState(
                tableau=jnp.concatenate([q_rows, p_rows], axis=0),
                basis=jnp.arange(m + n, dtype=jnp.int32),  # the slacks r_i (label i), s_j (m + j)
                in_p=jnp.arange(m + n) >= m,
                num_rows_q=jnp.int32(m),
                # Dropping a row action k brings x_k into P; a column action brings y into Q.
                entering=label,
                entering_in_p=label < m,
                dropped_label=label,
                pivots=jnp.int32(0),
                finished=jnp.bool_(False),
                stuck=jnp.bool_(False),
            )

    def update(state: LemkeHowsonState) -> LemkeHowsonState:
        with float64():
            t = state.tableau
            size = t.shape[0]  # m + n
            col = state.entering
            block = state.in_p == state.entering_in_p
            # B^{-1} of a block sits in the columns of its slacks: Q's from label 0, P's from m.
            first_slack = jnp.where(state.entering_in_p, state.num_rows_q, 0)
            row, bounded = lexicographic_min_ratio(
                t[:, col], t[:, -1], lambda j: t[:, (first_slack + j) % size], size, eligible=block
            )
            leaving = state.basis[row]
            return state.replace(
                tableau=jnp.where(bounded, pivot(t, row, col, rows=block), t),
                basis=jnp.where(bounded, state.basis.at[row].set(col), state.basis),
                # The label that left is now missing in this polytope: enter it in the other one.
                entering=leaving,
                entering_in_p=~state.entering_in_p,
                pivots=state.pivots + 1,
                finished=bounded & (leaving == state.dropped_label),
                stuck=~bounded,
            )

    def running(state: LemkeHowsonState) -> chex.Array:
        budget = 50 * state.tableau.shape[0] if max_pivots is None else max_pivots
        return ~state.finished & ~state.stuck & (state.pivots < budget)

    def solve(payoffs, label):
        """Follow one path to its end: ``(x, y, pivots, finished)``."""
        state = init(payoffs, label)
        with float64():
            state = jax.lax.while_loop(running, update, state)
            x, y = strategies(state, payoffs.shape[1])
            return x, y, state.pivots, state.finished

    return LemkeHowsonSolver(init, update, solve, running)


def strategies(state: LemkeHowsonState, m: int) -> tuple[chex.Array, chex.Array]:
    """The normalised ``(x [m], y [n])`` of the current basis (an equilibrium once ``finished``).

    ``x_i`` is the value of P's basic variable with label ``i``; ``y_j`` of Q's with label ``m + j``.
    """
    size = state.tableau.shape[0]
    rhs = state.tableau[:, -1]
    # Rows whose basic variable is not an x (resp. y) scatter out of range and are dropped.
    x_slot = jnp.where(state.in_p & (state.basis < m), state.basis, size)
    y_slot = jnp.where(~state.in_p & (state.basis >= m), state.basis - m, size)
    x = jnp.zeros(m, rhs.dtype).at[x_slot].set(rhs, mode="drop")
    y = jnp.zeros(size - m, rhs.dtype).at[y_slot].set(rhs, mode="drop")
    return normalise(x), normalise(y)


@game_check
def _labels_option(name: str, labels, payoffs):
    """Starting labels: a non-empty list of integers in ``[0, m + n)``."""
    if labels is None or not is_concrete(labels):
        return labels
    size = payoffs.shape[1] + payoffs.shape[2]
    values = np.atleast_1d(np.asarray(labels))
    if values.ndim != 1 or values.size == 0 or not np.issubdtype(values.dtype, np.integer):
        raise ValueError(f"{name} must be a non-empty list of integer labels in [0, {size}); got {labels!r}")
    if values.min() < 0 or values.max() >= size:
        raise ValueError(
            f"{name} must lie in [0, {size}) for a {payoffs.shape[1]}x{payoffs.shape[2]} game; got {labels!r}"
        )
    return jnp.asarray(values, jnp.int32)


@validated(
    num_players=2,
    labels=_labels_option,
    max_pivots=checks.optional(checks.integer(1)),
    tol=checks.number(0.0),
)
def lemke_howson(
    payoffs: chex.Array,
    labels=None,
    max_pivots: int | None = None,
    tol: float = DEFAULT_TOLERANCE,
) -> LemkeHowsonResult:
    """A verified Nash equilibrium of a two-player game by Lemke-Howson.

    Args:
      payoffs: ``[2, m, n]`` payoff tensor.
      labels: starting labels to try (default all ``m + n``, in one vmapped call); the first
        (in the order given) whose path ends at a verified equilibrium is returned.
      max_pivots: pivot budget per path (default ``50 (m + n)``).
      tol: verification tolerance relative to the payoff range.
    Returns:
      :class:`LemkeHowsonResult`; jit- and vmap-able over games of one shape.
    """
    return _lemke_howson(payoffs, labels, max_pivots, tol)


@jit_when_concrete(static_argnums=(2, 3))
def _lemke_howson(payoffs, labels, max_pivots, tol) -> LemkeHowsonResult:
    dtype = output_dtype(payoffs)
    m, n = payoffs.shape[1:]
    labels = jnp.arange(m + n, dtype=jnp.int32) if labels is None else jnp.atleast_1d(jnp.asarray(labels, jnp.int32))
    solver = lemke_howson_solver(max_pivots)
    with float64():
        game = jnp.asarray(payoffs, jnp.float64)
        slack = tol * payoff_range(game)

        def profile_of(state):
            return strategies(state, m)

        def check(state):
            conv = normal_form.nash_conv(game, profile_of(state))
            return conv, state.finished & (conv <= slack)

        # All labels advance together; stop as soon as one path ends at a verified equilibrium
        # (the shortest path wins) or every path has stopped.
        def searching(carry):
            states, _, good = carry
            return ~jnp.any(good) & jnp.any(jax.vmap(solver.running)(states))

        def advance(carry):
            states, _, _ = carry
            active = jax.vmap(solver.running)(states)
            moved = jax.vmap(solver.update)(states)
            states = jax.tree_util.tree_map(
                lambda new, old: jnp.where(active.reshape((-1,) + (1,) * (new.ndim - 1)), new, old), moved, states
            )
            return (states, *jax.vmap(check)(states))

        states = jax.vmap(solver.init, in_axes=(None, 0))(game, labels)
        start = (states, jnp.full(labels.shape, jnp.inf), jnp.zeros(labels.shape, bool))
        states, conv, good = jax.lax.while_loop(searching, advance, start)
        best = first_true(good)
        x, y = profile_of(jax.tree_util.tree_map(lambda leaf: leaf[best], states))
        return LemkeHowsonResult(
            profile=(x.astype(dtype), y.astype(dtype)),
            nash_conv=conv[best].astype(dtype),
            success=good[best],
            label=labels[best],
            pivots=states.pivots[best],
            num_verified=jnp.sum(good).astype(jnp.int32),
        )
