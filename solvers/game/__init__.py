"""What a normal-form game is, as functions of its payoff tensor ``[n, A_1, ..., A_n]``.

Read :mod:`~marljax.solvers.game.payoffs` first: expected and deviation payoffs, NashConv and
exploitability of a mixed profile. Every solver family builds on these.
:mod:`~marljax.solvers.game.properties` decides kinds of game (zero-sum, symmetric).
"""

from marljax.solvers.game import payoffs, properties
from marljax.solvers.game.payoffs import (
    deviation_payoffs,
    expected_payoffs,
    exploitability,
    nash_conv,
    pure_profile,
    uniform_profile,
)
from marljax.solvers.game.properties import is_symmetric, is_zero_sum

__all__ = [
    "payoffs",
    "properties",
    "is_symmetric",
    "is_zero_sum",
    "deviation_payoffs",
    "expected_payoffs",
    "exploitability",
    "nash_conv",
    "pure_profile",
    "uniform_profile",
]
