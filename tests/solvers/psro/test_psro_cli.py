"""``marljax psro`` and the PSRO demo section write their curves, plots and population."""

import json

import jax

from marljax.cli import main
from marljax.demos import psro as psro_demo


def test_psro_command_writes_curve_plots_and_population(tmp_path):
    out = tmp_path / "run"
    assert (
        main(
            ["psro", "high_risk_game", "--meta-solver", "rae", "--gamma", "0.5", "--iterations", "4", "--out", str(out)]
        )
        == 0
    )
    record = json.loads((out / "population.json").read_text())
    assert sorted(record["population"][0]) == [0, 1] and sorted(record["population"][1]) == [0, 1]
    assert len(record["exploitability"]) == 5 and len(record["meta_strategy_per_iteration"][0]) == 5
    assert abs(sum(record["final_profile"][0]) - 1.0) < 1e-5
    for name in ["exploitability.png", "meta_strategy.png"]:
        assert (out / name).stat().st_size > 1000


def test_psro_command_bad_input_is_a_clear_error(tmp_path, capsys):
    assert main(["psro", "high_risk_game", "--meta-solver", "nope", "--out", str(tmp_path)]) == 2
    assert "known meta-solvers" in capsys.readouterr().err
    assert main(["psro", "stag_hunt", "--iterations", "10", "--max-population", "3", "--out", str(tmp_path)]) == 2
    assert "population budget" in capsys.readouterr().err
    assert main(["psro", "stag_hunt", "--meta-solver", "rae", "--gamma", "-1", "--out", str(tmp_path)]) == 2
    assert "gamma" in capsys.readouterr().err


def test_demo_section_psro_rae_lowers_the_variance(tmp_path):
    section = psro_demo.run(tmp_path, jax.random.PRNGKey(0))
    summary = section["summary"]
    assert all(r < n for r, n in zip(summary["variance_rae"], summary["variance_nash"]))
    assert (tmp_path / "psro_rae_high_risk.png").stat().st_size > 1000
