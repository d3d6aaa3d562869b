"""The CLI on JaxMARL envs through the bridge: IPPO trains on agents with different observation
sizes (JaxMARL's MPE simple_tag) and PSRO's RL oracle plays a two-team JaxMARL env (simple_push)."""

import csv
import json

import numpy as np
import pytest

from marljax.cli import main

pytest.importorskip("jaxmarl")


def test_ippo_trains_on_simple_tag_from_the_cli(tmp_path):
    out = tmp_path / "tag"
    argv = ["train", "ippo", "jaxmarl/MPE_simple_tag_v3", "--total-steps", "4096", "--num-envs", "8"]
    argv += ["--num-steps", "64", "--no-progress", "--out", str(out)]
    assert main(argv) == 0
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert len(rows) == 8 and {f"return_agent_{i}" for i in range(4)} <= set(rows[0])
    assert all(np.isfinite(float(r["loss"])) for r in rows)


def test_psro_with_the_rl_oracle_runs_on_a_two_team_jaxmarl_env(tmp_path):
    out = tmp_path / "psro"
    argv = ["psro", "jaxmarl/MPE_simple_push_v3", "--oracle", "ppo", "--iterations", "1", "--ppo-steps", "512"]
    argv += ["--sims-per-entry", "4", "--eval-episodes", "4", "--out", str(out)]
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert np.asarray(summary["team_returns"]).shape == (2,)
