"""Explain a trained run folder: each agent's Shapley value for the team return, plotted and saved.

    from marljax.solvers import shapley
    report = shapley.explain_run("runs/tag", method="exact", replace="noop")
    report["values"], report["stderr"]          # also in runs/tag/shapley.json and shapley.png

``over_training=True`` also explains every kept checkpoint and plots the values along training
(``shapley_training.png``); every checkpoint reuses one compilation (the parameters are traced).
"""

from __future__ import annotations

import json
import pathlib
from typing import Optional, Sequence

import jax
import numpy as np

from marljax.solvers.shapley import games
from marljax.solvers.shapley.rollouts import REPLACEMENTS, run_checkpoints, run_game

__all__ = ["METHODS", "attribute", "explain_run", "plot_values", "plot_over_training"]

METHODS = ("exact", "permutation", "banzhaf")


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {list(METHODS)}")
    return method


def attribute(v, num_players: int, method: str, key, num_permutations: int = 64) -> games.ShapleyResult:
    """``games.exact``, ``games.banzhaf`` or ``games.permutation`` (with ``key``) by name."""
    _check_method(method)
    if method == "exact":
        return games.exact(v, num_players)
    if method == "banzhaf":
        return games.banzhaf(v, num_players)
    return games.permutation(v, num_players, key, num_permutations)


def plot_values(values, stderr, path, labels: Optional[Sequence[str]] = None, title: str = "", ylabel: str = ""):
    """Bar chart of the values with +-1.96 standard-error bars (95% intervals); a grouped chart when
    ``values`` is ``{series name: [n]}`` (``stderr`` then a dict too)."""
    import matplotlib.pyplot as plt

    from marljax.viz import save_figure

    series = values if isinstance(values, dict) else {"": values}
    errors = stderr if isinstance(stderr, dict) else {"": stderr}
    n = len(next(iter(series.values())))
    labels = list(labels) if labels is not None else [f"agent {i}" for i in range(n)]
    width = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * n * len(series) + 2), 4))
    for k, (name, vals) in enumerate(series.items()):
        x = np.arange(n) + (k - (len(series) - 1) / 2) * width
        err = 1.96 * np.asarray(errors[name], np.float64)
        ax.bar(x, vals, width, yerr=err, capsize=4, label=name or None, color=f"C{k}")
    ax.axhline(0.0, color="black", lw=0.8)
    ax.set_xticks(np.arange(n), labels)
    ax.set_ylabel(ylabel or "Shapley value (team return)")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    if len(series) > 1:
        ax.legend()
    return save_figure(fig, path)


def plot_over_training(steps, values, stderr, path, labels=None, title: str = "", xlabel: str = "update"):
    """Each player's value (``values [T, n]``) along training checkpoints ``steps [T]``, with 95% bands."""
    import matplotlib.pyplot as plt

    from marljax.viz import save_figure

    values, stderr = np.asarray(values), np.asarray(stderr)
    labels = list(labels) if labels is not None else [f"agent {i}" for i in range(values.shape[1])]
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, label in enumerate(labels):
        ax.plot(steps, values[:, i], marker="o", label=label, color=f"C{i}")
        ax.fill_between(steps, values[:, i] - 1.96 * stderr[:, i], values[:, i] + 1.96 * stderr[:, i], alpha=0.2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Shapley value (team return)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, path)


def _record(result: games.ShapleyResult) -> dict:
    return {
        "values": result.values.tolist(),
        "stderr": result.stderr.tolist(),
        "grand": result.grand,
        "empty": result.empty,
        "efficiency_gap": float(result.values.sum() - (result.grand - result.empty)),
        "num_evaluations": result.num_evaluations,
    }


def explain_run(
    run_dir,
    method: str = "exact",
    replace: str = "noop",
    num_episodes: int = 256,
    num_permutations: int = 64,
    seed: int = 0,
    policy_seed: int = 0,
    greedy: bool = False,
    players: Optional[Sequence[int]] = None,
    over_training: bool = False,
    save: bool = True,
    devices: Optional[int] = None,
) -> dict:
    """Shapley (or Banzhaf) values of a run folder's agents for its team return.

    ``v(S)`` is the mean team return of ``num_episodes`` episodes in which the agents of ``S`` play
    the trained policy and the others are replaced by ``replace``
    (:func:`~marljax.solvers.shapley.rollouts.run_game`); every coalition's episodes run in one
    vmapped, jitted batch with common random numbers.

    Args:
      run_dir: a run folder written by ``marljax train``.
      method: ``"exact"`` (all 2^n coalitions), ``"permutation"`` (antithetic Monte Carlo) or ``"banzhaf"``.
      replace: ``"noop"``, ``"random"`` or ``"random_player"``.
      num_episodes: episodes per coalition.
      num_permutations: orders sampled by ``"permutation"`` (even, >= 4).
      seed: PRNG seed of the episodes (and of the orders).
      policy_seed: which of the run's seeds plays.
      greedy: the policy's most likely action instead of a sample.
      players: the agents explained (default all); the others always play and their return does not count.
      over_training: also explain every kept checkpoint and plot the values along training.
      save: write ``shapley.json``, ``shapley.png`` (and ``shapley_training.png``) into the run folder.
      devices: devices the coalitions are split over (default: every device JAX sees); the values
        do not depend on it.

    Returns:
      JSON-ready dict: ``values``, ``stderr`` (``[n]``), ``grand`` (v of all), ``empty`` (v of none),
      ``efficiency_gap``, ``players``, ``method``, ``replace``, ``num_episodes``, ``step`` (the
      checkpoint), ``run_dir``, ``files``; with ``over_training``, ``training`` (one record per checkpoint).

    Raises:
      ValueError: bad method, replacement, option or device count, or not a run folder with a checkpoint.
    """
    from marljax.sharding import batch_mesh, check_num_devices

    _check_method(method)
    num_devices = check_num_devices(jax.device_count() if devices is None else devices)
    if replace not in REPLACEMENTS:
        raise ValueError(f"unknown replacement {replace!r}; choose one of {list(REPLACEMENTS)}")
    out = pathlib.Path(run_dir)
    game_key, order_key = jax.random.split(jax.random.PRNGKey(int(seed)))
    options = dict(policy_seed=policy_seed, greedy=greedy, players=players)
    options["mesh"] = batch_mesh(num_devices) if num_devices > 1 else None
    game = run_game(out, game_key, num_episodes, replace, **options)
    steps = run_checkpoints(out)
    result = attribute(game, game.num_players, method, order_key, num_permutations)
    record = json.loads((out / "config.json").read_text())
    labels = [f"agent {i}" for i in game.players]
    report = {
        **_record(result),
        "players": list(game.players),
        "method": method,
        "replace": replace,
        "num_episodes": int(num_episodes),
        "num_permutations": int(num_permutations) if method == "permutation" else None,
        "seed": int(seed),
        "policy_seed": int(policy_seed),
        "greedy": bool(greedy),
        "step": steps[-1],
        "env": record["env"],
        "run_dir": str(out),
        "files": [],
    }
    title = f"{'Banzhaf values' if method == 'banzhaf' else method + ' Shapley values'}, {replace} replacement"
    if over_training:
        history = []
        for step in steps:
            past = run_game(out, game_key, num_episodes, replace, step=step, **options)
            history.append(
                {"step": step, **_record(attribute(past, past.num_players, method, order_key, num_permutations))}
            )
        report["training"] = history
    if save:
        files = [plot_values(result.values, result.stderr, out / "shapley.png", labels, f"{record['env']}: {title}")]
        if over_training:
            files.append(
                plot_over_training(
                    [h["step"] for h in history],
                    [h["values"] for h in history],
                    [h["stderr"] for h in history],
                    out / "shapley_training.png",
                    labels,
                    f"{record['env']}: {title}",
                    "update (checkpoint)",
                )
            )
        report["files"] = [str(p) for p in files] + [str(out / "shapley.json")]
        (out / "shapley.json").write_text(json.dumps(report, indent=2))
    return report
