"""Run folders for the registered learners: train with a progress bar, checkpoint, resume, evaluate, render.

    from marljax import runs
    runs.train("ippo", "mpe/SimpleSpread-v0", "runs/spread", total_steps=1e6, seeds=4)
    runs.evaluate("runs/spread", episodes=100, render="match.gif")

Any learner in :mod:`marljax.solvers.learners.registry` runs here, with its own config dataclass
(``**config`` of :func:`train` sets its fields). Runs call ``make_learner(config, env, progress=f)``
(``f`` is ``None`` or a host callback for ``jax.debug.callback(f, update)``) and use the learner's
``init(key)``, ``run(runner, num_updates) -> (runner, metrics)`` with ``metrics["episode_return"]
[.., N]`` and ``metrics["env_steps"]``, ``runner.params``, and for evaluation
``act(params, carry, observation, first, key, greedy) -> (carry, action)`` with
``initial_carry(E)`` (or its ``"actor"`` entry, where the learner keeps a critic's carry beside it).

**Many devices** (``devices=N``, default every device JAX sees): when ``N`` divides the number of
seeds, each device trains its own block of seeds (``shard_map``, no communication; any learner);
otherwise a learner that takes ``mesh=`` splits its env axis over the ``N`` devices (the PPO
learners: ``num_envs`` a multiple of ``N``, gradients averaged over devices). Either way the
metrics equal one device's to float tolerance; the device count is not part of the run's set-up,
so a run may resume on another count.

A run folder holds:

- ``config.json``: learner, env, env kwargs, seeds and the learner's full config;
- ``metrics.csv``: one row per update and seed: ``update, seed, env_steps, return,
  return_agent_<i>``, then every other scalar metric the learner returns (PPO: losses, entropy,
  KL, value) and ``metric_<name>`` for each env metric (e.g. ``metric_collisions``);
- ``checkpoints/step_<update>``: the whole runner state of every seed (orbax, the latest two kept);
- ``learning_curve.png`` once the run is finished, and ``eval.json`` after ``marljax eval``.

**Resuming is exact and crash-safe.** Training runs in segments of ``checkpoint_every`` updates
that start at multiples of it, so a resumed run compiles and runs the same segments as an
uninterrupted one. After each segment its rows are appended to ``metrics.csv`` (and flushed to
disk), then the runner state is committed atomically as one checkpoint. A run killed at any moment
(SIGKILL included) therefore resumes from its last committed checkpoint, and the rows of updates
beyond it are dropped before training goes on: the finished ``metrics.csv`` equals an uninterrupted
run's row for row. Ctrl-C stops with :class:`RunInterrupted` (whose message says how to resume) as
soon as the running segment ends; one that comes during a save lets the save finish first.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import functools
import inspect
import json
import os
import pathlib
import signal
import threading
from typing import Optional

import jax
import numpy as np

import marljax
from marljax.checkpoint import Checkpoints
from marljax.progress import ProgressBar

__all__ = ["train", "load", "evaluate", "read_metrics", "make_env", "device_plan", "RunInterrupted"]


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped :func:`train`; the run folder keeps every committed update and the message
    says how to resume. A ``KeyboardInterrupt``, so a script or notebook stops as it would anyway."""


# ---------------------------------------------------------------------------------------------
# The set-up of a run: learner, env, config.json


def make_env_kwargs(env_kwargs) -> dict:
    """``env_kwargs`` checked to be a dict of env parameters (``None``: no parameters)."""
    if env_kwargs is None:
        return {}
    if not isinstance(env_kwargs, dict):
        raise ValueError(f'env kwargs must be a dict of env parameters, e.g. {{"num_agents": 4}}; got {env_kwargs!r}')
    return dict(env_kwargs)


def make_env(name: str, env_kwargs=None):
    """``marljax.make(name, **env_kwargs)`` with one clear ``ValueError`` for kwargs it cannot take."""
    env_kwargs = make_env_kwargs(env_kwargs)
    try:
        return marljax.make(name, **env_kwargs)
    except TypeError as err:  # unknown keyword or a value of the wrong type
        raise ValueError(f"{name} does not take env kwargs {json.dumps(env_kwargs)}: {err}") from None


def _spec(algo: str):
    from marljax.solvers.learners.registry import get_learner

    return get_learner(algo)


def _config(spec, fields: dict):
    # JSON has no tuples; frozen configs want hashable values.
    return spec.config(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})


def _write_atomically(path: pathlib.Path, text: str) -> None:
    """Replace ``path`` by ``text`` so a kill leaves the old file or the new one, never half of one."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _write_config(out: pathlib.Path, record: dict) -> dict:
    path = out / "config.json"
    if path.exists():
        stored = json.loads(path.read_text())
        if stored != record:
            changed = sorted(k for k in record if stored.get(k) != record[k])
            raise ValueError(f"{out} holds a run with another set-up (differs in {changed}); pick another folder")
        return stored
    out.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, json.dumps(record, indent=2))
    return record


def _read_record(run_dir) -> dict:
    out = pathlib.Path(run_dir)
    if not (out / "config.json").exists():
        raise ValueError(f"{out} is not a run folder (no config.json); train one with `marljax train`")
    return json.loads((out / "config.json").read_text())


def _seed_keys(record: dict):
    return jax.random.split(jax.random.PRNGKey(record["seed"]), record["seeds"])


def _canonical(record: dict) -> str:
    """The record as config.json holds it (tuples become lists), as a hashable key."""
    try:
        return json.dumps(record, sort_keys=True)
    except TypeError as err:
        raise ValueError(f"a run folder records its env kwargs and config as JSON: {err}") from None


class _Relay:
    """The progress callback compiled into a learner: moves whichever bar the current call shows."""

    bar: Optional[ProgressBar] = None

    def __call__(self, update) -> None:
        if self.bar is not None:
            self.bar.advance_to(update)


@dataclasses.dataclass(frozen=True)
class _Compiled:
    learner: object
    init: object  # keys [S] -> runner [S, ...]
    run: object  # (runner [S, ...], num_updates) -> (runner, metrics [S, num_updates, ...])
    relay: _Relay
    players: dict = dataclasses.field(default_factory=dict)  # greedy -> jitted evaluation (see _player)


def _takes_mesh(make_learner) -> bool:
    params = inspect.signature(make_learner).parameters
    return "mesh" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def device_plan(devices, seeds: int, spec, learner_config) -> tuple:
    """``(num_devices, split)`` with ``split`` ``"seeds"`` (each device trains its own seeds),
    ``"envs"`` (the learner splits its env axis) or ``None`` (one device).

    Raises:
      ValueError: a device count that is not positive, exceeds the devices JAX sees, or divides
        neither the seeds nor (for a learner that takes ``mesh=``) ``num_envs``.
    """
    from marljax.sharding import check_num_devices

    n = check_num_devices(jax.device_count() if devices is None else devices)
    if n == 1:
        return 1, None
    if seeds % n == 0:
        return n, "seeds"
    num_envs = getattr(learner_config, "num_envs", None)
    if num_envs is not None and _takes_mesh(spec.make_learner):
        if num_envs % n == 0:
            return n, "envs"
        raise ValueError(
            f"{n} devices divide neither seeds={seeds} nor num_envs={num_envs}: pick a device count that "
            f"divides one of them (or 1), or a multiple of {n} seeds or envs"
        )
    raise ValueError(
        f"{n} devices do not divide seeds={seeds} (learner {spec.name!r} splits only its seeds over devices): "
        f"use a multiple of {n} seeds or a device count that divides {seeds}"
    )


@functools.lru_cache(maxsize=4)
def _compiled(record_json: str, progress: bool = False, num_devices: int = 1, split: Optional[str] = None) -> _Compiled:
    """The learner of a run set-up and its jitted, seed-vmapped ``init`` and ``run``, kept so that
    training the same set-up again in one process (resuming, a notebook) compiles nothing.

    Without ``progress`` no host callback is compiled in, so JAX's persistent compilation cache
    (``JAX_COMPILATION_CACHE_DIR``) can keep ``run`` across processes; with it, the callback moves
    whichever bar the current call shows. ``num_devices`` and ``split`` as :func:`device_plan` gives them."""
    from marljax.sharding import batch_mesh, split_seeds

    record = json.loads(record_json)
    spec = _spec(record["algo"])
    relay = _Relay()
    env = make_env(record["env"], record["env_kwargs"])
    mesh = batch_mesh(num_devices) if split else None
    extra = {"mesh": mesh} if split == "envs" else {}
    learner = spec.make_learner(_config(spec, record["config"]), env, progress=relay if progress else None, **extra)
    if split == "seeds":  # each device vmaps over its own block of seeds
        init = jax.jit(split_seeds(learner.init, mesh))
        run = jax.jit(lambda runner, n: split_seeds(lambda r: learner.run(r, n), mesh)(runner), static_argnums=1)
    else:
        init = jax.jit(jax.vmap(learner.init))
        run = jax.jit(jax.vmap(learner.run, in_axes=(0, None)), static_argnums=1)
    return _Compiled(learner, init, run, relay)


# ---------------------------------------------------------------------------------------------
# metrics.csv


def _metric_rows(metrics: dict, num_agents: int, first_update: int) -> list[dict]:
    """One CSV row per (update, seed) from metrics ``[seeds, updates, ...]``, at full precision.

    ``episode_return [.., N]`` and ``env_steps`` are required; every other metric with one value
    per update (a scalar) gets a column, and each entry of ``env_metrics`` a ``metric_<name>`` one.
    """
    host = jax.tree_util.tree_map(np.asarray, metrics)
    missing = sorted({"episode_return", "env_steps"} - set(host))
    if missing:
        raise ValueError(f"the learner's metrics lack {missing}; a run folder needs them every update")
    columns = {
        name: values
        for name, values in sorted(host.items())
        if name not in ("episode_return", "env_steps", "env_metrics") and np.ndim(values) == 2
    }
    columns.update({f"metric_{k}": v for k, v in sorted(host.get("env_metrics", {}).items())})
    seeds, updates = host["env_steps"].shape
    rows = []
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
            row.update({name: repr(float(values[s, u])) for name, values in columns.items()})
            rows.append(row)
    return rows


def read_metrics(run_dir) -> list[dict]:
    """The rows of a run's ``metrics.csv`` (numbers as floats)."""
    with open(pathlib.Path(run_dir) / "metrics.csv") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def _append_rows(path: pathlib.Path, rows: list[dict]) -> None:
    """Append rows (a header first if the file is new) and flush them to disk before the
    checkpoint that covers them is committed."""
    fresh = not path.exists()
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        if fresh:
            writer.writeheader()
        writer.writerows(rows)
        f.flush()
        os.fsync(f.fileno())


def _keep_rows_before(path: pathlib.Path, update: int) -> None:
    """Keep only the rows of updates ``< update`` (those the checkpoint covers). Rows after it,
    including a line cut short by a kill, were written by segments whose checkpoint never
    committed; the resumed run writes them again."""
    if not path.exists():
        return
    lines = path.read_text().splitlines(keepends=True)
    if not lines or not lines[0].endswith("\n"):  # empty, or a header cut short: start afresh
        path.unlink()
        return
    header = next(csv.reader(lines[:1]))
    kept = [lines[0]]
    for line in lines[1:]:
        fields = next(csv.reader([line]), [])
        if len(fields) == len(header) and line.endswith("\n") and int(fields[0]) < update:
            kept.append(line)
    _write_atomically(path, "".join(kept))


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


# ---------------------------------------------------------------------------------------------
# Training


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
    keep_checkpoints: int = 2,
    devices: Optional[int] = None,
    **config,
) -> dict:
    """Train (or resume) ``seeds`` seeds of the registered learner ``algo`` on ``env`` into ``out_dir``.

    Args:
      algo: a registered learner (``marljax.solvers.learners.registry.learner_names()``).
      env: a registered env name; ``env_kwargs`` its parameters.
      out_dir: the run folder; if it holds this set-up already, training resumes from its last checkpoint.
      total_steps: env steps per seed (the learner's ``total_steps``).
      seeds: seeds trained at once with ``vmap``; ``seed`` the PRNG seed they are split from.
      checkpoint_every: updates per segment (a checkpoint after each); default a tenth of the run.
      stop_after: stop at the end of the segment that reaches this many updates (to split a run
        over sessions; segments keep their places so the resumed run stays exact).
      progress: show a progress bar.
      keep_checkpoints: how many of the latest checkpoints to keep (more lets ``marljax explain
        --over-training`` follow the policy along training).
      devices: how many devices to train on (default: every device JAX sees); split over the seeds
        when it divides them, else over the learner's env batch (module docstring).
      **config: fields of the learner's config dataclass.

    Returns:
      ``{run_dir, updates, num_updates, finished, env_steps, final_return}``.

    Raises:
      ValueError: bad config, env kwargs, folder or device count (before any folder is written or code compiled).
      RunInterrupted: Ctrl-C; the message says how to resume.
    """
    if int(seeds) < 1:
        raise ValueError(f"seeds must be positive; got {seeds}")
    if int(keep_checkpoints) < 1:
        raise ValueError(f"keep_checkpoints must be at least 1; got {keep_checkpoints}")
    if checkpoint_every is not None and int(checkpoint_every) < 1:
        raise ValueError(f"checkpoint_every must be positive; got {checkpoint_every}")
    learner_config = _spec(algo).config(total_steps=int(total_steps), **config)
    record = {
        "algo": algo,
        "env": env,
        "env_kwargs": make_env_kwargs(env_kwargs),
        "seeds": int(seeds),
        "seed": int(seed),
        "config": dataclasses.asdict(learner_config),
    }
    num_devices, split = device_plan(devices, int(seeds), _spec(algo), learner_config)
    # Building the learner checks config and env (no compiling) before any folder is written.
    compiled = _compiled(_canonical(record), bool(progress), num_devices, split)
    out = pathlib.Path(out_dir)
    record = _write_config(out, json.loads(_canonical(record)))
    num_updates = int(learner_config.num_updates)
    segment = int(checkpoint_every or max(1, num_updates // 10))
    stop = num_updates if stop_after is None else min(num_updates, int(stop_after))
    keys = _seed_keys(record)
    metrics_path = out / "metrics.csv"
    done = 0
    with (
        Checkpoints(out / "checkpoints", keep=keep_checkpoints) as store,
        ProgressBar(num_updates, f"{algo} {env}", unit="update", enabled=progress) as bar,
    ):
        compiled.relay.bar = bar
        try:
            done = store.latest_step() or 0
            runner = store.restore(jax.eval_shape(compiled.init, keys)) if done else compiled.init(keys)
            _keep_rows_before(metrics_path, done)  # no checkpoint: no rows
            bar.advance_to(done)
            while done < stop:
                # Segments start at multiples of `segment`: a resumed run compiles and runs the same ones.
                length = min(segment - done % segment, num_updates - done)
                runner, metrics = compiled.run(runner, length)
                rows = _metric_rows(metrics, compiled.learner.env.num_agents, done)  # waits for the segment
                with _interrupt_deferred():  # Ctrl-C during a save would leave orbax's threads mid-write
                    _append_rows(metrics_path, rows)
                    store.save(done + length, runner)
                    done += length
        except KeyboardInterrupt:
            raise RunInterrupted(
                f"stopped; {out} keeps {done}/{num_updates} updates (its last checkpoint): "
                "run the same command again to resume"
            ) from None
        finally:
            compiled.relay.bar = None
    rows = read_metrics(out) if metrics_path.exists() else []
    finished = done >= num_updates
    if finished and rows:
        _plot(out, record)
    final = [r for r in rows if r["update"] == done - 1]
    return {
        "run_dir": str(out),
        "updates": done,
        "num_updates": num_updates,
        "finished": finished,
        "env_steps": int(final[0]["env_steps"]) if final else 0,
        "final_return": float(np.mean([r["return"] for r in final])) if final else None,
    }


@contextlib.contextmanager
def _interrupt_deferred():
    """Hold Ctrl-C (SIGINT) until the block is done, then raise ``KeyboardInterrupt``
    (a no-op off the main thread, where Python delivers no signals anyway)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


# ---------------------------------------------------------------------------------------------
# Loading and evaluating


def load(run_dir, env_kwargs: Optional[dict] = None):
    """``(env, learner, params)`` of a run folder's last checkpoint; ``params`` have a leading seed axis.

    ``env_kwargs`` (merged over the run's own) builds the env and learner for another configuration
    of the same env; the trained parameters must fit its observation and action shapes.

    Raises:
      ValueError: not a run folder, no checkpoint yet, a damaged checkpoint (naming the step folder
        and what to do), or parameters that do not fit the other env configuration (naming the shapes).
    """
    compiled, params, _ = _load(run_dir, env_kwargs)
    return compiled.learner.env, compiled.learner, params


def _load(run_dir, env_kwargs: Optional[dict]):
    out = pathlib.Path(run_dir)
    record = _read_record(out)
    trained = _compiled(_canonical(record))
    keys = _seed_keys(record)
    with Checkpoints(out / "checkpoints") as store:
        if store.latest_step() is None:
            raise ValueError(f"{out} has no checkpoint yet; train it with `marljax train`")
        params = store.restore(jax.eval_shape(trained.init, keys)).params
    if not env_kwargs:
        return trained, params, record
    kwargs = {**record["env_kwargs"], **make_env_kwargs(env_kwargs)}
    other = _compiled(_canonical({**record, "env_kwargs": kwargs}))
    _check_params_fit(params, jax.eval_shape(other.init, keys).params, record, kwargs)
    return other, params, {**record, "env_kwargs": kwargs}


def _check_params_fit(params, want, record: dict, kwargs: dict) -> None:
    """A clear error when the trained parameters do not fit the other env configuration."""
    trained_on = f"{record['env']} {json.dumps(record['env_kwargs'])}"
    if jax.tree_util.tree_structure(params) != jax.tree_util.tree_structure(want):
        raise ValueError(
            f"the policy trained on {trained_on} has another network structure than env kwargs "
            f"{json.dumps(kwargs)} need (per-agent networks and another number of agents?)"
        )
    for (path, got), new in zip(jax.tree_util.tree_flatten_with_path(params)[0], jax.tree_util.tree_leaves(want)):
        if tuple(got.shape) != tuple(new.shape):
            raise ValueError(
                f"the policy trained on {trained_on} does not fit env kwargs {json.dumps(kwargs)}: parameter "
                f"{jax.tree_util.keystr(path)} is {list(got.shape[1:])}, the new env needs {list(new.shape[1:])} "
                "(its observation or action size differs)"
            )


def evaluate(
    run_dir,
    episodes: int = 100,
    render=None,
    seed: int = 0,
    greedy: bool = False,
    policy_seed: int = 0,
    env_kwargs: Optional[dict] = None,
    save: bool = False,
) -> dict:
    """Play ``episodes`` fresh episodes with every seed's trained policy; report returns and env metrics.

    Episodes are played by :func:`marljax.evaluation.play_episodes`, every seed's at once, and no
    visited state is kept; with ``render`` one more episode, played by seed ``policy_seed``'s
    policy, is recorded and written as a GIF.

    Args:
      run_dir: a run folder written by :func:`train`.
      episodes: episodes per seed.
      render: path of a GIF (or MP4) of one episode, or ``None``.
      seed: PRNG seed of the evaluation (the same seed plays the same episodes).
      greedy: take each policy's most likely action instead of sampling.
      policy_seed: which trained seed plays the rendered episode.
      env_kwargs: env parameters merged over the run's own (another configuration of the same env);
        the policy's input and output shapes must fit it.
      save: also write the result to ``eval.json`` in the run folder.

    Returns:
      Plain floats: ``mean_return`` (over seeds, episodes and agents), ``return_per_agent [N]``,
      ``return_per_seed [S]``, ``std_return`` (over all episodes of the agents' mean return),
      ``mean_length``, ``metrics {name: mean over episodes}``, ``episodes`` (per seed), ``seeds``,
      ``env``, ``env_kwargs``, ``greedy``, ``seed``, ``run_dir``; and ``render`` (the GIF's path).
    """
    from marljax.evaluation import EpisodeBatch, summarise

    if isinstance(episodes, bool) or not isinstance(episodes, (int, np.integer)) or episodes < 1:
        raise ValueError(f"episodes must be a positive integer; got {episodes!r}")
    out = pathlib.Path(run_dir)
    compiled, params, record = _load(out, env_kwargs)
    num_seeds = record["seeds"]
    if not 0 <= policy_seed < num_seeds:
        raise ValueError(f"policy_seed must be in 0..{num_seeds - 1}; got {policy_seed}")
    keys = jax.random.split(jax.random.PRNGKey(seed), num_seeds + 1)
    play = _player(compiled, bool(greedy))
    batch = play(params, keys[:num_seeds], int(episodes), False)  # leaves [seeds, episodes, ...]
    pooled = jax.tree_util.tree_map(
        lambda x: x.reshape((-1,) + x.shape[2:]), (batch.returns, batch.length, batch.metrics)
    )
    result = {
        **summarise(EpisodeBatch(*pooled)),
        "return_per_seed": np.asarray(batch.returns, np.float64).mean(axis=(1, 2)).tolist(),
        "episodes": int(episodes),
        "seeds": num_seeds,
        "env": record["env"],
        "env_kwargs": record["env_kwargs"],
        "greedy": bool(greedy),
        "seed": int(seed),
        "run_dir": str(out),
    }
    if render is not None:
        from marljax.viz import animate

        one = jax.tree_util.tree_map(lambda x: x[policy_seed : policy_seed + 1], params)
        shown = play(one, keys[-1:], 1, True)
        frames = int(shown.length[0, 0]) + 1  # the reset state, then one per step played
        states = [jax.tree_util.tree_map(lambda x: x[0, t, 0], shown.states) for t in range(frames)]
        result["render"] = str(animate(compiled.learner.env, states, render))
    if save:
        _write_atomically(out / "eval.json", json.dumps(result, indent=2))
    return result


def _player(compiled: _Compiled, greedy: bool):
    """``play(params [S], keys [S], num_episodes, record_states) -> EpisodeBatch [S, E, ...]``: every
    seed's policy plays its own episodes (jitted once per learner and ``greedy``)."""
    if greedy in compiled.players:
        return compiled.players[greedy]
    from marljax.evaluation import play_episodes

    learner = compiled.learner

    def policy(carry, observation, first, key):
        # The params ride in the carry, so one policy object (one compilation) serves every seed.
        params, inner = carry
        inner, action = learner.act(params, inner, observation, first, key, greedy)
        return (params, inner), action

    def play_one(params, key, num_episodes, record_states):
        carry = learner.initial_carry(num_episodes)
        # PPO keeps its critic's carry beside the actor's; the policy needs only the actor's.
        carry = carry["actor"] if isinstance(carry, dict) and "actor" in carry else carry
        return play_episodes(
            learner.env, policy, key, num_episodes, initial_carry=(params, carry), record_states=record_states
        )

    play = jax.jit(jax.vmap(play_one, in_axes=(0, 0, None, None)), static_argnums=(2, 3))
    compiled.players[greedy] = play
    return play
