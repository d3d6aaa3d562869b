"""Zero-sum games and the simplex LP solver against known answers and scipy's HiGHS."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import linprog as scipy_linprog

from marljax.envs.matrix import NASH_EQUILIBRIA, games
from marljax.solvers import lp, nash


def scipy_game_value(a: np.ndarray) -> float:
    """max_p min_j (p^T A)_j by HiGHS: variables (p, v)."""
    m, n = a.shape
    res = scipy_linprog(
        np.r_[np.zeros(m), -1.0],
        A_ub=np.c_[-a.T, np.ones(n)],
        b_ub=np.zeros(n),
        A_eq=np.r_[np.ones(m), 0.0][None],
        b_eq=[1.0],
        bounds=[(0, None)] * m + [(None, None)],
        method="highs",
    )
    return -res.fun


@pytest.mark.parametrize("name", ["matching_pennies", "rock_paper_scissors", "biased_rps"])
def test_catalog_zero_sum_games_hit_their_known_equilibrium(name):
    result = nash.zero_sum(games.CATALOG[name]())
    ((row, column),) = NASH_EQUILIBRIA[name]
    assert bool(result.success)
    np.testing.assert_allclose(result.profile[0], row, atol=1e-6)
    np.testing.assert_allclose(result.profile[1], column, atol=1e-6)
    assert abs(float(result.value)) < 1e-6  # symmetric games have value 0


def test_biased_rps_is_one_sixteenth_ten_sixteenths_five_sixteenths():
    result = nash.zero_sum(games.biased_rps())
    np.testing.assert_allclose(result.profile[0], np.array([1, 10, 5]) / 16, atol=1e-7)


def test_batch_of_random_games_matches_scipy_value_and_is_verified():
    keys = jax.random.split(jax.random.PRNGKey(0), 16)
    batch = jax.vmap(lambda k: games.random_zero_sum(k, (12, 17)))(keys)
    result = jax.jit(jax.vmap(nash.zero_sum))(batch)
    assert bool(jnp.all(result.success))
    expected = [scipy_game_value(np.asarray(g[0], np.float64)) for g in batch]
    np.testing.assert_allclose(result.value, expected, atol=1e-6)
    # The reported NashConv is the exact one of the returned profile.
    recomputed = jax.vmap(nash.nash_conv)(batch, result.profile)
    np.testing.assert_allclose(recomputed, result.nash_conv, atol=2e-6)


def test_large_game_reaches_lp_value_to_1e_6():
    game = games.random_zero_sum(jax.random.PRNGKey(7), (150, 120))
    result = nash.zero_sum(game)
    assert bool(result.success) and float(result.nash_conv) <= 1e-6 * 2.0
    assert abs(float(result.value) - scipy_game_value(np.asarray(game[0], np.float64))) < 1e-6


def test_degenerate_integer_game_with_ties_terminates_at_the_value():
    # Many equal entries: every ratio test ties. Value and strategies from scipy.
    a = np.array([[1, 1, 0, 2], [1, 1, 2, 0], [0, 2, 1, 1], [1, 1, 1, 1]], np.float32)
    result = nash.zero_sum(a)  # a bare matrix means u_2 = -u_1
    assert bool(result.success)
    assert abs(float(result.value) - scipy_game_value(a.astype(np.float64))) < 1e-9
    constant = nash.zero_sum(np.zeros((3, 4), np.float32))
    assert bool(constant.success) and float(constant.value) == 0.0


def test_bad_payoffs_raise_clear_errors():
    with pytest.raises(ValueError, match="NaN"):
        nash.zero_sum(jnp.array([[0.0, jnp.nan], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="2-player"):
        nash.zero_sum(jnp.zeros((3, 2, 2, 2)))
    with pytest.raises(ValueError, match="dimensions"):
        nash.zero_sum(jnp.zeros((2, 3)).reshape(2, 3, 1, 1))


def test_linprog_matches_scipy_including_degenerate_constraints():
    rng = np.random.default_rng(0)
    for degenerate in (False, True):
        a = rng.uniform(-1, 1, (9, 6))
        b = rng.uniform(0.5, 1.5, 9)
        if degenerate:
            b[:4] = 0.0  # a degenerate vertex at the start
        c = rng.uniform(0.1, 1, 6)
        a[:, 0] = np.abs(a[:, 0]) + 0.1  # keep the LP bounded
        a[-1] = 1.0
        result = lp.linprog(c, a, b)
        ref = scipy_linprog(-c, A_ub=a, b_ub=b, method="highs")
        assert int(result.status) == lp.OPTIMAL
        np.testing.assert_allclose(float(result.objective), -ref.fun, atol=1e-9)
        np.testing.assert_allclose(float(b @ np.asarray(result.dual)), -ref.fun, atol=1e-9)  # strong duality


def test_linprog_reports_unbounded_and_rejects_negative_rhs():
    result = lp.linprog(np.array([1.0, 1.0]), np.array([[1.0, -1.0]]), np.array([1.0]))
    assert int(result.status) == lp.UNBOUNDED
    with pytest.raises(ValueError, match="b >= 0"):
        lp.linprog(np.ones(2), np.eye(2), np.array([1.0, -1.0]))
