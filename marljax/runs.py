"""Run folders for the learners: train with a progress bar, checkpoint, resume, evaluate, render.

    from marljax import runs
    runs.train("ippo", "mpe/SimpleSpread-v0", "runs/spread", total_steps=1e6, seeds=4)
    runs.evaluate("runs/spread", episodes=100, render="match.gif")

A run folder holds ``config.json`` (algorithm, env, env kwargs, seeds, PPO config),
``metrics.csv`` (one row per update and seed), ``learning_curve.png`` and
``checkpoints/step_<update>`` (orbax; the whole runner state of every seed). Training runs in
segments of ``checkpoint_every`` updates with a checkpoint after each; calling :func:`train`
again on the folder resumes from the last checkpoint, and because segments start at the same
updates either way, the resumed run writes exactly the metrics of an uninterrupted one.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import pathlib
import shutil
from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np

import marljax
from marljax import checkpoint

__all__ = ["ALGORITHMS", "train", "load", "evaluate", "read_metrics"]

ALGORITHMS = ("ippo", "mappo")
LOSS_COLUMNS = ("loss", "actor_loss", "value_loss", "entropy", "approx_kl")


def _module(algo: str):
    from marljax.solvers.learners.registry import get_learner

    return get_learner(algo)


def _config_from(record: dict):
    from marljax.solvers.learners.ppo import PPOConfig

    fields = dict(record["config"])
    if fields.get("trained_agents") is not None:
        fields["trained_agents"] = tuple(fields["trained_agents"])
    return PPOConfig(**fields)


def _write_config(out: pathlib.Path, record: dict) -> dict:
    path = out / "config.json"
    if path.exists():
        stored = json.loads(path.read_text())
        if stored != record:
            changed = sorted(k for k in record if stored.get(k) != record[k])
            raise ValueError(f"{out} holds a run with another set-up (differs in {changed}); pick another folder")
        return stored
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2))
    return record


def _learner(record: dict, progress=None):
    env = marljax.make(record["env"], **record["env_kwargs"])
    return _module(record["algo"]).make_learner(_config_from(record), env, progress=progress)


def _seed_keys(record: dict):
    return jax.random.split(jax.random.PRNGKey(record["seed"]), record["seeds"])


def _metric_rows(metrics: dict, num_agents: int, first_update: int):
    """One CSV row per (update, seed) from metrics ``[seeds, updates, ...]``, full precision."""
    host = jax.tree_util.tree_map(np.asarray, metrics)
    seeds, updates = host["env_steps"].shape
    for u in range(updates):
        for s in range(seeds):
            returns = host["episode_return"][s, u]
            row = {
                "update": first_update + u,
                "seed": s,
                "env_steps": int(host["env_steps"][s, u]),
                "return": repr(float(returns.mean())),
            }
            row.update({f"return_agent_{i}": repr(float(returns[i])) for i in range(num_agents)})
            row.update({k: repr(float(host[k][s, u])) for k in LOSS_COLUMNS})
            yield row


def read_metrics(run_dir) -> list[dict]:
    """The rows of a run's ``metrics.csv`` (numbers as floats)."""
    with open(pathlib.Path(run_dir) / "metrics.csv") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def _plot(out: pathlib.Path, record: dict) -> pathlib.Path:
    from marljax.viz import plot_curves

    rows = read_metrics(out)
    seeds = record["seeds"]
    steps = np.array([r["env_steps"] for r in rows if r["seed"] == 0])
    returns = np.array([r["return"] for r in rows]).reshape(-1, seeds).T
    title = f"{record['algo'].upper()} on {record['env']} ({seeds} seed{'s' * (seeds > 1)})"
    return plot_curves(
        {record["algo"].upper(): (steps, returns)},
        out / "learning_curve.png",
        "env steps",
        "mean episode return per agent",
        title,
    )


def train(
    algo: str,
    env: str,
    out_dir,
    total_steps: float = 1e6,
    seeds: int = 1,
    seed: int = 0,
    env_kwargs: Optional[dict] = None,
    checkpoint_every: Optional[int] = None,
    stop_after: Optional[int] = None,
    progress: bool = True,
    **config,
) -> dict:
    """Train (or resume) ``seeds`` seeds of ``algo`` on ``env`` into the run folder ``out_dir``.

    ``config`` overrides :class:`~marljax.solvers.learners.ppo.PPOConfig` fields; ``checkpoint_every``
    (updates, default a tenth of the run) sets the segment length; ``stop_after`` stops once
    that many updates are done (to split a run over sessions). Returns a summary dict.
    """
    from marljax.solvers.learners.ppo import PPOConfig, validate

    if int(seeds) < 1:
        raise ValueError(f"seeds must be positive; got {seeds}")
    # The algorithm decides the critic's input (ippo: own observation, mappo: global state).
    ppo_config = PPOConfig(total_steps=int(total_steps), **{**config, "centralised_critic": algo == "mappo"})
    record = {
        "algo": algo,
        "env": env,
        "env_kwargs": dict(env_kwargs or {}),
        "seeds": int(seeds),
        "seed": int(seed),
        "config": dataclasses.asdict(ppo_config),
    }
    _module(algo)
    validate(ppo_config, marljax.make(env, **record["env_kwargs"]))  # clear errors before any folder or compile
    out = pathlib.Path(out_dir)
    record = _write_config(out, record)
    num_updates = ppo_config.num_updates
    segment = int(checkpoint_every or max(1, num_updates // 10))
    if segment < 1:
        raise ValueError(f"checkpoint_every must be positive; got {checkpoint_every}")

    bar = _progress_bar(num_updates, f"{algo} {env}") if progress else None
    learner = _learner(record, progress=bar.advance_to if bar else None)
    init = jax.jit(jax.vmap(learner.init))
    run = jax.jit(jax.vmap(learner.run, in_axes=(0, None)), static_argnums=1)
    keys = _seed_keys(record)
    last = checkpoint.latest(out / "checkpoints")
    if last is None:
        runner = init(keys)
        (out / "metrics.csv").unlink(missing_ok=True)
    else:
        runner = checkpoint.restore(last, jax.eval_shape(init, keys))
    done = int(runner.update[0])
    if bar:
        bar.advance_to(done)
    stop = num_updates if stop_after is None else min(num_updates, int(stop_after))
    n = learner.env.num_agents
    while done < stop:
        # Segments start at multiples of `segment`, so a resumed run compiles and runs the same ones.
        length = min(segment - done % segment, num_updates - done)
        runner, metrics = run(runner, length)
        _append_rows(out / "metrics.csv", _metric_rows(metrics, n, done))
        done += length
        checkpoint.save(out / "checkpoints" / f"step_{done}", runner)
        for old in (out / "checkpoints").glob("step_*"):
            if old.name != f"step_{done}":
                shutil.rmtree(old)
    if bar:
        bar.close()
    rows = read_metrics(out) if (out / "metrics.csv").exists() else []
    finished = done >= num_updates
    if finished and rows:
        _plot(out, record)
    final = [r["return"] for r in rows if r["update"] == done - 1]
    return {
        "run_dir": str(out),
        "updates": done,
        "num_updates": num_updates,
        "finished": finished,
        "env_steps": done * ppo_config.steps_per_update,
        "final_return": float(np.mean(final)) if final else None,
    }


def _append_rows(path: pathlib.Path, rows) -> None:
    rows = list(rows)
    fresh = not path.exists()
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        if fresh:
            writer.writeheader()
        writer.writerows(rows)


class _progress_bar:
    """A tqdm bar that jitted code moves with ``jax.debug.callback`` (idempotent under vmap:
    every seed reports the same update number)."""

    def __init__(self, total: int, desc: str):
        from tqdm import tqdm

        self._bar = tqdm(total=total, desc=desc, unit="update", dynamic_ncols=True)

    def advance_to(self, update) -> None:
        update = int(np.max(np.asarray(update)))
        if update > self._bar.n:
            self._bar.update(update - self._bar.n)

    def close(self) -> None:
        self._bar.close()


def load(run_dir):
    """``(env, learner, params)`` of a run folder's last checkpoint; ``params`` have a leading
    seed axis."""
    out = pathlib.Path(run_dir)
    if not (out / "config.json").exists():
        raise ValueError(f"{out} is not a run folder (no config.json); train one with `marljax train`")
    record = json.loads((out / "config.json").read_text())
    learner = _learner(record)
    last = checkpoint.latest(out / "checkpoints")
    if last is None:
        raise ValueError(f"{out} has no checkpoint yet")
    keys = _seed_keys(record)
    runner = checkpoint.restore(last, jax.eval_shape(jax.vmap(learner.init), keys))
    return learner.env, learner, runner.params


def evaluate(
    run_dir, episodes: int = 100, render=None, seed: int = 0, greedy: bool = False, policy_seed: int = 0
) -> dict:
    """Play ``episodes`` fresh episodes with every seed's trained policy; report returns and
    optionally write a GIF of one episode played by seed ``policy_seed``'s policy."""
    if int(episodes) < 1:
        raise ValueError(f"episodes must be positive; got {episodes}")
    env, learner, params = load(run_dir)
    num_seeds = jax.tree_util.tree_leaves(params)[0].shape[0]
    if not 0 <= policy_seed < num_seeds:
        raise ValueError(f"policy_seed must be in 0..{num_seeds - 1}; got {policy_seed}")
    play = jax.jit(lambda p, k: _play(env, learner, p, k, int(episodes), greedy))
    keys = jax.random.split(jax.random.PRNGKey(seed), num_seeds)
    returns, states = jax.vmap(play)(params, keys)  # [seeds, episodes, N]
    returns = np.asarray(returns)
    result = {
        "run_dir": str(run_dir),
        "episodes": int(episodes),
        "seeds": num_seeds,
        "mean_return": float(returns.mean()),
        "return_per_agent": returns.mean(axis=(0, 1)).tolist(),
        "return_per_seed": returns.mean(axis=(1, 2)).tolist(),
        "std_return": float(returns.mean(-1).std()),
    }
    if render is not None:
        episode = [jax.tree_util.tree_map(lambda x: x[policy_seed, t, 0], states) for t in range(env.max_steps + 1)]
        from marljax.viz import animate

        result["render"] = str(animate(env, episode, render))
    return result


def _play(env, learner, params, key, episodes: int, greedy: bool):
    """Run ``episodes`` envs for one episode each (no auto-reset): per-agent returns
    ``[episodes, N]`` and the visited states ``[T + 1, episodes, ...]``."""
    k_reset, k_run = jax.random.split(key)
    state, ts = jax.vmap(env.reset)(jax.random.split(k_reset, episodes))
    carry = learner.initial_carry(episodes)["actor"]
    reset = jnp.ones((episodes, env.num_agents), bool)

    def step(loop, k):
        state, ts, carry, reset, total, alive = loop
        carry, action = learner.act(params, carry, ts.observation, reset, k, greedy)
        next_state, next_ts = jax.vmap(env.step)(state, action)
        total = total + next_ts.reward * alive[:, None]
        alive = alive & ~next_ts.last()
        return (next_state, next_ts, carry, jnp.zeros_like(reset), total, alive), next_state

    init = (state, ts, carry, reset, jnp.zeros((episodes, env.num_agents)), jnp.ones(episodes, bool))
    (_, _, _, _, total, _), visited = jax.lax.scan(step, init, jax.random.split(k_run, env.max_steps))
    states = jax.tree_util.tree_map(lambda first, rest: jnp.concatenate([first[None], rest]), state, visited)
    return total, states
