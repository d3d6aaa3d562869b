import json

from marljax import registered
from marljax.cli import main


def test_envs_lists_every_registered_env(capsys):
    assert main(["envs"]) == 0
    out = capsys.readouterr().out
    for name in registered():
        assert name in out


def test_envs_unknown_family_is_a_clear_error(capsys):
    assert main(["envs", "--family", "nope"]) == 2
    assert "matrix" in capsys.readouterr().err


def test_demo_writes_results(tmp_path):
    assert main(["demo", "--out", str(tmp_path), "--only", "matrix_games"]) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    section = results["sections"]["matrix_games"]
    assert section["rollout"]["env_steps_per_s"] > 0
    assert section["stag_hunt_nash_conv"]["mixed 3/4 stag"] < 1e-6
    assert section["stag_hunt_nash_conv"]["uniform"] > 0.1
    assert (tmp_path / "stag_hunt_nash_conv.png").stat().st_size > 1000
