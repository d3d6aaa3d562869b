"""PSRO with the PPO oracle on two-way traffic records the env's metrics (crash rate...) per
iteration and for the final mixture, and PSRO-RAE's meta-solver is the risk-averse one."""

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import marljax
from marljax.cli import main
from marljax.envs.matrix import high_risk_game
from marljax.solvers import psro_rl
from marljax.solvers.equilibria import rae
from marljax.solvers.psro import meta_solvers, report
from marljax.solvers.psro.oracles.rl import slot_masks

TINY = psro_rl.RLOracleConfig(
    ppo=dataclasses.replace(psro_rl.RLOracleConfig().ppo, total_steps=2 * 8 * 8, num_envs=8, num_steps=8),
    sims_per_entry=32,
    eval_episodes=64,
)


@pytest.fixture(scope="module")
def rae_run():
    env = marljax.make("traffic/TwoWay-v0", num_slow=2, num_oncoming=1, max_steps=12)
    return env, psro_rl.run_rl_psro(env, "rae", 2, jax.random.PRNGKey(0), TINY, gamma=2.0)


def test_psro_rae_on_two_way_reports_crash_metrics_per_iteration_and_for_the_final_mixture(rae_run, tmp_path):
    env, result = rae_run
    names = set(env.metrics)
    assert set(result.env_metrics) == names and set(result.metrics.env_metrics) == names
    final = {name: float(value) for name, value in result.env_metrics.items()}
    assert 0.0 < final["crash_rate"] <= 1.0  # barely trained drivers crash
    # Each of the 2 learners crashes at most once: crashes per episode = 2 x the crash rate.
    assert final["crashes"] == pytest.approx(2.0 * final["crash_rate"], rel=1e-5)
    # The team returns of the final mixture are the env's "return" metric (the learners' mean return).
    assert float(np.mean(result.team_returns)) == pytest.approx(final["return"], rel=1e-4, abs=1e-4)

    # Per iteration: the meta-strategy's metrics on the meta-game it was solved on. The last
    # iteration's meta-strategy lives on the first two slots, whose entries the final meta-game
    # re-simulated with fresh episodes: the two estimates agree to sampling noise.
    curve = np.asarray(result.metrics.env_metrics["crash_rate"])
    assert curve.shape == (2,) and np.all((curve >= 0) & (curve <= 1))
    sigma = np.asarray(result.metrics.meta_strategy[-1])
    resimulated = sigma[0] @ np.asarray(result.state.meta_metrics["crash_rate"]) @ sigma[1]
    assert abs(curve[-1] - resimulated) < 0.2

    paths = report.write_report(result, tmp_path, "PSRO-rae on TwoWay", meta_solver="rae")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["env_metrics"]["crash_rate"] == pytest.approx(final["crash_rate"])
    assert summary["env_metrics_per_iteration"]["crash_rate"] == pytest.approx(curve.tolist())
    assert tmp_path / "metrics.png" in paths and (tmp_path / "metrics.png").stat().st_size > 10_000


def test_rae_meta_strategy_has_less_reward_variance_than_nash_on_the_empirical_meta_game(rae_run):
    _, result = rae_run
    meta = result.state.meta_payoffs
    masks = slot_masks(result.state.sizes, meta.shape[1])
    # Both meta-solvers in one jitted function, compiled once for both meta-games below ([2, 3, 3]).
    both = jax.jit(
        lambda game, masks: (
            meta_solvers.make_meta_solver("rae", gamma=2.0)(game, masks),
            meta_solvers.make_meta_solver("nash")(game, masks),
        )
    )
    risk_averse, nash = both(meta, masks)
    np.testing.assert_allclose(risk_averse, result.meta_strategy, atol=1e-5)  # PSRO-RAE used the RAE meta-solver
    risk = lambda game, sigma: rae.risk(game, tuple(sigma))  # noqa: E731 (variance from the opponent's sampling)
    assert float(jnp.sum(risk(meta, risk_averse))) <= float(jnp.sum(risk(meta, nash))) + 1e-6

    # The same meta-solvers on a meta-game whose only Nash equilibrium is mixed, with a rare
    # catastrophe (high_risk_game in 2 of 3 slots, as PSRO presents a growing population): the
    # RAE's row player takes far less risk (Nash's: 4.19 of the 13.7 total variance comes from
    # the column player's sampling; the RAE at gamma = 2 gambles 7% of the time: 0.02).
    game = jnp.zeros((2, 3, 3)).at[:, :2, :2].set(high_risk_game())
    masks = jnp.array([[True, True, False], [True, True, False]])
    risk_averse, nash = both(game, masks)
    np.testing.assert_allclose(nash[0, :2], [1 / 3, 2 / 3], atol=1e-4)
    assert float(risk(game, nash)[0]) == pytest.approx(4.187, abs=0.01)
    assert float(risk(game, risk_averse)[0]) < 0.1 * float(risk(game, nash)[0])


def test_bad_ppo_oracle_input_is_a_clear_error(tmp_path, capsys):
    argv = ["psro", "traffic/TwoWay-v0", "--oracle", "ppo", "--out", str(tmp_path)]
    assert main(argv + ["--env-kwargs", '{"players": 1}']) == 2
    assert "plays two teams" in capsys.readouterr().err
    assert main(argv + ["--meta-solver", "nope"]) == 2
    assert "known meta-solvers" in capsys.readouterr().err
    assert main(["psro", "stag_hunt", "--sims-per-entry", "8", "--out", str(tmp_path)]) == 2
    assert "needs --oracle ppo" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
