"""PPO run folders: exact and crash-safe resume, evaluation (other env kwargs, JSON, GIF), CLI.

One uninterrupted run (the ``full_run`` fixture) is the reference every interrupted run is compared
with, row for row. Runs of the same set-up in this process reuse its compiled functions.
"""

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from marljax import cli, runs
from marljax.checkpoint import CorruptCheckpoint

ENV = "mpe/SimpleSpread-v0"
UPDATES = 24
RUN = dict(
    total_steps=4 * 16 * UPDATES,
    seeds=2,
    num_envs=4,
    num_steps=16,
    num_minibatches=2,
    hidden_size=16,
    checkpoint_every=1,
    progress=False,
)
# The same set-up as flags of `marljax train ippo`.
FLAGS = [
    "--total-steps", str(RUN["total_steps"]), "--seeds", "2", "--num-envs", "4", "--num-steps", "16",
    "--num-minibatches", "2", "--hidden-size", "16", "--checkpoint-every", "1", "--no-progress",
]  # fmt: skip


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "full"
    summary = runs.train("ippo", ENV, out, **RUN)
    return out, summary


def _steps(run_dir) -> list[str]:
    return sorted(p.name for p in (run_dir / "checkpoints").iterdir())


def test_full_run_folder(full_run):
    out, summary = full_run
    assert summary["finished"] and summary["updates"] == UPDATES and summary["env_steps"] == 64 * UPDATES
    rows = runs.read_metrics(out)
    assert [(r["update"], r["seed"]) for r in rows] == [(u, s) for u in range(UPDATES) for s in range(2)]
    assert [r["env_steps"] for r in rows[::2]] == [64.0 * (u + 1) for u in range(UPDATES)]
    header = (out / "metrics.csv").read_text().splitlines()[0].split(",")
    # Every scalar PPO metric and every SimpleSpread metric gets a column.
    assert {"loss", "actor_loss", "value_loss", "entropy", "approx_kl", "value"} <= set(header)
    assert {"metric_collisions", "metric_occupied_landmarks", "metric_landmark_distance"} <= set(header)
    assert all(r["return"] == pytest.approx(np.mean([r[f"return_agent_{i}"] for i in range(3)])) for r in rows)
    assert len({r["loss"] for r in rows}) == len(rows)  # losses move every update
    assert summary["final_return"] == np.mean([r["return"] for r in rows[-2:]])
    assert _steps(out) == [f"step_{UPDATES - 1}", f"step_{UPDATES}"]  # orbax keeps the latest two
    from PIL import Image

    image = np.asarray(Image.open(out / "learning_curve.png").convert("RGB")).astype(int)
    assert 400 < image.shape[1] < 900 and 250 < image.shape[0] < 600
    assert (np.abs(image - [0x1F, 0x77, 0xB4]).sum(-1) < 40).sum() > 100  # the curve is drawn


def test_resume_is_exact_and_refuses_another_set_up(full_run, tmp_path):
    out, _ = full_run
    part = tmp_path / "split"
    first = runs.train("ippo", ENV, part, **{**RUN, "stop_after": 5})
    assert not first["finished"] and first["updates"] == 5 and _steps(part) == ["step_4", "step_5"]
    assert len(runs.read_metrics(part)) == 5 * 2
    assert runs.train("ippo", ENV, part, **RUN)["finished"]  # resumes at update 5
    assert (part / "metrics.csv").read_text() == (out / "metrics.csv").read_text()
    with pytest.raises(ValueError, match="another set-up"):
        runs.train("mappo", ENV, part, **RUN)


def test_resume_after_a_kill_between_rows_and_checkpoint(full_run, tmp_path):
    """The state a kill during a save leaves: the segment's rows appended (the last one cut short)
    and orbax's temporary folder, but no committed checkpoint. Today's code failed on both."""
    out, _ = full_run
    part = tmp_path / "killed"
    runs.train("ippo", ENV, part, **{**RUN, "stop_after": 3})
    full_lines = (out / "metrics.csv").read_text().splitlines(keepends=True)
    with open(part / "metrics.csv", "a") as f:
        f.write(full_lines[1 + 3 * 2])  # update 3, seed 0: its checkpoint never committed
        f.write(full_lines[2 + 3 * 2][:25])  # update 3, seed 1, cut short
    unfinished = part / "checkpoints" / "step_4.orbax-checkpoint-tmp"
    (unfinished / "default").mkdir(parents=True)
    (unfinished / "default" / "manifest.ocdbt").write_bytes(b"half")
    assert runs.train("ippo", ENV, part, **RUN)["finished"]
    assert (part / "metrics.csv").read_text() == (out / "metrics.csv").read_text()
    assert not unfinished.exists() and _steps(part) == [f"step_{UPDATES - 1}", f"step_{UPDATES}"]


def test_ctrl_c_stops_cleanly_and_says_how_to_resume(full_run, tmp_path, monkeypatch, capsys):
    out, _ = full_run
    part = tmp_path / "interrupted"
    append, calls = runs._append_rows, []

    def interrupt_third_segment(path, rows):
        calls.append(rows[0]["update"])
        if len(calls) == 3:
            raise KeyboardInterrupt
        append(path, rows)

    monkeypatch.setattr(runs, "_append_rows", interrupt_third_segment)
    with pytest.raises(runs.RunInterrupted, match=rf"keeps 2/{UPDATES} updates .*run the same command again to resume"):
        runs.train("ippo", ENV, part, **RUN)
    monkeypatch.setattr(runs, "_append_rows", append)
    assert _steps(part) == ["step_1", "step_2"] and len(runs.read_metrics(part)) == 2 * 2
    assert runs.train("ippo", ENV, part, **RUN)["finished"]
    assert (part / "metrics.csv").read_text() == (out / "metrics.csv").read_text()


def test_corrupt_checkpoint_is_one_clear_line(full_run, tmp_path, capsys):
    out, _ = full_run
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    latest = broken / "checkpoints" / f"step_{UPDATES}"
    for path in latest.rglob("*"):
        if path.is_file() and path.parent.name == "d":  # the array data files
            path.write_bytes(b"garbage")
    for call in (lambda: runs.evaluate(broken, episodes=2), lambda: runs.train("ippo", ENV, broken, **RUN)):
        with pytest.raises(CorruptCheckpoint) as err:
            call()
        message = str(err.value)
        assert str(latest) in message and f"to resume from step {UPDATES - 1}" in message
        assert "\n" not in message and len(message) < 400
    assert cli.main(["eval", str(broken), "--episodes", "2"]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
    # Following the advice works: without the damaged step, the previous one is used.
    shutil.rmtree(latest)
    assert runs.evaluate(broken, episodes=2)["episodes"] == 2


@pytest.mark.parametrize(
    "env_kwargs, message",
    [('{"bogus": 1}', "bogus"), ("[1, 2]", "must be a JSON object"), ("{num_agents: 4", "must be a JSON object")],
)
def test_bad_env_kwargs_are_one_line(tmp_path, capsys, env_kwargs, message):
    out = tmp_path / "never"
    assert cli.main(["train", "ippo", ENV, "--env-kwargs", env_kwargs, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.strip().count("\n") == 0 and "Traceback" not in err
    assert not out.exists()
    with pytest.raises(ValueError, match="dict of env parameters"):
        runs.train("ippo", ENV, out, env_kwargs=[1, 2], **RUN)


def test_evaluate_render_and_other_env_kwargs(full_run, tmp_path):
    out, _ = full_run
    gif = tmp_path / "match.gif"
    result = runs.evaluate(out, episodes=8, render=gif)
    again = runs.evaluate(out, episodes=8)
    assert result["mean_return"] == again["mean_return"]  # same key, same episodes
    assert len(result["return_per_agent"]) == 3 and len(result["return_per_seed"]) == 2
    assert result["mean_return"] == pytest.approx(np.mean(result["return_per_seed"]))
    assert -60.0 < result["mean_return"] < 0.0  # 25 steps of negative distance rewards
    assert set(result["metrics"]) == {"collisions", "occupied_landmarks", "landmark_distance"}
    assert 0.0 <= result["metrics"]["occupied_landmarks"] <= 3.0 and result["metrics"]["collisions"] >= 0.0
    from PIL import Image

    assert Image.open(gif).n_frames == 26
    # 4 agents and 1 landmark give the same observation size (4 + 2 * 1 + 4 * 3 = 18) as 3 and 3.
    other = runs.evaluate(out, episodes=4, env_kwargs={"num_agents": 4, "num_landmarks": 1})
    assert len(other["return_per_agent"]) == 4 and other["env_kwargs"] == {"num_agents": 4, "num_landmarks": 1}
    with pytest.raises(ValueError, match=r"does not fit .* is \[18, 16\], the new env needs \[26, 16\]"):
        runs.evaluate(out, episodes=4, env_kwargs={"num_agents": 5})


def test_cli_train_and_eval(tmp_path, capsys):
    out = tmp_path / "cli"
    args = ["train", "mappo", "mpe/SimpleTag-v0", "--total-steps", "128", "--num-envs", "4", "--num-steps", "16"]
    args += ["--num-minibatches", "2", "--hidden-size", "8", "--out", str(out), "--no-progress"]
    assert cli.main(args + ["--env-kwargs", json.dumps({"prey": "scripted"})]) == 0
    summary_line = capsys.readouterr().out
    rows = runs.read_metrics(out)
    final = np.mean([r["return"] for r in rows if r["update"] == 1])
    assert f"finished: 128 env steps per seed, final mean return per agent {final:.3f}" in summary_line
    record = json.loads((out / "config.json").read_text())
    assert record["config"]["centralised_critic"] is True and record["env_kwargs"] == {"prey": "scripted"}
    assert "metric_catches" in rows[0]
    assert cli.main(["eval", str(out), "--episodes", "4", "--json", "--seed", "3"]) == 0
    line = capsys.readouterr().out
    assert line.count("\n") == 1
    result = json.loads(line)
    assert result == json.loads((out / "eval.json").read_text())
    assert result == json.loads(json.dumps(runs.evaluate(out, episodes=4, seed=3, save=False)))
    assert set(result["metrics"]) == {"catches"} and result["seeds"] == 1 and result["episodes"] == 4
    assert cli.main(["eval", str(out), "--episodes", "4", "--seed", "3"]) == 0
    assert f"mean return per agent {result['mean_return']:.3f}" in capsys.readouterr().out
    assert cli.main(["train", "ippo", "mpe/SimpleTag-v0", "--num-minibatches", "7", "--out", str(tmp_path / "x")]) == 2
    assert "does not divide" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()  # rejected before any folder or compilation


def _latest_committed(run_dir) -> int:
    folder = run_dir / "checkpoints"
    steps = (
        [int(m.group(1)) for p in folder.iterdir() if (m := re.fullmatch(r"step_(\d+)", p.name))]
        if folder.exists()
        else []
    )
    return max(steps, default=0)


def test_kills_at_random_moments_resume_to_the_uninterrupted_metrics(full_run, tmp_path):
    """`marljax train` stopped three times at seeded random moments (1-3 new checkpoints, then a
    random delay): SIGKILL, Ctrl-C (SIGINT), SIGKILL; then run to the end."""
    out, _ = full_run
    run_dir = tmp_path / "killed"
    command = [sys.executable, "-m", "marljax.cli", "train", "ippo", ENV, "--out", str(run_dir), *FLAGS]
    # The first process compiles; the others load its programs from a persistent cache.
    env = dict(
        os.environ,
        JAX_COMPILATION_CACHE_DIR=str(tmp_path / "jax_cache"),
        JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
        JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="-1",
    )
    rng = random.Random(12)
    for stop in (signal.SIGKILL, signal.SIGINT, signal.SIGKILL):
        target = _latest_committed(run_dir) + rng.randint(1, 3)
        process = subprocess.Popen(
            command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 180
        while _latest_committed(run_dir) < target and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.05))  # lands while it appends rows, saves, or trains
        process.send_signal(stop)
        _, err = process.communicate(timeout=60)
        if stop == signal.SIGKILL:
            assert process.returncode == -signal.SIGKILL, f"the run ended before it was killed: {err[-2000:]}"
        else:  # one line saying how to resume, exit 130
            assert process.returncode == 130, err[-2000:]
            assert err.count("\n") == 1 and "interrupted" in err and "run the same command again to resume" in err
    assert 0 < _latest_committed(run_dir) < UPDATES
    final = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert final.returncode == 0, final.stderr[-2000:]
    assert (run_dir / "metrics.csv").read_text() == (out / "metrics.csv").read_text()
    assert _steps(run_dir) == [f"step_{UPDATES - 1}", f"step_{UPDATES}"]
