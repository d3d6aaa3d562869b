"""``marljax solve``: catalog games, payoff files, and clear errors."""

import json

import numpy as np
import pytest

from marljax.cli import main


def test_solve_biased_rps_zero_sum_prints_the_equilibrium(capsys):
    assert main(["solve", "biased_rps", "--solver", "zero_sum"]) == 0
    out = capsys.readouterr().out
    assert "player 1 strategy: [0.0625, 0.625, 0.3125]" in out
    assert "success: True" in out


def test_solve_payoff_files_npy_and_json(tmp_path, capsys):
    rng = np.random.default_rng(0)
    npy = tmp_path / "game.npy"
    np.save(npy, rng.uniform(size=(2, 4, 3)).astype(np.float32))
    assert main(["solve", str(npy)]) == 0
    assert "NashConv: 0" in capsys.readouterr().out
    aumann = tmp_path / "chicken.json"
    aumann.write_text(json.dumps({"payoffs": [[[6, 2], [7, 0]], [[6, 7], [2, 0]]]}))
    assert main(["solve", str(aumann), "--solver", "ce"]) == 0
    assert "expected payoffs under the joint: [5.25, 5.25]" in capsys.readouterr().out


def test_solve_support_enumeration_lists_every_equilibrium(capsys):
    assert main(["solve", "battle_of_the_sexes", "--solver", "support_enumeration"]) == 0
    out = capsys.readouterr().out
    assert "equilibrium 3 of 3" in out and "[0.6, 0.4]" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["solve", "no_such_game"], "unknown game"),
        (["solve", "/nonexistent/game.npy"], "does not exist"),
    ],
)
def test_solve_bad_game_is_a_clear_error(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_solve_rejects_nan_payoff_file(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([[[1, None]], [[0, 1]]]))
    assert main(["solve", str(bad)]) == 2
    assert "NaN" in capsys.readouterr().err
