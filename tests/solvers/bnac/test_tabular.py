"""Exact policy gradients on the tabular coordination game (n = 3)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from marljax.solvers import bnac
from marljax.solvers.bnac import tabular


@pytest.fixture(scope="module")
def results():
    key = jax.random.PRNGKey(0)
    return {dag: bnac.exact_policy_gradient(3, dag, key, steps=1500, lr=8.0) for dag in ("full", "empty")}


def test_full_dag_reaches_the_optimum_where_independent_policies_stall(results):
    full, empty = results["full"], results["empty"]
    # Same initialisation: both curves start at the same J.
    assert float(full.j_ratio_curve[0]) == pytest.approx(float(empty.j_ratio_curve[0]), abs=1e-6)
    assert float(full.j_ratio) >= 0.95
    # Independent policies end in the all-ones equilibrium: J/J* = r(all ones) / r(all zeros)
    # = (0.729 * 2 + 0.243 * 1 + 0.001 * 3) / (0.729 * 3 + 0.027 * 1 + 0.001 * 2) = 1.704 / 2.216.
    assert float(empty.j_ratio) == pytest.approx(1.704 / 2.216, abs=0.01)
    assert float(empty.nash_gap) < 0.05  # an equilibrium: no agent gains by deviating alone
    assert float(full.nash_gap) < 0.05
    assert float(empty.nash_gap_curve[0]) > 0.5  # the start, leaning to ones, is not one
    # The exact J* of value iteration: every state has the value max_a r(a) / (1 - gamma).
    assert float(full.j_star) == pytest.approx(2.216 / 0.05, rel=1e-4)


def test_policy_gradient_theorem_matches_autodiff_of_j():
    game = tabular.tabular_game(2)
    g = jnp.asarray(bnac.fixed_dag("full", 2))
    theta = jax.random.normal(jax.random.PRNGKey(1), (2, 4, 4, 2))

    def j_of(t):
        return tabular.evaluate(game, jnp.exp(tabular.joint_policy(t, g, game.bits)))[0]

    _, _, q, d = jax.jit(lambda t: tabular.evaluate(game, jnp.exp(tabular.joint_policy(t, g, game.bits))))(theta)

    def surrogate(t):
        return jnp.sum(d[:, None] * jnp.exp(tabular.joint_policy(t, g, game.bits)) * q) / (1 - game.gamma)

    both = jax.jit(lambda t: (jax.grad(surrogate)(t), jax.grad(j_of)(t)))
    np.testing.assert_allclose(*both(theta), rtol=2e-3, atol=2e-4)
    np.testing.assert_allclose(d.sum(), 1.0, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"num_agents": 4}, "num_agents must be one of"),
        ({"num_agents": 10}, "tabular game supports"),
        ({"eps": 1.5}, r"eps .* \[0, 1\]"),
        ({"dag": "star"}, "unknown DAG kind"),
        ({"dag": np.ones((3, 3), int) - np.eye(3, dtype=int)}, "cycle"),
    ],
)
def test_bad_values_raise(kwargs, match):
    args = {"num_agents": 3, "dag": "full", **kwargs}
    with pytest.raises(ValueError, match=match):
        bnac.exact_policy_gradient(args.pop("num_agents"), args.pop("dag"), jax.random.PRNGKey(0), **args)


def test_natural_gradient_escapes_the_plateau_for_five_agents():
    # Plain PG stalls on the n = 5 plateau (the all-zero branch is five conditionals deep); the
    # exact natural gradient removes the tiny-probability scaling and reaches the optimum.
    result = bnac.exact_policy_gradient(5, "full", jax.random.PRNGKey(0), steps=300, lr=0.5, method="npg")
    assert float(result.j_ratio) >= 0.95


def test_steps_must_be_an_integer():
    with pytest.raises(ValueError, match="steps must be an integer"):
        bnac.exact_policy_gradient(3, "full", jax.random.PRNGKey(0), steps=1.5)
