"""alpha-Rank and correlated equilibria (CE/CCE by LP)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from marljax.envs.matrix import CATALOG, NASH_EQUILIBRIA, games
from marljax.solvers import alpharank, correlated, nash
from marljax.solvers.equilibria.alpharank import transition_matrix


@pytest.mark.parametrize("alpha", [0.5, 10.0, float("inf")])
def test_alpharank_of_rock_paper_scissors_is_uniform(alpha):
    result = alpharank(games.rock_paper_scissors(), alpha=alpha, population_size=20)
    assert bool(result.success)
    for marginal in result.profile:
        np.testing.assert_allclose(marginal, np.full(3, 1 / 3), atol=1e-6)


@pytest.mark.parametrize("alpha", [50.0, float("inf")])
def test_alpharank_puts_all_mass_on_a_strictly_dominant_profile(alpha):
    result = alpharank(games.prisoners_dilemma(), alpha=alpha)
    assert float(result.stationary[1, 1]) > 1 - 1e-6  # defect/defect
    # Three players; each gets +1 for its own action 1 whatever the others do: (1, 1, 1) dominates.
    three_player = jnp.zeros((3, 2, 2, 2)).at[0, 1].set(1.0).at[1, :, 1].set(1.0).at[2, :, :, 1].set(1.0)
    assert float(alpharank(three_player, alpha=alpha).stationary[1, 1, 1]) > 1 - 1e-6


def test_alpharank_distribution_is_stationary_and_large_alpha_tends_to_the_limit():
    game = games.random_general_sum(jax.random.PRNGKey(0), (2, 3, 2))
    result = alpharank(game, alpha=5.0, population_size=10)
    c = np.asarray(transition_matrix(jnp.asarray(game, jnp.float32), 5.0, 10), np.float64)
    np.testing.assert_allclose(c.sum(axis=1), 1.0, atol=1e-6)
    pi = np.asarray(result.stationary, np.float64).reshape(-1)
    np.testing.assert_allclose(pi @ c, pi, atol=1e-5)
    limit = alpharank(game, alpha=float("inf"), population_size=10).stationary
    large = alpharank(game, alpha=1e4, population_size=10).stationary
    np.testing.assert_allclose(large, limit, atol=1e-4)


def test_alpharank_is_vmappable_and_rejects_bad_parameters():
    batch = jax.vmap(lambda k: games.random_general_sum(k, (3, 3)))(jax.random.split(jax.random.PRNGKey(1), 5))
    results = jax.jit(jax.vmap(lambda g: alpharank(g, alpha=2.0)))(batch)
    np.testing.assert_allclose(jnp.sum(results.stationary, axis=(1, 2)), 1.0, atol=1e-6)
    with pytest.raises(ValueError, match="population_size"):
        alpharank(games.biased_rps(), population_size=1)
    with pytest.raises(ValueError, match="alpha"):
        alpharank(games.biased_rps(), alpha=-1.0)


def test_max_welfare_ce_of_aumanns_chicken():
    # (6,6) (2,7) / (7,2) (0,0): the max-welfare CE is 1/2 (C,C), 1/4 (C,D), 1/4 (D,C), welfare 10.5.
    game = games.bimatrix([[6.0, 2.0], [7.0, 0.0]], [[6.0, 7.0], [2.0, 0.0]])
    result = correlated.ce(game)
    assert bool(result.success)
    np.testing.assert_allclose(result.joint, [[0.5, 0.25], [0.25, 0.0]], atol=1e-6)
    assert float(result.objective) == pytest.approx(10.5, abs=1e-5)
    coarse = correlated.cce(game)  # CCE set contains the CE set: at least as much welfare
    assert bool(coarse.success) and float(coarse.objective) >= 10.5 - 1e-5
    # Best Nash welfare is 9 (a pure one): correlation helps.
    assert float(result.objective) > 9.0


@pytest.mark.parametrize("name", sorted(NASH_EQUILIBRIA))
def test_every_nash_equilibrium_is_a_correlated_equilibrium(name):
    game = CATALOG[name]()
    for x, y in NASH_EQUILIBRIA[name]:
        joint = correlated.product_distribution((jnp.array(x), jnp.array(y)))
        assert float(correlated.ce_gap(game, joint)) < 1e-5
        assert float(correlated.cce_gap(game, joint)) < 1e-5


def test_ce_in_zero_sum_has_minimax_marginals_and_game_value():
    game = games.random_zero_sum(jax.random.PRNGKey(4), (4, 5))
    result = correlated.ce(game, objective=game[0])  # any objective: CE payoff = value
    value = nash.zero_sum(game).value
    assert float(result.expected_payoffs[0]) == pytest.approx(float(value), abs=1e-5)
    assert float(result.nash_conv) < 1e-5


def test_batched_three_player_ce_and_cce_have_zero_gap():
    batch = jax.vmap(lambda k: games.random_general_sum(k, (2, 3, 2)))(jax.random.split(jax.random.PRNGKey(5), 6))
    objectives = {}
    for solver, gap in ((correlated.ce, correlated.ce_gap), (correlated.cce, correlated.cce_gap)):
        results = jax.jit(jax.vmap(solver))(batch)
        assert bool(jnp.all(results.success))
        np.testing.assert_allclose(jax.vmap(gap)(batch, results.joint), 0.0, atol=1e-5)
        objectives[solver.__name__] = results.objective
    # Every CE is a CCE, so the best CCE is at least as good.
    assert bool(jnp.all(objectives["cce"] >= objectives["ce"] - 1e-5))


def test_bad_objective_is_rejected():
    with pytest.raises(ValueError, match="objective"):
        correlated.ce(games.chicken(), objective="fairness")
    with pytest.raises(ValueError, match="shape"):
        correlated.cce(games.chicken(), objective=jnp.ones(3))


@pytest.mark.parametrize("alpha", [3.0, float("inf")])
def test_masked_alpharank_is_exactly_the_subgames(alpha):
    """PSRO's empty slots: alpha-Rank with masks equals alpha-Rank of the sub-game of allowed
    strategies, with exactly zero mass elsewhere (2 and 3 players)."""
    game = games.random_general_sum(jax.random.PRNGKey(3), (3, 4))
    rows, cols = np.array([True, False, True]), np.array([True, True, False, True])
    masked = alpharank(game, alpha=alpha, population_size=10, masks=(rows, cols))
    sub = alpharank(game[:, rows][:, :, cols], alpha=alpha, population_size=10)
    stationary = np.asarray(masked.stationary)
    np.testing.assert_allclose(stationary[np.ix_(rows, cols)], sub.stationary, atol=1e-7)
    assert stationary[~rows].sum() == 0.0 and stationary[:, ~cols].sum() == 0.0
    assert float(masked.nash_conv) == pytest.approx(float(sub.nash_conv), abs=1e-6)
    three = games.random_general_sum(jax.random.PRNGKey(4), (2, 3, 3))
    masks = (np.array([True, True]), np.array([False, True, True]), np.array([True, False, True]))
    masked3 = alpharank(three, alpha=alpha, population_size=10, masks=masks)
    sub3 = alpharank(three[:, :, 1:][:, :, :, [0, 2]], alpha=alpha, population_size=10)
    np.testing.assert_allclose(np.asarray(masked3.stationary)[:, 1:][:, :, [0, 2]], sub3.stationary, atol=1e-7)
    with pytest.raises(ValueError, match="masks"):
        alpharank(game, masks=(rows,))
