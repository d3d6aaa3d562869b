"""``marljax explain`` on a tiny IPPO run folder: values, shapley.json, plots and errors."""

import json

import numpy as np
import pytest

from marljax import cli, runs
from marljax.solvers import shapley

WORTH = [1.0, 2.0, 3.0]
HORIZON = 4
# Player i earns WORTH[i] each round it works (action 1): an additive game, so with noop (idle)
# replacement each agent's Shapley value is WORTH[i] * HORIZON * P(policy works).
PAYOFFS = (np.asarray(WORTH)[:, None, None, None] * np.indices((2, 2, 2))).tolist()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("explain") / "run"
    runs.train(
        "ippo",
        "matrix/MatrixGame-v0",
        out,
        total_steps=2 * 8 * 4,
        env_kwargs={"payoffs": PAYOFFS, "horizon": HORIZON},
        checkpoint_every=1,
        progress=False,
        num_envs=8,
        num_steps=4,
        num_minibatches=1,
        update_epochs=1,
        hidden_size=8,
    )
    return out


def test_explain_writes_values_json_and_plots(run_dir, capsys, assert_drawn):
    code = cli.main(["explain", str(run_dir), "--episodes", "64", "--over-training", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    saved = json.loads((run_dir / "shapley.json").read_text())
    assert saved == report and report["method"] == "exact" and report["replace"] == "noop"
    values, stderr = np.array(report["values"]), np.array(report["stderr"])
    # Efficiency, and v(none) = 0: idle agents earn nothing.
    assert report["empty"] == 0.0 and abs(values.sum() - report["grand"]) < 1e-9
    # The barely trained policy works about half the time: value / worth ~ HORIZON / 2 for every agent.
    share = values / np.asarray(WORTH) / HORIZON
    assert np.all(np.abs(share - 0.5) < 0.15), share
    assert np.all(stderr > 0)
    assert [h["step"] for h in report["training"]] == [1, 2]  # the two kept checkpoints
    assert report["training"][-1]["values"] == report["values"]  # the latest checkpoint is the one explained
    assert_drawn(run_dir / "shapley.png")
    assert_drawn(run_dir / "shapley_training.png")


def test_explain_permutation_matches_the_library(run_dir, capsys):
    code = cli.main(["explain", str(run_dir), "--method", "permutation", "--permutations", "8", "--episodes", "64"])
    assert code == 0
    out = capsys.readouterr().out
    assert "permutation values (noop replacement" in out and "agent 2:" in out
    library = shapley.explain_run(run_dir, method="permutation", num_permutations=8, num_episodes=64, save=False)
    saved = json.loads((run_dir / "shapley.json").read_text())
    np.testing.assert_allclose(saved["values"], library["values"])
    exact = shapley.explain_run(run_dir, num_episodes=64, save=False)
    # Additive game: every order gives each agent the same contribution, up to episode noise.
    assert np.all(np.abs(np.array(library["values"]) - exact["values"]) < 4 * np.array(library["stderr"]) + 1e-6)


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--method", "shap"], "unknown method 'shap'"),
        (["--replace", "zero"], "unknown replacement 'zero'"),
        (["--players", "a,b"], "--players must be comma-separated"),
        (["--players", "0,7"], "players must be distinct agents"),
        (["--method", "permutation", "--permutations", "5"], "must be even"),
    ],
)
def test_explain_errors_are_one_line_exit_2(run_dir, capsys, flags, message):
    assert cli.main(["explain", str(run_dir), *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_explain_rejects_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert cli.main(["explain", str(tmp_path)]) == 2
    assert "not a run folder" in capsys.readouterr().err
