"""Mean-field control for swarms (Dec-POMFC, Cui et al. 2024), the learner ``mfc``.

Read in this order: :mod:`.embeddings` (the swarm's mean field as a kernel embedding or a
histogram), :mod:`.mdp` (the mean-field MDP whose actions are decision rules, and the swarm as
the trained rule meets it), :mod:`.learner` (PPO on that MDP, decentralised execution at any N).
"""

from marljax.solvers.mfc.embeddings import (
    EMBEDDINGS,
    MeanFieldEmbedding,
    embedding_for_env,
    grid_centres,
    histogram_embedding,
    kernel_embedding,
    kernel_rows,
    mean_field_states,
)
from marljax.solvers.mfc.learner import MFCConfig, make_learner, make_mdp, make_train
from marljax.solvers.mfc.mdp import LinearGaussianRule, MeanFieldMDP, MeanFieldView

__all__ = [
    "EMBEDDINGS",
    "MeanFieldEmbedding",
    "embedding_for_env",
    "grid_centres",
    "histogram_embedding",
    "kernel_embedding",
    "kernel_rows",
    "mean_field_states",
    "MFCConfig",
    "make_learner",
    "make_mdp",
    "make_train",
    "LinearGaussianRule",
    "MeanFieldMDP",
    "MeanFieldView",
]
