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


def test_demo_writes_results(tmp_path, assert_drawn):
    assert main(["demo", "--out", str(tmp_path), "--only", "matrix_games"]) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    section = results["sections"]["matrix_games"]
    assert section["rollout"]["env_steps_per_s"] > 0
    assert section["stag_hunt_nash_conv"]["mixed 3/4 stag"] < 1e-6
    assert section["stag_hunt_nash_conv"]["uniform"] > 0.1
    assert_drawn(tmp_path / "stag_hunt_nash_conv.png")


def test_library_errors_are_one_line_with_exit_2(capsys):
    assert main(["solve", "no_such_game"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("marljax solve: error: unknown game 'no_such_game'")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_debug_flag_shows_the_traceback():
    import pytest

    with pytest.raises(ValueError, match="unknown game 'no_such_game'"):
        main(["--debug", "solve", "no_such_game"])


def test_ctrl_c_is_one_line_with_exit_130(capsys, monkeypatch):
    from marljax.commands import envs

    def interrupted(args):
        raise KeyboardInterrupt("run the same command again to resume")

    monkeypatch.setattr(envs, "run", interrupted)
    assert main(["envs"]) == 130
    err = capsys.readouterr().err
    assert err == "marljax envs: interrupted: run the same command again to resume\n"


def test_long_messages_are_cut_to_one_line():
    from marljax.cli import MAX_MESSAGE, one_line

    text = one_line(ValueError("tensorstore said:\n" + "x " * 5000))
    assert "\n" not in text and len(text) <= MAX_MESSAGE and text.startswith("tensorstore said: x x")


def test_envs_verbose_lists_options_and_metrics(capsys):
    assert main(["envs", "--family", "mpe", "--verbose"]) == 0
    out = capsys.readouterr().out
    assert "num_agents=3" in out and "collisions (sum)" in out and "catches (sum)" in out


def test_unknown_env_is_one_readable_line(capsys):
    assert main(["train", "ippo", "bogus/X-v0", "--total-steps", "10"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("marljax train: error: unknown env 'bogus/X-v0'. Known envs: ")
    assert "mpe/SimpleSpread-v0" in err and err.count("\n") == 1


def test_psro_env_kwargs_need_the_ppo_oracle(capsys):
    assert main(["psro", "stag_hunt", "--env-kwargs", '{"players": 2}']) == 2
    err = capsys.readouterr().err
    assert err.startswith("marljax psro: error: --env-kwargs") and err.rstrip().endswith("it needs --oracle ppo")
