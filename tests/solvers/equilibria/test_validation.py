"""The validation layer at the solvers' API boundary (issue 12, defects 3-5): integer payoffs give
the float answer, a solver that needs a zero-sum game refuses a general-sum one, and bad options
get a ValueError that names them. Each case returned a wrong answer, NaN or an unrelated error
before the layer."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import fast_options

from marljax.envs.matrix import games
from marljax.solvers import correlated, dynamics, nash, rae
from marljax.solvers.equilibria.alpharank import alpharank
from marljax.solvers.equilibria.lemke_howson import lemke_howson_solver
from marljax.solvers.psro import meta_solvers
from marljax.solvers.registry import solve, solver_names

STAG_HUNT_INT = np.array([[[4, 0], [3, 3]], [[4, 3], [0, 3]]], np.int32)


def test_integer_payoffs_give_the_float_answer_in_every_game_function():
    uniform = (jnp.array([0.5, 0.5]),) * 2
    assert float(nash.nash_conv(STAG_HUNT_INT, uniform)) == 1.0  # was 0: the profile was cast to int
    np.testing.assert_allclose(nash.expected_payoffs(STAG_HUNT_INT, uniform), [2.5, 2.5])
    np.testing.assert_allclose(nash.deviation_payoffs(STAG_HUNT_INT, uniform)[0], [2.0, 3.0])
    assert nash.uniform_profile(STAG_HUNT_INT)[0].dtype == jnp.float32
    np.testing.assert_allclose(rae.reward_variance(STAG_HUNT_INT, uniform), [2.25, 2.25])


@pytest.mark.parametrize("name", solver_names())
def test_integer_payoffs_give_the_float_answer_in_every_solver(name, zero_sum_pair):
    game = np.round(zero_sum_pair[0] * 4)
    by_int = solve(name, game.astype(np.int32), **fast_options(name))  # rae crashed in its scan
    by_float = solve(name, game.astype(np.float32), **fast_options(name))
    assert by_int.nash_conv.dtype == jnp.float32
    for got, want in zip(by_int.profile, by_float.profile):
        np.testing.assert_array_equal(got, want)
    assert float(by_int.nash_conv) == float(by_float.nash_conv)


def test_the_zero_sum_lp_refuses_a_general_sum_game():
    # It returned success=True with a profile whose NashConv is 2.25 on the stag hunt.
    with pytest.raises(ValueError, match=r"not a zero-sum game \(max \|u_1 \+ u_2\| = 8\).*lemke_howson"):
        nash.zero_sum(games.stag_hunt())
    with pytest.raises(ValueError, match="not a zero-sum game"):
        meta_solvers.make_meta_solver("nash_zero_sum", games.stag_hunt())
    # Under jit the kind cannot be checked, but success verifies NashConv in the game as given.
    result = jax.jit(nash.zero_sum)(games.stag_hunt())
    assert not bool(result.success) and float(result.nash_conv) > 1.0


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: nash.lemke_howson(games.stag_hunt(), max_pivots=0), "max_pivots must be an integer >= 1; got 0"),
        (lambda: nash.zero_sum(games.biased_rps(), max_pivots=-3), "max_pivots must be an integer >= 1"),
        (lambda: correlated.ce(games.chicken(), max_pivots=2.5), "max_pivots must be an integer >= 1; got 2.5"),
        (lambda: nash.lemke_howson(games.stag_hunt(), tol=-1e-3), r"tol must be in \[0.0, inf\]"),
        (lambda: nash.zero_sum(games.biased_rps(), tol=float("nan")), "tol must be a finite number"),
        (lambda: nash.support_enumeration(games.chicken(), tol=float("nan")), "tol must be a finite number"),
        (lambda: nash.lemke_howson(games.stag_hunt(), labels=[4]), r"labels must lie in \[0, 4\)"),
        (lambda: nash.lemke_howson(games.stag_hunt(), labels=[-1]), r"labels must lie in \[0, 4\)"),
        (lambda: nash.lemke_howson(games.stag_hunt(), labels=[]), "labels must be a non-empty list"),
        (lambda: lemke_howson_solver().solve(games.stag_hunt(), 4), r"label must lie in \[0, 4\)"),
        (lambda: lemke_howson_solver().solve(games.stag_hunt(), [0, 1]), "label must be one integer label"),
        (lambda: rae.solve(games.stag_hunt(), gamma=float("inf")), "gamma must be a finite number"),
        (lambda: rae.rae_solver(gamma=0.5, num_iters="3"), r"num_iters must be an integer >= 1; got '3' \(a str\)"),
        (lambda: rae.solve(games.stag_hunt(), 0.5, br_iters=True), "br_iters must be an integer"),
        (lambda: alpharank(games.biased_rps(), population_size="3"), "population_size must be an integer >= 2"),
        (lambda: alpharank(games.biased_rps(), alpha=float("nan")), "alpha must be"),
        (lambda: dynamics.fictitious_play().solve(games.biased_rps(), "3"), "num_steps must be an integer >= 1"),
        (lambda: dynamics.optimistic_mwu(step_size=float("inf")), "step_size must be a finite number"),
        (lambda: dynamics.regret_matching(plus="yes"), "plus must be True or False"),
        (
            lambda: solve("rae", games.stag_hunt(), gama=1.0),
            "solver 'rae' does not take option.*gama; it takes: br_iters",
        ),
        (lambda: solve("fictitious_play", games.stag_hunt(), num_steps=0), "num_steps must be an integer >= 1"),
        # A meta-solver option it does not take was a `<lambda>() got an unexpected keyword` TypeError.
        (lambda: meta_solvers.make_meta_solver("uniform", gamma=0.5), "meta-solver 'uniform' takes no options"),
        (lambda: meta_solvers.make_meta_solver("nash", steps=3), "meta-solver 'nash' does not take option.*steps"),
        (lambda: meta_solvers.make_meta_solver("prd", exploration=0.1), "does not take option.*exploration"),
        (lambda: meta_solvers.make_meta_solver("bogus"), "unknown meta-solver 'bogus'; known meta-solvers: uniform"),
    ],
)
def test_bad_options_are_a_value_error_naming_them(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_bad_payoff_containers_are_a_clear_error():
    with pytest.raises(ValueError, match="payoffs is not a numeric array"):
        nash.lemke_howson([[[1, 2], [3]], [[1, 2], [3, 4]]])
    with pytest.raises(ValueError, match="real numbers; got dtype bool"):
        solve("ce", np.ones((2, 2, 2), bool))
