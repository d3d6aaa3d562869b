"""What a normal-form game is, as functions of its payoff tensor ``[n, A_1, ..., A_n]``.

Read :mod:`~marljax.solvers.game.payoffs` first: expected and deviation payoffs, NashConv and
exploitability of a mixed profile. Every solver family builds on these.
:mod:`~marljax.solvers.game.properties` decides kinds of game (zero-sum, symmetric);
:mod:`~marljax.solvers.game.simplex` normalises weights and projects onto the simplex (the one
copy every solver uses).
"""

from marljax.solvers.game import payoffs, properties, simplex
from marljax.solvers.game.payoffs import (
    deviation_payoffs,
    expected_payoffs,
    exploitability,
    nash_conv,
    pure_profile,
    uniform_profile,
)
from marljax.solvers.game.properties import is_symmetric, is_zero_sum
from marljax.solvers.game.simplex import normalise, project_simplex, uniform_on

__all__ = [
    "payoffs",
    "properties",
    "simplex",
    "normalise",
    "project_simplex",
    "uniform_on",
    "is_symmetric",
    "is_zero_sum",
    "deviation_payoffs",
    "expected_payoffs",
    "exploitability",
    "nash_conv",
    "pure_profile",
    "uniform_profile",
]
