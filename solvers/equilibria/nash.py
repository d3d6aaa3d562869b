"""Nash equilibria of normal-form games: the game functions beside the exact two-player solvers.

The short name ``marljax.solvers.nash`` is this module, so ``nash.nash_conv`` (from
:mod:`marljax.solvers.game.payoffs`) sits beside ``nash.zero_sum`` (the LP of
:mod:`~marljax.solvers.equilibria.zero_sum`), ``nash.lemke_howson`` and
``nash.support_enumeration``.
"""

from marljax.solvers.equilibria.lemke_howson import lemke_howson
from marljax.solvers.equilibria.support_enumeration import support_enumeration
from marljax.solvers.equilibria.zero_sum import zero_sum
from marljax.solvers.game.payoffs import (
    deviation_payoffs,
    expected_payoffs,
    exploitability,
    nash_conv,
    pure_profile,
    uniform_profile,
)

__all__ = [
    "deviation_payoffs",
    "expected_payoffs",
    "exploitability",
    "nash_conv",
    "pure_profile",
    "uniform_profile",
    "zero_sum",
    "lemke_howson",
    "support_enumeration",
]
