"""The solver registry: its entries, the nash dispatch, one compilation per shape and options for
every registered solver, and PSRO's meta-solvers built from it."""

import logging

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import fast_options

from marljax.envs.matrix import games
from marljax.solvers import dynamics, nash, rae
from marljax.solvers.equilibria.lemke_howson import LemkeHowsonResult
from marljax.solvers.equilibria.zero_sum import ZeroSumResult
from marljax.solvers.psro import meta_solvers
from marljax.solvers.registry import get_solver, nash_solver_for, solve, solver_names

EXPECTED = [
    "nash",
    "zero_sum",
    "lemke_howson",
    "support_enumeration",
    "fictitious_play",
    "replicator_dynamics",
    "projected_replicator_dynamics",
    "regret_matching",
    "regret_matching_plus",
    "optimistic_mwu",
    "alpharank",
    "ce",
    "cce",
    "rae",
]


def test_every_solver_has_one_complete_entry():
    assert solver_names() == EXPECTED
    for name in EXPECTED:
        spec = get_solver(name)
        assert spec.name == name and spec.description and isinstance(spec.exact, bool)
        assert spec.module.startswith("solvers/") and spec.module.endswith(".py")
    assert {n for n in EXPECTED if get_solver(n).exact} == {
        "nash",
        "zero_sum",
        "lemke_howson",
        "support_enumeration",
        "alpharank",
        "ce",
        "cce",
    }
    # RAE's default risk aversion lives in its entry; PSRO's old name for it reads the entry.
    assert get_solver("rae").defaults["gamma"] == meta_solvers.RAE_DEFAULT_GAMMA == 0.5
    assert get_solver("prd") is get_solver("projected_replicator_dynamics")
    with pytest.raises(ValueError, match="unknown solver 'bogus'; known solvers: nash, zero_sum"):
        get_solver("bogus")


def test_nash_is_the_zero_sum_lp_for_zero_sum_games_and_lemke_howson_otherwise():
    assert isinstance(solve("nash", games.biased_rps()), ZeroSumResult)
    result = solve("nash", games.stag_hunt())
    assert isinstance(result, LemkeHowsonResult) and bool(result.success)
    assert nash_solver_for(jnp.asarray(games.matching_pennies())).name == "zero_sum"
    with pytest.raises(ValueError, match="two-player games; this game has 3 players"):
        solve("nash", games.random_general_sum(jax.random.PRNGKey(0), (2, 2, 2)))


def test_registry_solve_equals_the_solver_it_names():
    game = games.biased_rps()
    np.testing.assert_array_equal(solve("zero_sum", game).profile[0], nash.zero_sum(game).profile[0])
    by_name = solve("regret_matching_plus", game, num_steps=50)
    direct = dynamics.regret_matching(plus=True).solve(game, 50)
    np.testing.assert_array_equal(by_name.nash_conv_curve, direct.nash_conv_curve)
    by_name = solve("rae", game, gamma=0.3, num_iters=20)
    np.testing.assert_array_equal(by_name.ra_gap, rae.solve(game, 0.3, num_iters=20).ra_gap)
    with pytest.raises(ValueError, match="'zero_sum' does not take option.*alpha; it takes: max_pivots, tol"):
        solve("zero_sum", game, alpha=1.0)


def _compilations(caplog, call):
    caplog.clear()
    with jax.log_compiles(), caplog.at_level(logging.WARNING, logger="jax"):
        jax.block_until_ready(call())
    return [r.getMessage() for r in caplog.records if "Compiling" in r.getMessage()]


@pytest.mark.parametrize("name", EXPECTED)
def test_a_second_call_on_another_game_of_the_same_shape_compiles_nothing(name, zero_sum_pair, caplog):
    first, second = zero_sum_pair
    options = fast_options(name)
    _compilations(caplog, lambda: solve(name, first, **options))  # compiles (or reuses an earlier test's)
    assert _compilations(caplog, lambda: solve(name, second, **options)) == []
    # Integer payoffs are promoted before the compiled function: after the first (which compiles
    # the int -> float conversion) they compile nothing either.
    solve(name, np.round(first * 4).astype(np.int32), **options)
    assert _compilations(caplog, lambda: solve(name, np.round(second * 4).astype(np.int32), **options)) == []


def test_rebuilt_dynamics_are_equal_so_the_public_call_compiles_once(caplog):
    game = games.biased_rps()
    assert dynamics.fictitious_play() == dynamics.fictitious_play()
    assert hash(dynamics.optimistic_mwu(0.2)) == hash(dynamics.optimistic_mwu(0.2))
    dynamics.fictitious_play().solve(game, 30)
    assert _compilations(caplog, lambda: dynamics.fictitious_play().solve(games.rock_paper_scissors(), 30)) == []


def test_meta_solvers_are_the_registry_plus_uniform_and_are_hashable_values():
    assert meta_solvers.meta_solver_names()[:2] == ["uniform", "nash"]
    assert set(EXPECTED) | {"prd", "nash_zero_sum", "nash_general_sum"} <= set(meta_solvers.META_SOLVERS)
    assert meta_solvers.make_meta_solver("rae", gamma=0.3) == meta_solvers.make_meta_solver("rae", gamma=0.3)
    # The rae meta-solver's cheaper budget comes from the entry's meta_defaults, the rest from its defaults.
    options = dict(meta_solvers.make_meta_solver("rae").options)
    assert options["num_iters"] == 300 and options["gamma"] == 0.5
    # nash is decided for the underlying game: the LP for zero-sum, Lemke-Howson otherwise.
    assert meta_solvers.make_meta_solver("nash", games.biased_rps()).name == "zero_sum"
    assert meta_solvers.make_meta_solver("nash", games.stag_hunt()).name == "lemke_howson"
    meta = jnp.zeros((2, 3, 3)).at[:, :2, :2].set(games.matching_pennies())
    masks = jnp.array([[True, True, False], [True, True, False]])
    sigma = meta_solvers.make_meta_solver("fictitious_play", num_steps=400)(meta, masks)
    np.testing.assert_allclose(sigma[:, :2], 0.5, atol=0.05)
    assert np.all(np.asarray(sigma[:, 2]) == 0.0)


@pytest.mark.parametrize("name", ["fictitious_play", "regret_matching_plus", "rae"])
def test_iterative_solvers_share_one_contract(name):
    """``init(payoffs) -> state``, ``update(state, payoffs) -> state`` (state first everywhere;
    RAE took ``(payoffs, state, masks)``); the state carries the solver's convergence measure
    (NashConv of the reported iterate, RA-gap) and ``solve`` reports the one its last state
    holds; the result has ``profile``, ``nash_conv`` and a ``success`` that its own criterion
    backs (RAEResult had none). ``init`` and ``solve`` validate: integer payoffs give the float
    start (RAE's ``rae_solver`` cast the profile to int: all zeros), a bad profile raises."""
    game = games.stag_hunt()  # integer-valued, payoff range 4
    int_game = np.asarray(game).astype(np.int32)
    if name == "rae":
        solver, measure, tol = rae.rae_solver(gamma=0.5, num_iters=5, polish=False), "ra_gap", 1e-4
        result = solver.solve(int_game)

        def recomputed(state):
            return rae.ra_gap(game, state.profile, 0.5)

        with pytest.raises(ValueError, match=r"masks\[1\] has shape \(3,\)"):
            solver.solve(game, masks=(jnp.ones(2, bool), jnp.ones(3, bool)))
    else:
        solver = dynamics.regret_matching(plus=True) if name.endswith("plus") else dynamics.fictitious_play()
        result, measure, tol = solver.solve(int_game, 5), "nash_conv", 1e-3

        def recomputed(state):
            return nash.nash_conv(game, solver.reported(state))

    start = solver.init(int_game)
    for got, want in zip(jax.tree_util.tree_leaves(start), jax.tree_util.tree_leaves(solver.init(game))):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    update = jax.jit(solver.update)
    state = start
    for _ in range(5):
        state = update(state, game)
    assert jax.tree_util.tree_structure(state) == jax.tree_util.tree_structure(start)
    assert int(state.step) == int(start.step) + 5
    assert float(getattr(state, measure)) > 0.01  # not yet converged, so the checks below can fail
    assert float(getattr(state, measure)) == pytest.approx(float(recomputed(state)), abs=1e-5)
    assert float(getattr(result, measure)) == pytest.approx(float(getattr(state, measure)), abs=1e-6)
    assert {"profile", "nash_conv", "success"} <= set(vars(result))
    assert all(p.dtype == jnp.float32 and float(jnp.sum(p)) == pytest.approx(1.0) for p in result.profile)
    assert bool(result.success) == (float(getattr(result, measure)) <= tol * 4)
    with pytest.raises(ValueError, match="not on the simplex"):
        solver.init(game, (jnp.array([0.9, 0.3]),) * 2)
