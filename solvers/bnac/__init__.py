"""Bayesian-network actor-critic (Chen & Zhang 2023): DAG policies, BN-MAPPO, exact tabular gradients.

Read in this order: :mod:`.dag` (differentiable DAG sampling: Gumbel-Sinkhorn orders,
straight-through edge gates), :mod:`.policy` (conditionals on the parents' actions, sampled in
topological order; the DeepSet edge network), :mod:`.learner` (BN-MAPPO on the PPO core, the
sparsity annealing, the fixed-DAG baselines; registered as the learner ``bn-mappo``) and
:mod:`.tabular` (exact policy gradients on the tabular coordination game).

    from marljax.solvers import bnac
    result = bnac.exact_policy_gradient(3, "full", jax.random.PRNGKey(0), steps=1500, lr=8.0)
    result.j_ratio, result.nash_gap
"""

from marljax.solvers.bnac import dag, policy, tabular
from marljax.solvers.bnac.dag import fixed_dag, is_acyclic, mode_dag, open_ratio, sample_dag
from marljax.solvers.bnac.learner import BNConfig, make_learner, make_train, sparsity_schedule
from marljax.solvers.bnac.tabular import TabularResult, exact_policy_gradient

__all__ = [
    "dag",
    "policy",
    "tabular",
    "fixed_dag",
    "is_acyclic",
    "mode_dag",
    "open_ratio",
    "sample_dag",
    "BNConfig",
    "make_learner",
    "make_train",
    "sparsity_schedule",
    "TabularResult",
    "exact_policy_gradient",
]
