"""PSRO with the PPO oracle: on the repeated stag hunt env it agrees with the exact oracle on
the normal-form stag hunt; the final meta-strategy profile reports the env's metrics."""

import dataclasses
import json
import logging

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import marljax
from marljax.envs.matrix import stag_hunt
from marljax.solvers import nash, psro, psro_rl
from marljax.solvers.psro import meta_solvers, report


def _run_and_count_compiles(caplog, *args):
    caplog.clear()
    with jax.log_compiles(), caplog.at_level(logging.WARNING, logger="jax"):
        result = jax.block_until_ready(psro_rl.run_rl_psro(*args))
    return result, [r.getMessage() for r in caplog.records if "Compiling" in r.getMessage()]


def test_ppo_oracle_psro_matches_the_exact_oracle_on_the_stag_hunt(caplog):
    """Two runs (seeds 0 and 1) with the same env object and settings: both play like the exact
    oracle, and the second compiles nothing (``run_rl_psro`` used to re-jit every call; the
    compilation is ~18 s of this test, a run ~0.5 s)."""
    env = marljax.make("matrix/StagHunt-v0")
    config = dataclasses.replace(psro_rl.RLOracleConfig(), sims_per_entry=32, teams=[[0], [1]])  # lists: still cached
    first, compiled = _run_and_count_compiles(caplog, env, "nash", 2, jax.random.PRNGKey(0), config)
    assert compiled, "the first call compiles (else nothing was counted)"
    second, compiled = _run_and_count_compiles(caplog, env, "nash", 2, jax.random.PRNGKey(1), config)
    assert compiled == [], compiled
    assert not np.array_equal(first.state.meta_payoffs, second.state.meta_payoffs)  # it ran, with the new key

    # Exact PSRO on the normal-form game, started where the RL run starts: the untrained
    # policies play (close to) uniformly, and the exact best response to uniform is hare.
    game = stag_hunt()
    start = psro.exact_best_response(game, nash.uniform_profile(game))
    exact = psro.run(game, "nash", iterations=2, initial_actions=start)
    for result in (first, second):
        for team in range(2):
            np.testing.assert_allclose(result.action_frequencies[team], exact.profile[team], atol=0.05)
            # The profile is the meta-game's mixed profile: the meta-strategy's rows, on the simplex.
            np.testing.assert_array_equal(result.profile[team], result.meta_strategy[team])
            assert float(result.profile[team].sum()) == pytest.approx(1.0, abs=1e-5)
        assert np.asarray(result.state.sizes).tolist() == [3, 3]
        # The first best responses exploit the random initial policies by about 4.5 per episode
        # each (hare's 30 against about 25.5); once hare is in the population, little is left.
        curve = np.asarray(result.metrics.nash_conv)
        assert curve[0] > 5.0 and abs(curve[-1]) < 2.0
        assert float(result.nash_conv) == curve[-1]
        # Both teams play hare (3 a round for 10 rounds) under the final meta-strategy.
        np.testing.assert_allclose(np.asarray(result.team_returns), 30.0, atol=1.0)
        assert result.env_metrics == {}  # the matrix env declares no metrics


def test_final_profile_reports_the_env_metrics(tmp_path):
    """SimpleTag's predators get 10 per catch, so the predator team's return per agent must be
    10 x the episode's ``catches`` metric (no PPO training: the initial population plays)."""
    env = marljax.make("mpe/SimpleTag-v0")
    config = psro_rl.RLOracleConfig(sims_per_entry=2, teams=((0, 1, 2), (3,)), eval_episodes=64)
    rl_psro = psro_rl.make_rl_psro(env, meta_solvers.make_meta_solver("uniform"), 1, config)
    state = jax.jit(rl_psro.init)(jax.random.PRNGKey(0))
    assert state.meta_payoffs.shape == (2, 1, 1)
    sigma, batch = jax.jit(rl_psro.evaluate)(state, jax.random.PRNGKey(1))
    stats = psro_rl.profile_statistics(batch, jnp.asarray(psro_rl.team_masks(4, config.teams)))
    catches = float(stats["env_metrics"]["catches"])
    assert catches > 0  # random predators catch the prey now and then: a non-trivial comparison
    assert float(stats["team_returns"][0]) == pytest.approx(10.0 * catches, rel=1e-5)
    frequencies = np.asarray(stats["action_frequencies"])
    assert frequencies.shape == (2, 5) and frequencies.sum(axis=1) == pytest.approx([1.0, 1.0])

    # What `marljax psro --oracle ppo` writes for such a result: the env metrics in summary.json.
    metrics = psro_rl.RLPSROMetrics(
        sigma[None], jnp.zeros((1,)), jnp.zeros((1, 2)), jnp.zeros((1, 2)), state.sizes[None]
    )
    result = psro_rl.RLPSROResult(
        state=state,
        metrics=metrics,
        meta_strategy=sigma,
        profile=tuple(sigma),
        nash_conv=state.nash_conv,
        success=jnp.array(True),
        **stats,
    )
    report.write_report(result, tmp_path, "SimpleTag", game="mpe/SimpleTag-v0")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["env_metrics"] == {"catches": pytest.approx(catches)}
    assert summary["population_sizes"] == [1, 1] and summary["meta_strategies"] == [[1.0], [1.0]]
    assert summary["team_returns"][0] == pytest.approx(10.0 * catches, rel=1e-5)
    assert (tmp_path / "population.msgpack").stat().st_size > 1000  # the two actor networks


def test_rl_oracle_bad_input():
    env = marljax.make("matrix/StagHunt-v0")
    with pytest.raises(ValueError, match="population budget"):
        psro_rl.run_rl_psro(env, "nash", iterations=5, max_population=3)
    with pytest.raises(ValueError, match="partition"):
        psro_rl.team_masks(2, ((0,), (0,)))
    with pytest.raises(ValueError, match="known meta-solvers"):
        psro_rl.run_rl_psro(env, "bogus", iterations=1)
    with pytest.raises(ValueError, match="does not take option"):
        psro_rl.run_rl_psro(env, "nash", iterations=1, gamma=0.5)
    solver = psro_rl.make_rl_psro(env, meta_solvers.make_meta_solver("uniform"), 2)
    with pytest.raises(ValueError, match="population budget"):
        solver.solve(jax.random.PRNGKey(0), iterations=2)
    with pytest.raises(ValueError, match="payoff tensor"):  # an env game's meta-game is simulated, not given
        solver.update(None, stag_hunt())
    with pytest.raises(ValueError, match="tolerance"):
        psro_rl.make_rl_psro(env, meta_solvers.make_meta_solver("uniform"), 2, psro_rl.RLOracleConfig(tolerance=-1.0))
