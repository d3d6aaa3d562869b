"""Learning dynamics: convergence where theory says so, cycling where it says so."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from marljax.envs.matrix import games
from marljax.solvers import dynamics as dyn
from marljax.solvers import nash

STEPS = 3000


def run(dynamics, game, steps=STEPS, profile=None):
    return jax.jit(lambda g, p: dynamics.solve(g, steps, p))(game, profile)


def test_fictitious_play_converges_to_biased_rps_equilibrium():
    result = run(dyn.fictitious_play(), games.biased_rps())
    assert float(result.nash_conv) < 0.01  # O(1/sqrt(t))-ish in zero-sum (Robinson 1951)
    np.testing.assert_allclose(result.profile[0], np.array([1, 10, 5]) / 16, atol=0.03)
    assert float(result.nash_conv_curve[-1]) < float(result.nash_conv_curve[20])


def test_fictitious_play_keeps_cycling_on_shapleys_game():
    off_equilibrium = (jnp.array([1.0, 0.0, 0.0]), jnp.array([0.0, 1.0, 0.0]))
    result = run(dyn.fictitious_play(), games.shapley_game(), profile=off_equilibrium)
    # Shapley (1964): the empirical frequencies never converge.
    assert float(jnp.min(result.nash_conv_curve[STEPS // 2 :])) > 0.05


@pytest.mark.parametrize("plus", [False, True])
def test_regret_matching_average_solves_random_zero_sum(plus):
    game = games.random_zero_sum(jax.random.PRNGKey(1), (5, 6))
    result = run(dyn.regret_matching(plus=plus), game)
    value = float(nash.zero_sum(game).value)
    assert float(result.nash_conv) < 0.02
    assert abs(float(nash.expected_payoffs(game, result.profile)[0]) - value) < 0.02


def test_regret_matching_empirical_play_approaches_a_cce_in_three_player_general_sum():
    game = games.random_general_sum(jax.random.PRNGKey(2), (2, 3, 2))
    result = run(dyn.regret_matching(), game)
    assert float(result.cce_gap_curve[-1]) < 0.02
    assert float(result.cce_gap_curve[-1]) < float(result.cce_gap_curve[10])
    assert result.joint.shape == (2, 3, 2) and float(jnp.sum(result.joint)) == pytest.approx(1.0, abs=1e-5)


def test_replicator_dynamics_eliminates_a_strictly_dominated_action():
    start = (jnp.array([0.9, 0.1]), jnp.array([0.9, 0.1]))
    result = run(dyn.replicator_dynamics(step_size=0.2), games.prisoners_dilemma(), profile=start)
    np.testing.assert_allclose(result.profile[0], [0.0, 1.0], atol=1e-3)  # everyone defects
    assert float(result.nash_conv) < 1e-2


def test_replicator_dynamics_ends_at_the_equilibrium_whose_basin_it_starts_in():
    stag, hare = (jnp.array([0.8, 0.2]),) * 2, (jnp.array([0.7, 0.3]),) * 2  # basin edge at 3/4
    assert float(run(dyn.replicator_dynamics(), games.stag_hunt(), profile=stag).profile[0][0]) > 0.99
    assert float(run(dyn.replicator_dynamics(), games.stag_hunt(), profile=hare).profile[0][0]) < 0.01


def test_projected_replicator_dynamics_average_and_exploration_floor():
    result = run(dyn.projected_replicator_dynamics(gamma=0.03), games.biased_rps())
    assert float(result.nash_conv) < 0.03
    assert float(jnp.min(result.last_profile[0])) >= 0.01 - 1e-6  # gamma / A floor


def test_optimistic_mwu_last_iterate_converges_on_matching_pennies():
    start = (jnp.array([0.9, 0.1]), jnp.array([0.2, 0.8]))
    result = run(dyn.optimistic_mwu(step_size=0.2), games.matching_pennies(), profile=start)
    np.testing.assert_allclose(result.profile[0], [0.5, 0.5], atol=1e-3)
    assert float(result.nash_conv) < 1e-3
    # Plain replicator/MWU-style dynamics cycle around the equilibrium instead.
    cycling = run(dyn.replicator_dynamics(step_size=0.2), games.matching_pennies(), profile=start)
    assert float(cycling.nash_conv) > 0.1


def test_batched_over_games_and_deterministic():
    keys = jax.random.split(jax.random.PRNGKey(3), 4)
    batch = jax.vmap(lambda k: games.random_zero_sum(k, (3, 3)))(keys)
    solve = jax.jit(jax.vmap(lambda g: dyn.regret_matching(plus=True).solve(g, 500)))
    first, second = solve(batch), solve(batch)
    assert first.nash_conv_curve.shape == (4, 500)
    np.testing.assert_array_equal(first.nash_conv, second.nash_conv)
    single = dyn.regret_matching(plus=True).solve(batch[2], 500)
    np.testing.assert_allclose(single.nash_conv, first.nash_conv[2], atol=1e-6)


def test_bad_hyper_parameters_and_profiles_are_rejected():
    with pytest.raises(ValueError, match="step_size"):
        dyn.replicator_dynamics(step_size=-1.0)
    with pytest.raises(ValueError, match="gamma"):
        dyn.projected_replicator_dynamics(gamma=1.5)
    with pytest.raises(ValueError, match="simplex"):
        dyn.fictitious_play().solve(games.biased_rps(), 10, profile=(jnp.ones(3), jnp.ones(3)))
    with pytest.raises(ValueError, match="NaN"):
        dyn.fictitious_play().solve(jnp.full((2, 2, 2), jnp.nan), 10)
