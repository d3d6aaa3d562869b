"""Run folders: exact resume from an orbax checkpoint, evaluation, GIF, CLI."""

import json

import numpy as np
import pytest

from marljax import checkpoint, cli, runs

RUN = dict(
    total_steps=4 * 16 * 5,
    seeds=2,
    num_envs=4,
    num_steps=16,
    num_minibatches=2,
    hidden_size=16,
    checkpoint_every=2,
    progress=False,
)


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "full"
    summary = runs.train("ippo", "mpe/SimpleSpread-v0", out, **RUN)
    return out, summary


def test_resume_from_checkpoint_is_exact(full_run, tmp_path):
    out, summary = full_run
    assert summary["finished"] and summary["updates"] == 5
    part = tmp_path / "split"
    first = runs.train("ippo", "mpe/SimpleSpread-v0", part, stop_after=2, **RUN)
    assert not first["finished"] and first["updates"] == 2
    assert checkpoint.latest(part / "checkpoints").name == "step_2"
    runs.train("ippo", "mpe/SimpleSpread-v0", part, **RUN)  # resumes at update 2
    assert (part / "metrics.csv").read_text() == (out / "metrics.csv").read_text()
    rows = runs.read_metrics(out)
    assert len(rows) == 5 * 2 and len({r["loss"] for r in rows}) > 1
    assert (out / "learning_curve.png").stat().st_size > 0
    # A folder holding another set-up is refused rather than silently mixed.
    with pytest.raises(ValueError, match="another set-up"):
        runs.train("mappo", "mpe/SimpleSpread-v0", part, **RUN)


def test_evaluate_and_render(full_run, tmp_path):
    out, _ = full_run
    gif = tmp_path / "match.gif"
    result = runs.evaluate(out, episodes=8, render=gif)
    again = runs.evaluate(out, episodes=8)
    assert result["mean_return"] == again["mean_return"]  # same key, same episodes
    assert len(result["return_per_agent"]) == 3 and len(result["return_per_seed"]) == 2
    assert -60.0 < result["mean_return"] < 0.0  # 25 steps of negative distance rewards
    from PIL import Image

    assert Image.open(gif).n_frames == 26


def test_cli_train_and_eval(tmp_path, capsys):
    out = tmp_path / "cli"
    code = cli.main(
        [
            "train",
            "mappo",
            "mpe/SimpleTag-v0",
            "--total-steps",
            "128",
            "--num-envs",
            "4",
            "--num-steps",
            "16",
            "--num-minibatches",
            "2",
            "--hidden-size",
            "8",
            "--out",
            str(out),
            "--env-kwargs",
            json.dumps({"prey": "scripted"}),
        ]
    )
    assert code == 0 and "finished" in capsys.readouterr().out
    assert json.loads((out / "config.json").read_text())["config"]["centralised_critic"] is True
    assert cli.main(["eval", str(out), "--episodes", "4"]) == 0
    assert "mean return per agent" in capsys.readouterr().out
    assert cli.main(["train", "ippo", "mpe/SimpleTag-v0", "--num-minibatches", "7", "--out", str(tmp_path / "x")]) == 2
    assert "does not divide" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()  # rejected before any folder or compilation


def test_checkpoint_mismatch_is_reported(full_run, tmp_path):
    out, _ = full_run
    with pytest.raises(checkpoint.CheckpointMismatch):
        checkpoint.restore(checkpoint.latest(out / "checkpoints"), {"a": np.zeros(3)})
