"""Solvers and learners (installed as ``marljax.solvers``), grouped by what the user holds.

========================  ====================================================================
``game/``                 payoff functions of a normal-form game (NashConv, deviations)
``equilibria/``           LP, pivoting, zero-sum, Lemke-Howson, support enumeration, CE/CCE,
                          alpha-Rank, risk-averse equilibria (RAE)
``dynamics/``             learning dynamics (fictitious play, replicator, regret matching...)
``psro/``                 PSRO: meta-solvers, the loop, exact and RL oracles
``learners/``             PPO core, networks, IPPO, MAPPO
``bnac/``                 Bayesian-network actor-critic: DAG policies, BN-MAPPO, exact tabular PG
``shapley/``              Shapley, Banzhaf and Monte-Carlo agent contributions (explainers)
``mfc/``                  mean-field control of swarms (Dec-POMFC): embeddings, upper-level PPO
========================  ====================================================================

The short names below are the documented API: ``from marljax.solvers import nash, rae, psro,
ippo, mappo, shapley``. Every equilibrium solver takes a payoff tensor ``[n, A_1, ..., A_n]``, is jit-
and vmap-able over games of one shape, and returns a result with ``.profile``,
``.nash_conv`` and ``.success`` (see :mod:`marljax.solvers.base`).
"""

from marljax.solvers import base, bnac, dynamics, game, mfc, psro, registry, shapley
from marljax.solvers.dynamics import (
    fictitious_play,
    optimistic_mwu,
    projected_replicator_dynamics,
    regret_matching,
    replicator_dynamics,
)
from marljax.solvers.equilibria import correlated, lp, nash, rae
from marljax.solvers.equilibria.alpharank import alpharank
from marljax.solvers.equilibria.lemke_howson import lemke_howson
from marljax.solvers.equilibria.support_enumeration import support_enumeration
from marljax.solvers.equilibria.zero_sum import zero_sum
from marljax.solvers.learners import ippo, mappo, networks, ppo
from marljax.solvers.learners.registry import get_learner, learner_names, register_learner
from marljax.solvers.psro import meta_solvers
from marljax.solvers.psro.oracles import rl as psro_rl

__all__ = [
    "base",
    "registry",
    "game",
    "lp",
    "nash",
    "correlated",
    "dynamics",
    "rae",
    "psro",
    "meta_solvers",
    "psro_rl",
    "ppo",
    "networks",
    "ippo",
    "mappo",
    "shapley",
    "bnac",
    "mfc",
    "get_learner",
    "learner_names",
    "register_learner",
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
