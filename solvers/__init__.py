"""Equilibrium solvers and learning dynamics (installed as ``marljax.solvers``).

Every solver takes a payoff tensor ``[n, A_1, ..., A_n]``, is jit- and vmap-able over games of
one shape, and returns a result with ``.profile`` (tuple of simplex vectors), ``.nash_conv``
and ``.success`` (see :mod:`marljax.solvers.base`).
"""

from marljax.solvers import base, lp, nash
from marljax.solvers import correlated, dynamics
from marljax.solvers.alpharank import alpharank
from marljax.solvers.dynamics import (
    fictitious_play,
    optimistic_mwu,
    projected_replicator_dynamics,
    regret_matching,
    replicator_dynamics,
)
from marljax.solvers.lemke_howson import lemke_howson
from marljax.solvers.support_enumeration import support_enumeration
from marljax.solvers.zero_sum import zero_sum

__all__ = [
    "base",
    "lp",
    "nash",
    "correlated",
    "dynamics",
    "alpharank",
    "zero_sum",
    "lemke_howson",
    "support_enumeration",
    "fictitious_play",
    "replicator_dynamics",
    "projected_replicator_dynamics",
    "regret_matching",
    "optimistic_mwu",
]
