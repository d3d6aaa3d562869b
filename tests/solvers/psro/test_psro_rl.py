"""PSRO with the PPO oracle on the repeated stag hunt env agrees with the exact oracle on the
normal-form stag hunt."""

import dataclasses

import jax
import numpy as np
import pytest

import marljax
from marljax.envs.matrix import stag_hunt
from marljax.solvers import nash, psro, psro_rl


def test_ppo_oracle_psro_matches_the_exact_oracle_on_the_stag_hunt():
    env = marljax.make("matrix/StagHunt-v0")
    config = dataclasses.replace(psro_rl.RLOracleConfig(), sims_per_entry=32)
    state, metrics, sigma, frequencies = psro_rl.run_rl_psro(env, "nash", 2, jax.random.PRNGKey(0), config)

    # Exact PSRO on the normal-form game, started where the RL run starts: the untrained
    # policies play (close to) uniformly, and the exact best response to uniform is hare.
    game = stag_hunt()
    start = psro.exact_best_response(game, nash.uniform_profile(game))
    exact = psro.run(game, "nash", iterations=2, initial_actions=start)
    for team in range(2):
        np.testing.assert_allclose(frequencies[team], exact.profile[team], atol=0.05)
    assert np.asarray(state.sizes).tolist() == [3, 3]
    assert np.asarray(sigma).sum(axis=1) == pytest.approx([1.0, 1.0], abs=1e-5)
    # The first best responses exploit the random initial policies by about 4.5 per episode
    # each (hare's 30 against about 25.5); once hare is in the population, little is left.
    curve = np.asarray(metrics.exploitability)
    assert curve[0] > 5.0 and abs(curve[-1]) < 2.0


def test_rl_oracle_bad_input():
    env = marljax.make("matrix/StagHunt-v0")
    with pytest.raises(ValueError, match="population budget"):
        psro_rl.run_rl_psro(env, "nash", iterations=5, max_population=3)
    with pytest.raises(ValueError, match="partition"):
        psro_rl.team_masks(2, ((0,), (0,)))
    with pytest.raises(ValueError, match="known meta-solvers"):
        psro_rl.run_rl_psro(env, "bogus", iterations=1)
