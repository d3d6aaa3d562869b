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
    """One Lemke-Howson path, in the solvers' one contract."""

    init: Callable[..., LemkeHowsonState]  # (payoffs, label=0) -> state
    update: Callable[..., LemkeHowsonState]  # (state, payoffs) -> state: one pivot
    solve: Callable[..., LemkeHowsonResult]  # (payoffs, label=0) -> result
    running: Callable[[LemkeHowsonState], chex.Array]  # the path has not ended


def _positive(matrix: chex.Array) -> chex.Array:
    return (matrix - jnp.min(matrix)) / payoff_range(matrix) + 1.0


def _init_path(payoffs, label) -> LemkeHowsonState:
    """The artificial equilibrium ``(0, 0)`` of the positive tableau, about to drop ``label``."""
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


def _pivot_path(state: LemkeHowsonState) -> LemkeHowsonState:
    """One pivot along the path (the tableau already holds the game)."""
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


def _running(state: LemkeHowsonState, max_pivots: int | None) -> chex.Array:
    budget = 50 * state.tableau.shape[0] if max_pivots is None else max_pivots
    return ~state.finished & ~state.stuck & (state.pivots < budget)


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


def _verify(game, state: LemkeHowsonState, tol: float):
    """``(NashConv of the path's profile, it ended at an equilibrium within tol * range)``."""
    conv = normal_form.nash_conv(game, strategies(state, game.shape[1]))
    return conv, state.finished & (conv <= tol * payoff_range(game))


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


@game_check
def _label_option(name: str, label, payoffs):
    """One starting label: an integer in ``[0, m + n)``."""
    if not is_concrete(label):
        return label
    if np.ndim(label) != 0:
        raise ValueError(f"{name} must be one integer label; got {label!r}")
    return _labels_option(name, label, payoffs)[0]


@validated(max_pivots=checks.optional(checks.integer(1)), tol=checks.number(0.0))
def lemke_howson_solver(max_pivots: int | None = None, tol: float = DEFAULT_TOLERANCE) -> LemkeHowsonSolver:
    """One Lemke-Howson path as pure ``init(payoffs, label=0)``, ``update(state, payoffs)`` (one
    pivot) and ``solve(payoffs, label=0)``, in float64 (:func:`lemke_howson` runs every label).

    Args:
      max_pivots: pivot budget of the path (default ``50 (m + n)``).
      tol: verification tolerance relative to the payoff range.
    Returns:
      :class:`LemkeHowsonSolver`; its ``solve`` gives a :class:`LemkeHowsonResult` whose
      ``success`` says the path ended at a verified equilibrium (``num_verified`` is 0 or 1).
      ``state.finished`` is the path's convergence measure (completely labelled).
    """

    def update(state: LemkeHowsonState, payoffs) -> LemkeHowsonState:
        del payoffs  # the tableau holds the game; taken for the one (state, payoffs) contract
        return _pivot_path(state)

    @validated(num_players=2, label=_label_option)
    def solve(payoffs, label=0) -> LemkeHowsonResult:
        dtype = output_dtype(payoffs)
        with float64():
            game = jnp.asarray(payoffs, jnp.float64)
            state = jax.lax.while_loop(lambda s: _running(s, max_pivots), _pivot_path, _init_path(game, label))
            conv, good = _verify(game, state, tol)
            x, y = strategies(state, game.shape[1])
            return LemkeHowsonResult(
                profile=(x.astype(dtype), y.astype(dtype)),
                nash_conv=conv.astype(dtype),
                success=good,
                label=jnp.asarray(label, jnp.int32),
                pivots=state.pivots,
                num_verified=good.astype(jnp.int32),
            )

    init = validated(num_players=2, label=_label_option)(_init_path)
    return LemkeHowsonSolver(init, update, solve, lambda state: _running(state, max_pivots))


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
    running = jax.vmap(lambda state: _running(state, max_pivots))
    with float64():
        game = jnp.asarray(payoffs, jnp.float64)
        check = jax.vmap(lambda state: _verify(game, state, tol))

        # All labels advance together; stop as soon as one path ends at a verified equilibrium
        # (the shortest path wins) or every path has stopped.
        def searching(carry):
            states, _, good = carry
            return ~jnp.any(good) & jnp.any(running(states))

        def advance(carry):
            states, _, _ = carry
            active = running(states)
            moved = jax.vmap(_pivot_path)(states)
            states = jax.tree_util.tree_map(
                lambda new, old: jnp.where(active.reshape((-1,) + (1,) * (new.ndim - 1)), new, old), moved, states
            )
            return (states, *check(states))

        states = jax.vmap(_init_path, in_axes=(None, 0))(game, labels)
        start = (states, jnp.full(labels.shape, jnp.inf), jnp.zeros(labels.shape, bool))
        states, conv, good = jax.lax.while_loop(searching, advance, start)
        best = first_true(good)
        x, y = strategies(jax.tree_util.tree_map(lambda leaf: leaf[best], states), m)
        return LemkeHowsonResult(
            profile=(x.astype(dtype), y.astype(dtype)),
            nash_conv=conv[best].astype(dtype),
            success=good[best],
            label=labels[best],
            pivots=states.pivots[best],
            num_verified=jnp.sum(good).astype(jnp.int32),
        )
