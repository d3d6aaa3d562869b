"""Risk-averse equilibria: exact best responses, gamma = 0 is Nash, equilibrium selection in the
stag hunt, and lower reward variance than every Nash equilibrium in the high-risk game."""

import itertools

import jax
import jax.numpy as jnp
import nashpy
import numpy as np
import pytest
from scipy.optimize import minimize

from marljax.envs.matrix import games
from marljax.solvers import nash, rae


def _qp_by_support_enumeration(mean, cov, gamma):
    """Reference optimum of max pi.m - gamma pi.cov.pi on the simplex: solve the KKT system on
    every support, keep the best feasible point (float64 numpy)."""
    a = len(mean)
    best, best_value = None, -np.inf
    for size in range(1, a + 1):
        for support in itertools.combinations(range(a), size):
            s = list(support)
            kkt = np.zeros((size + 1, size + 1))
            kkt[:size, :size] = 2 * gamma * cov[np.ix_(s, s)]
            kkt[:size, size] = 1.0
            kkt[size, :size] = 1.0
            solution = np.linalg.lstsq(kkt, np.append(mean[s], 1.0), rcond=None)[0]
            if np.any(solution[:size] < -1e-12):
                continue
            pi = np.zeros(a)
            pi[s] = np.maximum(solution[:size], 0.0)
            pi /= pi.sum()
            value = pi @ mean - gamma * pi @ cov @ pi
            if value > best_value:
                best, best_value = pi, value
    return best, best_value


def test_risk_averse_best_response_is_the_exact_qp_optimum():
    with jax.enable_x64(True):
        rng = np.random.default_rng(0)
        means = rng.normal(size=(6, 5))
        factors = rng.normal(size=(6, 5, 3))
        covs = factors @ factors.transpose(0, 2, 1) / 3  # PSD and rank deficient
        gamma = 0.7
        brs = jax.vmap(lambda m, c: rae.risk_averse_best_response(m, c, gamma))(jnp.asarray(means), jnp.asarray(covs))
        for m, c, br in zip(means, covs, np.asarray(brs)):
            reference, value = _qp_by_support_enumeration(m, c, gamma)
            assert abs(br.sum() - 1.0) < 1e-12 and br.min() >= 0.0
            assert br @ m - gamma * br @ c @ br >= value - 1e-8
            np.testing.assert_allclose(br, reference, atol=1e-6)


def test_smoothed_best_response_is_the_logit_fixed_point():
    rng = np.random.default_rng(1)
    mean, x = jnp.asarray(rng.normal(size=4), jnp.float32), rng.normal(size=(4, 4))
    cov = jnp.asarray(x @ x.T / 4, jnp.float32)
    gamma, tau = 0.5, 0.3
    pi = rae.smoothed_best_response(mean, cov, gamma, tau, num_iters=2000)
    np.testing.assert_allclose(pi, jax.nn.softmax((mean - 2 * gamma * cov @ pi) / tau), atol=1e-5)


def test_markowitz_best_response_is_the_least_variance_that_meets_the_target():
    rng = np.random.default_rng(2)
    mean, x = rng.normal(size=4), rng.normal(size=(4, 4))
    cov = x @ x.T / 4
    level = 0.6
    pi = np.asarray(rae.markowitz_best_response(jnp.asarray(mean, jnp.float32), jnp.asarray(cov, jnp.float32), level))
    target = level * mean.max() + (1 - level) * mean.min()
    reference = minimize(
        lambda p: p @ cov @ p,
        np.full(4, 0.25),
        method="SLSQP",
        bounds=[(0, 1)] * 4,
        constraints=[
            {"type": "eq", "fun": lambda p: p.sum() - 1},
            {"type": "ineq", "fun": lambda p: p @ mean - target},
        ],
        options={"ftol": 1e-12},
    ).x
    assert pi @ mean >= target - 1e-4
    assert pi @ cov @ pi <= reference @ cov @ reference + 1e-4


def test_markowitz_equilibrium_meets_each_players_target_with_a_small_gap():
    game, level = games.high_risk_game(), 0.3
    result = rae.solve(game, None, markowitz_level=level, num_iters=100)
    assert float(result.ra_gap) <= 1e-2
    for i, pi in enumerate(result.profile):
        mean, _ = rae.opponent_moments(game, result.profile, i)
        target = level * float(mean.max()) + (1 - level) * float(mean.min())
        assert float(pi @ mean) >= target - 1e-3


@pytest.mark.parametrize("name", ["chicken", "battle_of_the_sexes", "biased_rps", "high_risk_game", "stag_hunt"])
def test_gamma_zero_gives_a_nash_equilibrium(name):
    result = rae.solve(games.CATALOG[name](), gamma=0.0)
    assert float(result.nash_conv) <= 1e-6
    assert float(result.ra_gap) == pytest.approx(float(result.nash_conv), abs=1e-6)


def test_ra_gap_with_gamma_zero_is_nash_conv():
    game = games.random_general_sum(jax.random.PRNGKey(3), (3, 4))
    keys = jax.random.split(jax.random.PRNGKey(4), 2)
    profile = tuple(jax.random.dirichlet(k, jnp.ones(a)) for k, a in zip(keys, (3, 4)))
    assert float(rae.ra_gap(game, profile, 0.0)) == pytest.approx(float(nash.nash_conv(game, profile)), abs=1e-6)


def test_stag_hunt_selection_depends_on_risk_aversion():
    # Stag is the better reply when the other hunts stag with probability above 3/4 (the mixed
    # NE); start at 0.9 so risk-neutral fictitious play stays with stag.
    start = (jnp.array([0.9, 0.1]),) * 2
    neutral = rae.solve(games.stag_hunt(), gamma=0.0, profile=start)
    averse = rae.solve(games.stag_hunt(), gamma=2.0, profile=start)
    for p in neutral.profile:
        np.testing.assert_allclose(p, [1.0, 0.0], atol=1e-6)  # stag/stag, payoff dominant
    for p in averse.profile:
        np.testing.assert_allclose(p, [0.0, 1.0], atol=1e-6)  # hare/hare, risk dominant
    assert float(averse.ra_gap) <= 1e-6 and float(neutral.ra_gap) <= 1e-6


def test_rae_has_lower_reward_variance_than_every_nash_equilibrium_of_the_high_risk_game():
    game = games.high_risk_game()
    equilibria = list(nashpy.Game(np.asarray(game[0]), np.asarray(game[1])).support_enumeration())
    assert len(equilibria) == 1 and all(np.count_nonzero(p > 1e-9) == 2 for p in equilibria[0])  # only mixed
    np.testing.assert_allclose(equilibria[0][1], games.NASH_EQUILIBRIA["high_risk_game"][0][1], atol=1e-9)
    result = rae.solve(game, gamma=0.5)
    assert float(result.ra_gap) <= 1e-5
    for equilibrium in equilibria:
        profile = tuple(jnp.asarray(p, jnp.float32) for p in equilibrium)
        nash_variance = rae.reward_variance(game, profile)
        assert np.all(np.asarray(result.variance) < np.asarray(nash_variance))
        assert float(result.risk.sum()) < float(rae.risk(game, profile).sum())
        print("NE", equilibrium, "variance", nash_variance, "payoff", nash.expected_payoffs(game, profile))
    print("RAE", result.profile, "variance", result.variance, "payoff", result.expected_payoff)
    assert float(result.nash_conv) > 0.1  # it is not a Nash equilibrium


def test_three_player_rae_and_vmap_over_games():
    batch = jax.vmap(lambda k: games.potential_game(k, (2, 2, 2)))(jax.random.split(jax.random.PRNGKey(5), 4))
    results = jax.jit(jax.vmap(rae.rae_solver(gamma=0.3, num_iters=500).solve))(batch)
    assert results.ra_gap.shape == (4,)
    assert float(results.ra_gap.max()) <= 1e-4
    single = rae.solve(batch[0], gamma=0.3, num_iters=500)
    np.testing.assert_allclose(results.profile[0][0], single.profile[0], atol=1e-5)


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match="gamma"):
        rae.solve(games.stag_hunt(), gamma=-0.1)
    with pytest.raises(ValueError, match="markowitz_level"):
        rae.solve(games.stag_hunt(), gamma=None, markowitz_level=1.5)
    with pytest.raises(ValueError, match="simplex"):
        rae.solve(games.stag_hunt(), gamma=0.5, profile=(jnp.array([0.9, 0.3]),) * 2)
    with pytest.raises(ValueError, match="simplex"):  # the deprecated name is checked too
        rae.solve(games.stag_hunt(), gamma=0.5, init_profile=(jnp.array([0.9, 0.3]),) * 2)
    with pytest.raises(ValueError, match="give the initial profile once"):
        rae.solve(
            games.stag_hunt(),
            gamma=0.5,
            profile=(jnp.array([0.5, 0.5]),) * 2,
            init_profile=(jnp.array([0.5, 0.5]),) * 2,
        )
    with pytest.raises(ValueError, match="gamma is required"):
        rae.solve(games.stag_hunt(), gamma=None)
