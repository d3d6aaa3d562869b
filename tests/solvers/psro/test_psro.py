"""PSRO with the exact oracle: convergence with the Nash meta-solver, masks and budgets,
PSRO-RAE on the high-risk game, and bad input."""

import logging

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from marljax.envs.matrix import games
from marljax.solvers import meta_solvers, nash, psro, rae

SIZE = 40


def _zero_sum_suite():
    keys = jax.random.split(jax.random.PRNGKey(0), 5)
    return {
        "random_symmetric_zero_sum_100": games.random_symmetric_zero_sum(keys[0], 100),
        "transitive": games.transitive_game(keys[1], SIZE),
        "cyclic": games.cyclic_game(keys[2], SIZE + 1),
        "disc": games.disc_game(keys[3], SIZE),
        "spinning_top": games.spinning_top_game(keys[4], SIZE),
    }


@pytest.mark.parametrize("name", list(_zero_sum_suite()))
def test_psro_nash_converges_within_the_game_size(name):
    game = _zero_sum_suite()[name]
    size = game.shape[1]
    result = psro.run(game, "nash", iterations=size)
    assert float(result.nash_conv) <= 1e-4 and bool(result.success)
    # The curve: it starts exploitable and reaches the tolerance before the last iteration;
    # once the oracle finds nothing new, the population and the curve stay put.
    curve = np.asarray(psro.nash_conv_curve(result))
    added = np.asarray(result.metrics.added).any(axis=1)
    assert curve.shape == (size + 1,) and curve[0] > 1e-2
    assert np.any(curve[:-1] <= 1e-4)
    stopped = int(np.argmax(~added))
    assert not added[stopped:].any() and np.all(curve[stopped:] <= 1e-4)
    assert np.asarray(result.state.sizes).max() == stopped + 1
    # The meta-strategy lives on the filled slots only.
    masks = np.arange(size + 1)[None, :] < np.asarray(result.state.sizes)[:, None]
    assert np.all(np.asarray(result.meta_strategy)[~masks] == 0.0)
    np.testing.assert_allclose(np.asarray(result.meta_strategy).sum(axis=1), 1.0, atol=1e-5)
    assert float(nash.nash_conv(game, result.profile)) == pytest.approx(float(result.nash_conv), abs=1e-6)


def test_psro_population_grows_only_with_new_best_responses():
    game = games.rock_paper_scissors()
    result = psro.run(game, "nash", iterations=6)
    sizes = np.asarray(result.metrics.sizes)
    assert sizes[-1].tolist() == [3, 3] and np.all(np.diff(sizes, axis=0) >= 0)
    # Once the population holds every action, nothing is added and NashConv is zero.
    assert not np.asarray(result.metrics.added)[-1].any()
    assert float(result.nash_conv) <= 1e-6 and bool(result.success)
    assert sorted(np.asarray(result.state.population)[0, :3].tolist()) == [0, 1, 2]
    # Stopped by its budget before the population holds a best response: not a success.
    early = psro.run(game, "nash", iterations=1)
    assert not bool(early.success) and float(early.nash_conv) > 0.1


def test_uniform_meta_solver_is_fictitious_self_play():
    game = games.biased_rps()
    result = psro.run(game, "uniform", iterations=4)
    sizes = np.asarray(result.metrics.sizes)[:, 0]
    first = np.asarray(result.metrics.meta_strategy)[:, 0]
    for size, sigma in zip(sizes, first):
        np.testing.assert_allclose(sigma[:size], 1.0 / size, atol=1e-6)


def test_masked_meta_solvers_ignore_empty_slots():
    # A 3x3 meta-game where only the first two slots of each player are filled: the answer must
    # equal the solution of the 2x2 sub-game (matching pennies has the uniform NE).
    sub = games.matching_pennies()
    meta = jnp.zeros((2, 3, 3)).at[:, :2, :2].set(sub).at[:, 2, :].set(50.0).at[:, :, 2].set(-50.0)
    masks = jnp.array([[True, True, False], [True, True, False]])
    for name in ["nash_zero_sum", "nash_general_sum", "uniform", "rae", "prd", "ce", "alpharank"]:
        sigma = np.asarray(meta_solvers.make_meta_solver(name)(meta, masks))
        np.testing.assert_allclose(sigma[:, :2], 0.5, atol=1e-5, err_msg=name)
        assert np.all(sigma[:, 2] == 0.0), name


def test_psro_rae_has_lower_reward_variance_than_psro_nash_on_the_high_risk_game():
    game = games.high_risk_game()
    by_nash = psro.run(game, "nash", iterations=4)
    by_rae = psro.run(game, "rae", iterations=4, gamma=0.5)
    assert float(by_nash.nash_conv) <= 1e-5  # PSRO-Nash finds the mixed NE
    assert bool(by_rae.success) and float(by_rae.nash_conv) > 0.1  # its own fixed point, not a Nash
    nash_variance = rae.reward_variance(game, by_nash.profile)
    rae_variance = rae.reward_variance(game, by_rae.profile)
    assert np.all(np.asarray(rae_variance) < np.asarray(nash_variance))
    assert float(rae.ra_gap(game, by_rae.profile, 0.5)) <= 1e-4  # it is the RAE of the full game


def test_general_sum_nash_meta_solver_on_the_stag_hunt():
    result = psro.run(games.stag_hunt(), "nash", iterations=3, initial_actions=[1, 1])
    assert float(result.nash_conv) <= 1e-6  # hare/hare is an equilibrium: PSRO stops there
    assert bool(result.success) and np.asarray(result.state.sizes).tolist() == [1, 1]


def test_bad_input_raises_clear_errors():
    game = games.rock_paper_scissors()
    with pytest.raises(ValueError, match="known meta-solvers.*uniform"):
        psro.run(game, "nosuchsolver", iterations=3)
    with pytest.raises(ValueError, match="population budget"):
        psro.run(game, "nash", iterations=10, max_population=5)
    with pytest.raises(ValueError, match="gamma"):
        psro.run(game, "rae", iterations=3, gamma=-1.0)
    with pytest.raises(ValueError, match="gamma"):
        psro.run(game, "rae", iterations=3, gamma=float("inf"))
    with pytest.raises(ValueError, match="meta-solver 'nash' does not take option.*gamma"):
        psro.run(game, "nash", iterations=3, gamma=0.5)  # an option it does not take
    with pytest.raises(ValueError, match="^iterations must be an integer >= 1"):
        psro.run(game, "nash", iterations=-1)  # names iterations, not the max_population it implies
    with pytest.raises(ValueError, match="oracle_gamma"):
        psro.run(game, "nash", iterations=3, oracle_gamma=-0.5)


@pytest.mark.parametrize(
    "initial_actions, message",
    [
        ([5, 5], r"initial_actions\[0\] = 5 is out of range: player 0 has actions 0..1"),
        ([0, -1], r"initial_actions\[1\] = -1 is out of range"),
        ([0.0, 1.0], "must be integers"),
        ([0, 1, 1], r"one action per player \(2\)"),
    ],
)
def test_initial_actions_are_checked(initial_actions, message):
    # Before the check, [5, 5] on a 2x2 game returned an all-zero "profile" with NashConv 0.
    with pytest.raises(ValueError, match=message):
        psro.run(games.stag_hunt(), "uniform", iterations=2, initial_actions=initial_actions)


def test_integer_payoffs_give_the_float_answer():
    scaled = np.round(np.asarray(games.biased_rps()) * 100).astype(np.int32)  # exact in int32
    by_int = psro.run(scaled, "nash", iterations=4)
    assert by_int.nash_conv.dtype == np.float32 and bool(by_int.success)
    np.testing.assert_allclose(np.asarray(by_int.profile[0]), [1 / 16, 10 / 16, 5 / 16], atol=1e-6)
    one_step = psro.run(scaled, "nash", iterations=1)  # population {rock, paper}: paper is exploited by 10
    assert float(one_step.nash_conv) == pytest.approx(10.0)
    assert float(one_step.nash_conv) == pytest.approx(float(psro.run(scaled.astype(np.float32), "nash", 1).nash_conv))


def test_public_call_compiles_once_per_shape_and_options(caplog, capsys):
    """A second ``psro.run`` on another game of the same shape compiles nothing (it used to
    recompile the whole loop on every call), with or without the progress bar."""
    first, second = (games.random_symmetric_zero_sum(jax.random.PRNGKey(k), 5) for k in (11, 12))

    def run_and_count_compiles(game, **options):
        caplog.clear()
        with jax.log_compiles(), caplog.at_level(logging.WARNING, logger="jax"):
            result = psro.run(game, "uniform", iterations=3, **options)
        return result, [r.getMessage() for r in caplog.records if "Compiling" in r.getMessage()]

    for progress in (False, True):
        _, compiled = run_and_count_compiles(first, progress=progress)
        assert compiled, "the first call of a new shape and options compiles (else nothing was counted)"
        result, compiled = run_and_count_compiles(second, progress=progress)
        assert compiled == [], compiled
        assert float(result.nash_conv) == pytest.approx(float(psro.run(second, "uniform", iterations=3).nash_conv))
    # The bar of the compiled loop reached its end on both calls (the callback looks the bar up at run time).
    assert capsys.readouterr().err.count("PSRO: 100%") >= 2


def test_three_player_meta_game_and_psro():
    game = games.random_general_sum(jax.random.PRNGKey(7), (3, 4, 5))
    population = jnp.array([[2, 0], [3, 1], [4, 4]])
    meta = psro.meta_game(game, population)
    assert meta.shape == (3, 2, 2, 2)
    np.testing.assert_allclose(meta[:, 1, 0, 1], game[:, 0, 3, 4])
    result = psro.run(game, "uniform", iterations=4)
    assert float(nash.nash_conv(game, result.profile)) == pytest.approx(float(result.nash_conv), abs=1e-6)
