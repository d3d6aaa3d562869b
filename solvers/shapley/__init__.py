"""Shapley-value explainers for cooperative multi-agent RL (``marljax.solvers.shapley``).

How much did each agent contribute to the team's return? Treat the agents as players of a
cooperative game whose worth ``v(S)`` is the team return when only the coalition ``S`` plays its
policy, and attribute ``v(all) - v(none)`` by the Shapley value (Heuillet et al. 2022).

=============================  =================================================================
``exact(v, n)``                all 2^n coalitions in one vmapped batch; efficient to rounding
``permutation(v, n, key, P)``  Monte Carlo over antithetic pairs of player orders, with stderr
``banzhaf(v, n)``              every coalition weighed equally (what uniform coalition sampling
                               estimates; not efficient)
``rollout_game(env, policy)``  ``v(S)`` from episodes, non-members replaced by ``noop``,
                               ``random`` or ``random_player``
``run_game(run_dir, key)``     the same for a trained run folder's policy
``explain_run(run_dir)``       values, ``shapley.json`` and bar charts (``marljax explain``)
=============================  =================================================================

    from marljax.solvers import shapley
    def glove(mask):  # player 0 holds a left glove, players 1 and 2 a right one; a pair is worth 1
        s = mask.astype(jnp.float32)
        return jnp.minimum(s[0], s[1] + s[2])

    shapley.exact(glove, 3).values            # [2/3, 1/6, 1/6]
    shapley.banzhaf(glove, 3).values          # [3/4, 1/4, 1/4]
"""

from marljax.solvers.shapley.explain import METHODS, attribute, explain_run, plot_over_training, plot_values
from marljax.solvers.shapley.games import (
    MAX_EXACT_PLAYERS,
    ShapleyResult,
    banzhaf,
    banzhaf_weights,
    coalition_masks,
    evaluate_coalitions,
    exact,
    permutation,
    shapley_weights,
)
from marljax.solvers.shapley.rollouts import (
    REPLACEMENTS,
    RolloutGame,
    learner_policy,
    replaced_policy,
    rollout_game,
    run_checkpoints,
    run_game,
    run_params,
)

__all__ = [
    "METHODS",
    "REPLACEMENTS",
    "MAX_EXACT_PLAYERS",
    "ShapleyResult",
    "RolloutGame",
    "exact",
    "banzhaf",
    "permutation",
    "coalition_masks",
    "shapley_weights",
    "banzhaf_weights",
    "evaluate_coalitions",
    "rollout_game",
    "replaced_policy",
    "learner_policy",
    "run_game",
    "run_params",
    "run_checkpoints",
    "attribute",
    "explain_run",
    "plot_values",
    "plot_over_training",
]
