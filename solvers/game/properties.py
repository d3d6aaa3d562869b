"""Kinds of game, decided on concrete payoff tensors (outside jit): zero-sum, symmetric.

Solvers that need a kind (the zero-sum LP, PSRO's shared population) ask these once at the
API boundary, so the answer is a Python bool and picks a code path before anything compiles.
"""

from __future__ import annotations

import numpy as np

__all__ = ["is_zero_sum", "is_symmetric"]


def is_zero_sum(payoffs, atol: float = 1e-6) -> bool:
    """Whether a concrete two-player game is zero-sum: ``u_1 + u_2 = 0`` everywhere (within
    ``atol`` times the payoff scale)."""
    u = np.asarray(payoffs, np.float64)
    scale = max(1.0, float(np.max(np.abs(u)))) if u.size else 1.0
    return u.shape[0] == 2 and bool(np.max(np.abs(u[0] + u[1])) <= atol * scale)


def is_symmetric(payoffs, atol: float = 1e-6) -> bool:
    """Whether a concrete two-player game is symmetric: square, with ``u_2 = u_1^T``."""
    u = np.asarray(payoffs, np.float64)
    if u.shape[0] != 2 or u.ndim != 3 or u.shape[1] != u.shape[2]:
        return False
    scale = max(1.0, float(np.max(np.abs(u)))) if u.size else 1.0
    return bool(np.max(np.abs(u[1] - u[0].T)) <= atol * scale)
