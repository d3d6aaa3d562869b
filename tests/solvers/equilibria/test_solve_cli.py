"""``marljax solve``: catalog games, payoff files, every registered solver, and clear errors."""

import json
import re

import numpy as np
import pytest
from conftest import fast_options

from marljax.cli import main
from marljax.solvers.registry import solve, solver_names


def printed_nash_conv(out: str) -> list[float]:
    """Every ``NashConv: X`` value the command printed."""
    return [float(x) for x in re.findall(r"NashConv: (\S+)", out)]


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
    out = capsys.readouterr().out
    assert "solver: nash" in out
    (value,) = printed_nash_conv(out)  # "NashConv: 0.5" used to pass a substring check for 0
    assert 0.0 <= value <= 1e-6
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


@pytest.mark.parametrize("name", solver_names())
def test_every_registered_solver_runs_from_the_cli(name, zero_sum_pair, tmp_path, capsys):
    game = tmp_path / "game.npy"
    np.save(game, zero_sum_pair[0])
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in fast_options(name).items()]
    assert main(["solve", str(game), "--solver", name, *flags]) == 0
    out = capsys.readouterr().out
    assert f"solver: {name}" in out
    expected = solve(name, zero_sum_pair[0], **fast_options(name))
    assert printed_nash_conv(out)[0] == pytest.approx(float(expected.nash_conv), rel=1e-5, abs=1e-9)
    assert f"success: {bool(expected.success)}" in out


def test_unknown_solver_and_option_get_one_line_and_exit_2(capsys):
    assert main(["solve", "stag_hunt", "--solver", "bogus"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "unknown solver 'bogus'" in err
    assert all(name in err for name in solver_names())
    assert main(["solve", "stag_hunt", "--solver", "zero_sum", "--alpha", "3"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'zero_sum' does not take option(s) alpha" in err
    assert main(["solve", "stag_hunt", "--solver", "lemke_howson", "--max-pivots", "0"]) == 2
    assert "max_pivots must be an integer >= 1; got 0" in capsys.readouterr().err
