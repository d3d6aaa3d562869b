"""Differentiable DAG sampling: acyclic samples, hard forward passes, straight-through gradients."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from marljax.solvers.bnac import dag, sparsity_schedule

N = 5


@pytest.fixture(scope="module")
def samples():
    keys = jax.random.split(jax.random.PRNGKey(0), 300)
    logits = jax.random.normal(jax.random.PRNGKey(1), (300, 2, N, N)) * 2.0
    return jax.jit(jax.vmap(lambda k, x: dag.sample_dag(k, x[0], x[1])))(keys, logits)


def test_sampled_dags_are_acyclic_and_the_order_is_topological(samples):
    adjacency, order = np.asarray(samples.adjacency), np.asarray(samples.order)
    assert set(np.unique(adjacency)) <= {0.0, 1.0}  # hard in the forward pass
    assert adjacency.sum() > 0 and (adjacency.sum((1, 2)) < N * (N - 1) / 2).any()  # neither empty nor all full
    for g, o in zip(adjacency, order):
        assert sorted(o) == list(range(N))
        position = np.argsort(o)
        parents, children = np.nonzero(g)
        assert (position[parents] < position[children]).all()
        assert bool(dag.is_acyclic(jnp.asarray(g)))
    # A permutation matrix in the forward pass.
    p = np.asarray(samples.permutation)
    np.testing.assert_array_equal(np.sort(p.reshape(-1, N * N), 1)[:, -N:], 1.0)
    np.testing.assert_array_equal(p.sum(1), 1.0)
    np.testing.assert_array_equal(p.sum(2), 1.0)


def test_is_acyclic_detects_cycles_and_self_loops():
    cycle = np.zeros((3, 3))
    cycle[0, 1] = cycle[1, 2] = cycle[2, 0] = 1
    assert not bool(dag.is_acyclic(jnp.asarray(cycle)))
    assert not bool(dag.is_acyclic(jnp.eye(3)))
    assert bool(dag.is_acyclic(jnp.asarray(dag.fixed_dag("full", 4))))


def test_sinkhorn_is_doubly_stochastic_and_matching_recovers_a_near_permutation():
    match = jax.jit(lambda x: (dag.sinkhorn(x), dag.hard_permutation(dag.sinkhorn(x))))  # one compile, 6 x 6
    key = jax.random.PRNGKey(3)
    soft, _ = match(jax.random.normal(key, (6, 6)))
    np.testing.assert_allclose(soft.sum(0), 1.0, atol=1e-4)
    np.testing.assert_allclose(soft.sum(1), 1.0, atol=1e-4)
    target = np.eye(6)[[3, 0, 5, 1, 4, 2]]
    _, hard = match(jnp.asarray(4.0 * target) + 0.5 * jax.random.normal(key, (6, 6)))
    np.testing.assert_array_equal(hard, target)
    # Greedy matching gives the best assignment of a peaked score (brute force over 720 permutations).
    score, hard = match(3.0 * jax.random.normal(jax.random.PRNGKey(4), (6, 6)))
    score = np.asarray(score)
    best = max(itertools.permutations(range(6)), key=lambda p: score[range(6), p].sum())
    np.testing.assert_array_equal(np.asarray(hard), np.eye(6)[list(best)])


def test_straight_through_gradients_are_finite_and_non_zero():
    weights = jax.random.normal(jax.random.PRNGKey(5), (N, N))

    def downstream(perm_logits, edge_logits, key):
        return jnp.sum(dag.sample_dag(key, perm_logits, edge_logits).adjacency * weights)

    def open_ratio(edge_logits, key):
        return dag.open_ratio(dag.sample_dag(key, perm_logits, edge_logits).adjacency)

    @jax.jit  # one compile for every key
    def gradients(key):
        return jax.grad(downstream, argnums=(0, 1))(perm_logits, edge_logits, key), jax.grad(open_ratio)(
            edge_logits, key
        )

    perm_logits = jax.random.normal(jax.random.PRNGKey(6), (N, N))
    edge_logits = jax.random.normal(jax.random.PRNGKey(7), (N, N))
    for seed in range(3):
        (g_perm, g_edge), g_open = gradients(jax.random.PRNGKey(seed))
        assert np.isfinite(g_perm).all() and np.isfinite(g_edge).all()
        assert np.abs(g_perm).max() > 1e-4 and np.abs(g_edge).max() > 1e-4
        # The gradient moves the open ratio the right way: raising the logits opens edges.
        assert float(g_open.sum()) > 0


def test_mode_dag_and_open_ratio():
    perm_logits = jax.random.normal(jax.random.PRNGKey(8), (N, N))
    modes = jax.jit(jax.vmap(lambda e: dag.mode_dag(perm_logits, e).adjacency))
    closed, opened = modes(jnp.stack([-jnp.ones((N, N)), jnp.ones((N, N))]))
    assert float(dag.open_ratio(closed)) == 0.0
    assert float(dag.open_ratio(opened)) == 1.0
    assert bool(dag.is_acyclic(opened))


def test_fixed_dags_and_unknown_kind():
    np.testing.assert_array_equal(dag.fixed_dag("full", 3), [[0, 1, 1], [0, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(dag.fixed_dag("empty", 3), 0)
    with pytest.raises(ValueError, match="unknown DAG kind"):
        dag.fixed_dag("star", 3)


def test_sparsity_schedule():
    def at(progress):
        return tuple(round(float(x), 6) for x in sparsity_schedule(progress, 0.1, 2.1))

    assert at(0.0) == at(0.4) == (1.0, 0.1)
    assert at(0.55) == (0.5, 0.1)
    assert at(0.7) == (0.0, 0.1)
    assert at(0.85) == (0.0, 1.1)
    assert at(1.0) == (0.0, 2.1)
