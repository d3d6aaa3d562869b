"""Two-player zero-sum games to LP precision.

For the row player's payoff matrix ``A`` (``u_1 = A``, ``u_2 = -A``; for a ``[2, m, n]`` tensor
only ``u_1`` is used), the value ``v = max_p min_q p^T A q`` and optimal strategies come from one
LP (von Neumann's minimax theorem; the LP form is in e.g. Shoham & Leyton-Brown 2009, 4.2.3).
Shift and scale ``A`` into ``A' = (A - min A) / range + 1 >= 1`` so the value ``v' > 0``, then

    maximise  1^T y   subject to   A' y <= 1,  y >= 0.

At the optimum ``v' = 1 / 1^T y``, the column player's minimax strategy is ``q = v' y`` and the
row player's maximin strategy is ``p = v' w`` for the LP dual ``w`` (``A'^T w >= 1``). The LP is
solved by the float64 lexicographic simplex of :mod:`marljax.solvers.equilibria.lp`, so ties and integer
payoffs do not cycle, and the answer is exact up to float64 rounding.
"""

from __future__ import annotations

import chex
import jax.numpy as jnp
from flax import struct

from marljax import checks
from marljax.solvers.base import (
    DEFAULT_TOLERANCE,
    float64,
    jit_when_concrete,
    output_dtype,
    payoff_range,
    validated,
    verified,
)
from marljax.solvers.equilibria.lp import linprog
from marljax.solvers.game import payoffs as normal_form
from marljax.solvers.game.simplex import normalise

__all__ = ["zero_sum", "ZeroSumResult"]


@struct.dataclass
class ZeroSumResult:
    """``value`` is the row player's game value; ``success``: LP optimal and NashConv (in the
    game as given) within ``tol * payoff range``."""

    profile: tuple
    nash_conv: chex.Array
    success: chex.Array
    value: chex.Array
    pivots: chex.Array


@validated(num_players=2, zero_sum=True, tol=checks.number(0.0), max_pivots=checks.optional(checks.integer(1)))
def zero_sum(payoffs: chex.Array, tol: float = DEFAULT_TOLERANCE, max_pivots: int | None = None) -> ZeroSumResult:
    """Minimax strategies and value of a two-player zero-sum game.

    Args:
      payoffs: ``[2, m, n]`` zero-sum payoff tensor (``u_2 = -u_1``; a general-sum game is a
        ``ValueError``), or the row player's ``[m, n]`` matrix.
      tol: verification tolerance relative to the payoff range.
      max_pivots: simplex pivot budget (default ``10 (m + n) + 100``).
    Returns:
      :class:`ZeroSumResult`; jit- and vmap-able (batch games with ``jax.vmap``). Under a
      transformation the zero-sum check cannot run, but ``success`` still verifies NashConv
      in the game as given.
    """
    return _zero_sum(payoffs, tol, max_pivots)


@jit_when_concrete(static_argnums=(1, 2))
def _zero_sum(payoffs, tol, max_pivots) -> ZeroSumResult:
    dtype = output_dtype(payoffs)
    with float64():
        a = jnp.asarray(payoffs[0], jnp.float64)
        low, spread = jnp.min(a), payoff_range(a)
        shifted = (a - low) / spread + 1.0
        m, n = a.shape
        lp = linprog(jnp.ones(n), shifted, jnp.ones(m), max_pivots)
        value_shifted = 1.0 / jnp.sum(lp.x)
        column = normalise(lp.x)
        row = normalise(lp.dual)
        game = jnp.asarray(payoffs, jnp.float64)
        profile64 = (row, column)
        nash_conv = normal_form.nash_conv(game, profile64)
        value = (value_shifted - 1.0) * spread + low
        success = lp.success & verified(nash_conv, game, tol)
        return ZeroSumResult(
            profile=tuple(p.astype(dtype) for p in profile64),
            nash_conv=nash_conv.astype(dtype),
            success=success,
            value=value.astype(dtype),
            pivots=lp.pivots,
        )
