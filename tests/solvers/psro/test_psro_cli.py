"""``marljax psro`` and the PSRO demo section write their summary, curves, plots and population."""

import json

import jax
import numpy as np
import pytest
from PIL import Image

from marljax.cli import main
from marljax.demos import psro as psro_demo
from marljax.envs.matrix import high_risk_game
from marljax.solvers import psro


def _assert_drawn(path, min_width=300):
    """A real plot: a sizeable image that is not one flat colour."""
    image = np.asarray(Image.open(path).convert("L"), float)
    assert image.shape[1] >= min_width and image.shape[0] >= 200, image.shape
    assert image.std() > 10 and (image < 128).mean() > 0.005  # lines, text, colour map


def test_psro_command_writes_summary_curve_plots_and_population(tmp_path):
    out = tmp_path / "run"
    argv = ["psro", "high_risk_game", "--meta-solver", "rae", "--gamma", "0.5", "--iterations", "4", "--out", str(out)]
    assert main(argv) == 0
    expected = psro.run(high_risk_game(), "rae", iterations=4, gamma=0.5)

    summary = json.loads((out / "summary.json").read_text())
    assert summary["exploitability"] == pytest.approx(float(expected.nash_conv), rel=1e-6)
    assert summary["exploitability"] > 0.1  # PSRO-RAE's answer is risk-averse, not a Nash equilibrium
    assert summary["success"] is bool(expected.success) is True
    assert summary["population_sizes"] == [2, 2] and summary["population"] == [[0, 1], [0, 1]]
    assert summary["meta_solver"] == "rae" and summary["gamma"] == 0.5 and summary["game"] == "high_risk_game"
    for mine, theirs in zip(summary["meta_strategies"], np.asarray(expected.meta_strategy)):
        np.testing.assert_allclose(mine, theirs[:2], atol=1e-6)
    np.testing.assert_allclose(summary["profile"][0], np.asarray(expected.profile[0]), atol=1e-6)

    record = json.loads((out / "population.json").read_text())
    np.testing.assert_allclose(record["exploitability_per_iteration"], psro.nash_conv_curve(expected), rtol=1e-6)
    assert len(record["meta_strategy_per_iteration"][0]) == 5  # 4 iterations and the final population
    assert record["exploitability_per_iteration"][-1] == summary["exploitability"]
    for name in ["exploitability.png", "meta_strategy.png"]:
        _assert_drawn(out / name)


def test_psro_command_bad_input_is_a_clear_error(tmp_path, capsys):
    assert main(["psro", "high_risk_game", "--meta-solver", "nope", "--out", str(tmp_path)]) == 2
    assert "known meta-solvers" in capsys.readouterr().err
    assert main(["psro", "stag_hunt", "--iterations", "10", "--max-population", "3", "--out", str(tmp_path)]) == 2
    assert "population budget" in capsys.readouterr().err
    assert main(["psro", "stag_hunt", "--meta-solver", "rae", "--gamma", "-1", "--out", str(tmp_path)]) == 2
    assert "gamma" in capsys.readouterr().err
    assert main(["psro", "stag_hunt", "--gamma", "0.5", "--out", str(tmp_path)]) == 2  # nash takes no gamma
    assert "meta-solver 'nash' does not take option(s) gamma" in capsys.readouterr().err
    assert main(["psro", "no_such_game", "--out", str(tmp_path)]) == 2
    assert "unknown game 'no_such_game'" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # nothing written on a bad input


def test_demo_section_psro_rae_lowers_the_variance(tmp_path):
    section = psro_demo.run(tmp_path, jax.random.PRNGKey(0))
    summary = section["summary"]
    assert all(r < n for r, n in zip(summary["variance_rae"], summary["variance_nash"]))
    _assert_drawn(tmp_path / "psro_rae_high_risk.png")
