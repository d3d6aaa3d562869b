"""BN-MAPPO (through the learner registry): it learns the coordination game's optimum and anneals its DAG away."""

import jax
import numpy as np
import pytest

import marljax
from marljax.solvers import bnac
from marljax.solvers.learners.registry import get_learner

ENV = "coordination/CoordinationGame-v0"


def test_bn_mappo_learns_the_optimum_and_ends_without_edges():
    spec = get_learner("bn-mappo")
    config = spec.config(total_steps=16 * 25 * 60, num_envs=16, num_steps=25, num_minibatches=2, gamma=0.95, lr=3e-3)
    learner = spec.make_learner(config, marljax.make(ENV, num_agents=3))
    _, metrics = jax.jit(lambda key: learner.run(learner.init(key), config.num_updates))(jax.random.PRNGKey(0))
    returns = np.asarray(metrics["episode_return"]).mean(-1)
    # Random play earns 1 per step (25 per episode); the all-ones trap 1.70 and the optimum
    # 2.22 per step on average: the run must end clearly above the trap.
    assert returns[1] < 35
    assert returns[-5:].mean() > 48
    assert np.asarray(metrics["env_metrics"]["optimal_state"])[-5:].mean() > 0.6
    # The DAG starts fully open (edge bias 1, threshold 1) and is annealed away.
    executed, sampled = np.asarray(metrics["executed_open_ratio"]), np.asarray(metrics["open_ratio"])
    assert executed[0] == 1.0 and sampled[:20].mean() > 0.7
    assert executed[-1] == 0.0 and sampled[-1] < 0.05
    np.testing.assert_allclose(
        np.asarray(metrics["sparsity_threshold"])[[0, 24, 42, 59]], [1.0, 1.0, 0.0, 0.0], atol=1e-6
    )


def test_config_errors_are_value_errors():
    env = marljax.make(ENV)
    with pytest.raises(ValueError, match="unknown DAG kind"):
        bnac.make_learner(bnac.BNConfig(dag="star"), env)
    with pytest.raises(ValueError, match="anneal_start"):
        bnac.make_learner(bnac.BNConfig(anneal_start=0.8, anneal_end=0.5), env)
    with pytest.raises(ValueError, match="fixes"):
        get_learner("bn-mappo").config(centralised_critic=False)
