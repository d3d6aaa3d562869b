"""What a normal-form game is, as functions of its payoff tensor ``[n, A_1, ..., A_n]``.

Read :mod:`~marljax.solvers.game.payoffs` first: expected and deviation payoffs, NashConv and
exploitability of a mixed profile. Every solver family builds on these.
"""

from marljax.solvers.game import payoffs
from marljax.solvers.game.payoffs import (
    deviation_payoffs,
    expected_payoffs,
    exploitability,
    nash_conv,
    pure_profile,
    uniform_profile,
)

__all__ = [
    "payoffs",
    "deviation_payoffs",
    "expected_payoffs",
    "exploitability",
    "nash_conv",
    "pure_profile",
    "uniform_profile",
]
