"""BN policies: sampling in topological order follows the factorised joint distribution."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from marljax.solvers.bnac import dag, policy
from marljax.solvers.learners.networks import Tower

N, A, D = 3, 3, 4
SAMPLES = 6000


@pytest.fixture(scope="module")
def setup():
    # A sharp actor (large head scale) so that the conditionals depend strongly on the parents.
    actor = Tower(A, hidden_size=16, head_scale=4.0)
    params = actor.init(jax.random.PRNGKey(0), jnp.zeros((1,)), jnp.zeros((1, D + N * A)), jnp.zeros(1, bool))
    features = jax.random.normal(jax.random.PRNGKey(1), (N, D))
    mask = jnp.ones((N, A), bool).at[2, 1].set(False)  # agent 2 may not play action 1
    # Every pair linked, in the order 2, 0, 1 (P[k, i] = 1: agent i at position k).
    permutation = jnp.asarray(np.eye(N)[[2, 0, 1]], jnp.float32)
    sample = dag.DAGSample(permutation.T @ dag.strictly_upper(N) @ permutation, jnp.array([2, 0, 1]), permutation)
    np.testing.assert_array_equal(sample.adjacency, [[0, 1, 0], [0, 0, 0], [1, 1, 0]])  # 2 -> 0 -> 1, 2 -> 1
    draw = jax.jit(
        jax.vmap(
            lambda k, g, o: policy.sample_in_order(actor, params, features, mask, g, o, k), in_axes=(0, None, None)
        )
    )
    parallel = jax.jit(lambda g, a: policy.log_prob_entropy(actor, params, features, mask, g, a))
    return actor, params, features, mask, sample, draw, parallel


def test_topological_sampling_matches_the_factorised_distribution(setup):
    actor, params, features, mask, sample, draw, parallel = setup
    actions, log_probs = draw(jax.random.split(jax.random.PRNGKey(3), SAMPLES), sample.adjacency, sample.order)
    actions, log_probs = np.asarray(actions), np.asarray(log_probs)
    assert (actions[:, 2] != 1).all()
    # Per agent, the scan's log-probabilities are those of the factorised formula, recomputed in parallel.
    again, _ = jax.vmap(parallel, in_axes=(None, 0))(sample.adjacency, jnp.asarray(actions))
    np.testing.assert_allclose(log_probs, again, atol=1e-5)
    # The joint pi(a) = prod_i pi_i(a_i | a_Pa(i)) sums to one and is the sampling distribution.
    joint = np.array(list(itertools.product(range(A), repeat=N)))
    log_joint = np.asarray(jax.vmap(parallel, in_axes=(None, 0))(sample.adjacency, jnp.asarray(joint))[0]).sum(1)
    prob = np.exp(log_joint)
    np.testing.assert_allclose(prob.sum(), 1.0, atol=1e-5)
    index = actions @ (A ** np.arange(N)[::-1])
    frequency = np.bincount(index, minlength=A**N) / SAMPLES
    np.testing.assert_allclose(frequency, prob, atol=4 * np.sqrt(0.25 / SAMPLES))
    # The parents matter: without the edges the joint distribution is a different one.
    empty = np.asarray(jax.vmap(parallel, in_axes=(None, 0))(jnp.zeros((N, N)), jnp.asarray(joint))[0]).sum(1)
    assert np.abs(np.exp(empty) - prob).max() > 0.05


def test_greedy_sampling_takes_each_conditional_mode(setup):
    actor, params, features, mask, sample, _, parallel = setup
    action, log_probs = policy.sample_in_order(
        actor, params, features, mask, sample.adjacency, sample.order, jax.random.PRNGKey(0), greedy=True
    )
    joint = np.array(list(itertools.product(range(A), repeat=N)))
    conditionals = np.asarray(jax.vmap(parallel, in_axes=(None, 0))(sample.adjacency, jnp.asarray(joint))[0])
    # Every agent's action is the most likely one given its parents' (greedy) actions.
    row = int(np.flatnonzero((joint == np.asarray(action)).all(1))[0])
    for i in range(N):
        others = [
            (joint[r], conditionals[r, i])
            for r in range(len(joint))
            if (np.delete(joint[r], i) == np.delete(joint[row], i)).all()
        ]
        assert conditionals[row, i] == pytest.approx(max(c for _, c in others), abs=1e-6)
    np.testing.assert_allclose(log_probs, conditionals[row], atol=1e-5)
