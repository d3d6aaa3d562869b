"""Shapley, Banzhaf and permutation-sampled values of cooperative games with known answers."""

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from marljax.solvers import shapley


def glove(mask):
    """Player 0 holds a left glove, players 1 and 2 a right one; a pair is worth 1."""
    s = mask.astype(jnp.float32)
    return jnp.minimum(s[0], s[1] + s[2])


def weighted_voting(weights, quota):
    weights = jnp.asarray(weights, jnp.float32)
    return lambda mask: (jnp.sum(jnp.where(mask, weights, 0.0)) >= quota).astype(jnp.float32)


def table_game(table):
    """A game given as a table of worths indexed by the coalition's bits (bit i = player i)."""
    table = jnp.asarray(table, jnp.float32)
    n = int(np.log2(table.shape[0]))
    return lambda mask: table[jnp.sum(mask.astype(jnp.int32) << jnp.arange(n))]


def shapley_by_definition(v, n):
    """phi_i as the mean over all n! orders of i's marginal contribution (pure Python)."""
    phi = np.zeros(n)
    for order in itertools.permutations(range(n)):
        mask = np.zeros(n, bool)
        for i in order:
            before = float(v(jnp.asarray(mask)))
            mask[i] = True
            phi[i] += float(v(jnp.asarray(mask))) - before
    return phi / math.factorial(n)


def test_glove_game():
    result = shapley.exact(glove, 3)
    np.testing.assert_allclose(result.values, [2 / 3, 1 / 6, 1 / 6], atol=1e-12)
    assert result.grand == 1.0 and result.empty == 0.0 and result.num_evaluations == 8
    np.testing.assert_allclose(shapley.exact(glove, 3, batch_size=3).values, result.values)  # lax.map in chunks
    np.testing.assert_allclose(shapley.banzhaf(glove, 3).values, [3 / 4, 1 / 4, 1 / 4], atol=1e-12)


def test_weighted_voting_known_values():
    # [51; 49, 48, 3]: any two players win, so all are symmetric whatever their weights.
    np.testing.assert_allclose(shapley.exact(weighted_voting([49, 48, 3], 51), 3).values, [1 / 3] * 3, atol=1e-12)
    np.testing.assert_allclose(shapley.banzhaf(weighted_voting([49, 48, 3], 51), 3).values, [1 / 2] * 3, atol=1e-12)
    # [3; 2, 1, 1]: player 0 wins with either other (the glove game's structure).
    np.testing.assert_allclose(shapley.exact(weighted_voting([2, 1, 1], 3), 3).values, [2 / 3, 1 / 6, 1 / 6])
    # [4; 3, 1, 1, 1]: player 0 is pivotal unless it comes first (3/4); a small player only right after it
    # at the start of the order (1/4 * 1/3 = 1/12).
    np.testing.assert_allclose(shapley.exact(weighted_voting([3, 1, 1, 1], 4), 4).values, [3 / 4] + [1 / 12] * 3)
    # Banzhaf of [4; 3, 1, 1, 1]: player 0 swings in 7 of 8 coalitions of the others, each small one in 1.
    np.testing.assert_allclose(
        shapley.banzhaf(weighted_voting([3, 1, 1, 1], 4), 4).values, [7 / 8, 1 / 8, 1 / 8, 1 / 8]
    )


def test_exact_matches_the_definition_and_is_efficient():
    n = 5
    table = jax.random.normal(jax.random.PRNGKey(3), (2**n,))
    v = table_game(table)
    result = shapley.exact(v, n)
    np.testing.assert_allclose(result.values, shapley_by_definition(v, n), atol=1e-5)
    assert abs(result.values.sum() - (result.grand - result.empty)) < 1e-12  # float64 contraction
    assert result.grand == pytest.approx(float(table[-1])) and result.empty == pytest.approx(float(table[0]))


def test_additive_games_give_each_player_its_own_worth():
    worth = np.array([3.0, -1.0, 0.5, 2.0, 0.0, 7.0])
    v = lambda mask: jnp.sum(jnp.where(mask, jnp.asarray(worth, jnp.float32), 0.0)) + 1.5  # noqa: E731
    for method in (shapley.exact, shapley.banzhaf):
        np.testing.assert_allclose(method(v, 6).values, worth, atol=1e-6)
    sampled = shapley.permutation(v, 6, jax.random.PRNGKey(0), 8)
    np.testing.assert_allclose(sampled.values, worth, atol=1e-5)
    np.testing.assert_allclose(sampled.stderr, 0.0, atol=1e-5)  # every order gives the same contributions


def test_permutation_estimate_is_within_its_standard_error_of_exact():
    n = 7
    v = table_game(jax.random.normal(jax.random.PRNGKey(7), (2**n,)) * 3.0)
    exact = shapley.exact(v, n)
    sampled = shapley.permutation(v, n, jax.random.PRNGKey(1), 400)
    assert sampled.num_evaluations == 400 * (n + 1)
    assert np.all(sampled.stderr > 0)
    z = np.abs(sampled.values - exact.values) / sampled.stderr
    assert np.all(z < 4.0), z
    assert abs(sampled.values.sum() - (exact.grand - exact.empty)) < 1e-5  # each order is efficient
    # More orders, smaller error: the estimate converges.
    more = shapley.permutation(v, n, jax.random.PRNGKey(2), 1600)
    assert np.all(more.stderr < sampled.stderr)


def test_antithetic_pairs_are_exact_for_two_players():
    # With n = 2 an order and its reverse are the only two orders: every pair is the exact value.
    v = table_game(jnp.array([0.0, 1.0, 3.0, 10.0]))
    sampled = shapley.permutation(v, 2, jax.random.PRNGKey(0), 4)
    np.testing.assert_allclose(sampled.values, shapley.exact(v, 2).values, atol=1e-6)
    np.testing.assert_allclose(sampled.values, [4.0, 6.0], atol=1e-6)


def test_weights_and_masks():
    masks = shapley.coalition_masks(3)
    assert masks.shape == (8, 3) and masks[5].tolist() == [True, False, True]
    weights = shapley.shapley_weights(4)
    sums = weights.sum(0)
    np.testing.assert_allclose(sums[1:-1], 0.0, atol=1e-15)
    assert sums[0] == pytest.approx(-1.0) and sums[-1] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: shapley.exact(glove, 0), "num_players must be a positive integer"),
        (lambda: shapley.exact(glove, 17), "too large for the exact method"),
        (lambda: shapley.banzhaf(glove, 40), "too large for the banzhaf method"),
        (lambda: shapley.permutation(glove, -1, jax.random.PRNGKey(0), 8), "num_players"),
        (lambda: shapley.permutation(glove, 3, jax.random.PRNGKey(0), 7), "must be even"),
        (lambda: shapley.permutation(glove, 3, jax.random.PRNGKey(0), 2), ">= 4"),
        (lambda: shapley.exact(lambda m: m * 1.0, 3), "must return a scalar"),
        (lambda: shapley.exact(lambda m: m @ jnp.ones(4), 3), "calling it failed"),
        (lambda: shapley.exact(glove, 3, batch_size=0), "batch_size"),
    ],
)
def test_bad_values_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()
