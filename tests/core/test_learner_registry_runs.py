"""A learner registered from outside the library trains and evaluates through runs and the CLI.

The toy learner is REINFORCE on a stationary policy (one logit vector per agent) in a repeated
matrix game: its config dataclass, its own parameters and metrics (including an ``env_metrics``
entry) are nothing like PPO's, so everything runs.py writes must come from the registry and the
learner's own outputs.
"""

import dataclasses
import json
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import struct

from marljax import cli, runs
from marljax.checkpoint import Checkpoints
from marljax.evaluation import play_episodes
from marljax.solvers.learners import registry

ENV = "matrix/PrisonersDilemma-v0"  # actions (cooperate, defect); horizon 10


@dataclasses.dataclass(frozen=True)
class ToyConfig:
    total_steps: int = 1000
    num_envs: int = 4
    episode_steps: int = 10
    lr: float = 0.5
    entropy_bonus: bool = False

    @property
    def num_updates(self) -> int:
        return self.total_steps // (self.num_envs * self.episode_steps)


class ToyLearner(NamedTuple):
    config: ToyConfig
    env: object
    init: Callable
    update: Callable
    run: Callable
    act: Callable
    initial_carry: Callable


@struct.dataclass
class ToyRunner:
    params: dict
    key: jax.Array
    update: jax.Array


def make_toy_learner(config: ToyConfig, env, progress=None) -> ToyLearner:
    if config.lr <= 0:
        raise ValueError(f"lr must be positive; got {config.lr}")
    n, a = env.num_agents, env.num_actions

    def act(params, carry, observation, reset, key, greedy=False):
        logits = jnp.where(observation.action_mask, params["logits"], -1e9)  # [E, N, A]
        action = jnp.argmax(logits, -1) if greedy else jax.random.categorical(key, logits)
        return carry, action

    def policy(params, observation, first, key):
        return act(params, params, observation, first, key)

    def tally(action, timestep):
        return jax.nn.one_hot(action, a)  # action counts [E, N, A]

    def init(key):
        return ToyRunner(params={"logits": jnp.zeros((n, a))}, key=key, update=jnp.int32(0))

    def update(runner):
        key, k_play = jax.random.split(runner.key)
        batch = play_episodes(
            env, policy, k_play, config.num_envs, initial_carry=runner.params, max_steps=config.episode_steps,
            tally=tally,
        )  # fmt: skip
        probs = jax.nn.softmax(runner.params["logits"])  # [N, A]
        advantage = batch.returns - batch.returns.mean(0)  # [E, N]
        # REINFORCE for a stationary policy: sum_t grad log pi(a_t) = counts - T * pi.
        grad = jnp.mean(advantage[..., None] * (batch.tally - config.episode_steps * probs), 0)
        entropy = -jnp.sum(probs * jnp.log(probs), -1).mean()
        params = {"logits": runner.params["logits"] + config.lr * grad / config.episode_steps}
        runner = ToyRunner(params=params, key=key, update=runner.update + 1)
        metrics = {
            "episode_return": batch.returns.mean(0),
            "env_steps": runner.update * config.num_envs * config.episode_steps,
            "entropy": entropy,
            "mean_logit": params["logits"].mean(),
            "grad_per_agent": grad.sum(-1),  # [N]: not a scalar, so not a column
            "env_metrics": {"cooperation": batch.tally[..., 0].sum() / batch.tally.sum()},
        }
        if progress is not None:
            jax.debug.callback(progress, runner.update)
        return runner, metrics

    def run(runner, num_updates):
        return jax.lax.scan(lambda r, _: update(r), runner, None, num_updates)

    return ToyLearner(config, env, init, update, run, act, lambda num_envs: jnp.zeros((num_envs,)))


@pytest.fixture(scope="module")
def toy():
    spec = registry.register_learner("toy", ToyConfig, make_toy_learner, "toy REINFORCE on a stationary policy")
    yield spec
    registry.LEARNERS.pop("toy", None)


SETUP = dict(total_steps=4 * 10 * 8, seeds=2, checkpoint_every=3, progress=False, lr=2.0)


@pytest.fixture(scope="module")
def toy_run(toy, tmp_path_factory):
    out = tmp_path_factory.mktemp("toy") / "run"
    return out, runs.train("toy", ENV, out, **SETUP)


def test_toy_learner_trains_into_a_run_folder(toy_run, toy):
    out, summary = toy_run
    assert summary["finished"] and summary["updates"] == 8 and summary["env_steps"] == 320
    record = json.loads((out / "config.json").read_text())
    assert record["algo"] == "toy" and record["config"]["lr"] == 2.0 and record["config"]["episode_steps"] == 10
    header = (out / "metrics.csv").read_text().splitlines()[0].split(",")
    assert header == [
        "update", "seed", "env_steps", "return", "return_agent_0", "return_agent_1",
        "entropy", "mean_logit", "metric_cooperation",
    ]  # fmt: skip
    # The CSV holds exactly what the learner's run returns (same keys, full precision).
    learner = toy.make_learner(toy.config(total_steps=320, lr=2.0), runs.make_env(ENV))
    keys = jax.random.split(jax.random.PRNGKey(0), 2)
    _, metrics = jax.vmap(lambda k: learner.run(learner.init(k), 8))(keys)
    rows = runs.read_metrics(out)
    assert [(r["update"], r["seed"]) for r in rows] == [(u, s) for u in range(8) for s in range(2)]
    for r in rows:
        u, s = int(r["update"]), int(r["seed"])
        assert r["entropy"] == float(metrics["entropy"][s, u])
        assert r["metric_cooperation"] == float(metrics["env_metrics"]["cooperation"][s, u])
        assert r["return_agent_1"] == float(metrics["episode_return"][s, u, 1])
        assert r["env_steps"] == 40 * (u + 1)
    assert summary["final_return"] == np.mean([r["return"] for r in rows if r["update"] == 7])
    # Learning: defection dominates, so cooperation falls and entropy with it.
    assert rows[-1]["metric_cooperation"] < rows[0]["metric_cooperation"]
    _assert_curve_drawn(out / "learning_curve.png")


def _assert_curve_drawn(path):
    from PIL import Image

    image = np.asarray(Image.open(path).convert("RGB")).astype(int)
    height, width, _ = image.shape
    assert 400 < width < 900 and 250 < height < 600
    line = np.abs(image - np.array([0x1F, 0x77, 0xB4])).sum(-1) < 40  # matplotlib's first line colour
    assert line.sum() > 100, "no learning curve drawn"


def test_toy_learner_evaluates(toy_run):
    out, _ = toy_run
    result = runs.evaluate(out, episodes=6, greedy=True)
    assert result["episodes"] == 6 and result["seeds"] == 2 and len(result["return_per_agent"]) == 2
    # Greedy play after learning: both defect every round, 10 rounds of punishment payoff 1.
    assert result["mean_return"] == 10.0 and result["return_per_seed"] == [10.0, 10.0]
    assert result["std_return"] == 0.0 and result["mean_length"] == 10.0 and result["metrics"] == {}


def test_toy_learner_through_the_cli(toy, tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    assert "toy REINFORCE on a stationary policy" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["train", "toy", "--help"])
    flags = capsys.readouterr().out
    assert "--episode-steps" in flags and "--entropy-bonus" in flags and "--clip-eps" not in flags
    out = tmp_path / "cli"
    args = ["train", "toy", ENV, "--total-steps", "160", "--num-envs", "2", "--episode-steps", "10"]
    keep = ["--checkpoint-every", "1", "--keep-checkpoints", "3"]
    assert cli.main(args + ["--lr", "0.25", "--entropy-bonus", "true", "--out", str(out), "--no-progress"] + keep) == 0
    assert "finished: 160 env steps per seed" in capsys.readouterr().out
    with Checkpoints(out / "checkpoints") as store:
        assert store.steps() == [6, 7, 8]  # a checkpoint per update, the latest three kept
    config = json.loads((out / "config.json").read_text())["config"]
    assert config == {"total_steps": 160, "num_envs": 2, "episode_steps": 10, "lr": 0.25, "entropy_bonus": True}
    assert len(runs.read_metrics(out)) == 8
    assert cli.main(["eval", str(out), "--episodes", "3", "--json"]) == 0
    line = capsys.readouterr().out.strip()
    assert "\n" not in line and json.loads(line) == json.loads((out / "eval.json").read_text())
    assert json.loads(line)["episodes"] == 3 and len(json.loads(line)["return_per_agent"]) == 2
    # The learner's own validation reaches the user as one line, before any folder is written.
    assert cli.main(["train", "toy", ENV, "--lr", "-1", "--out", str(tmp_path / "bad")]) == 2
    assert "lr must be positive" in capsys.readouterr().err and not (tmp_path / "bad").exists()
