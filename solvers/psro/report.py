"""What a PSRO run writes: ``summary.json``, ``population.json``, its curves and plots.

:func:`summary` is the short record (final exploitability, meta-strategies, population sizes,
success; with the PPO oracle also the final meta-strategy profile's action frequencies, team
returns and env metrics); :func:`write_report` writes it with the full record and the plots
(:func:`marljax.viz.plot_exploitability`, :func:`marljax.viz.plot_meta_strategies`). Both
accept the result of :func:`marljax.solvers.psro.run` (exact oracle) and of
:func:`marljax.solvers.psro_rl.run_rl_psro` (PPO oracle).
"""

from __future__ import annotations

import json
import pathlib

import jax
import numpy as np

from marljax.solvers.psro.loop import PSROResult, induced_mixtures, nash_conv_curve
from marljax.solvers.psro.oracles.rl import RLPSROResult

__all__ = ["summary", "write_report", "plot_iteration_metrics"]


def _filled(values, sizes) -> list:
    """Per player, the entries of its filled slots."""
    values = np.asarray(values)
    return [values[i, : int(s)].tolist() for i, s in enumerate(np.asarray(sizes))]


def summary(result: PSROResult | RLPSROResult) -> dict:
    """The JSON-ready short record of a PSRO run.

    Keys: ``exploitability`` (NashConv of the final meta-strategy; with the PPO oracle the
    estimate of the last iteration), ``success``, ``population_sizes``, ``meta_strategies``
    (per player, over its filled slots); exact oracle: ``profile`` (the induced mixture over
    actions) and ``population`` (the action in each filled slot); PPO oracle:
    ``action_frequencies``, ``team_returns`` and ``env_metrics`` of the final meta-strategy profile.
    """
    sizes = result.state.sizes
    record = {
        "exploitability": float(result.nash_conv),
        "success": bool(result.success),
        "population_sizes": np.asarray(sizes).tolist(),
        "meta_strategies": _filled(result.meta_strategy, sizes),
    }
    if isinstance(result, PSROResult):
        record["profile"] = [np.asarray(p).tolist() for p in result.profile]
        record["population"] = _filled(result.state.population, sizes)
    elif isinstance(result, RLPSROResult):
        frequencies = result.action_frequencies
        record["action_frequencies"] = None if frequencies is None else np.asarray(frequencies).tolist()
        record["team_returns"] = np.asarray(result.team_returns).tolist()
        record["env_metrics"] = {name: float(value) for name, value in result.env_metrics.items()}
        record["env_metrics_per_iteration"] = {
            name: np.asarray(value).tolist() for name, value in result.metrics.env_metrics.items()
        }
    else:
        raise ValueError(f"not a PSRO result: {type(result).__name__}")
    return record


def write_report(result: PSROResult | RLPSROResult, out, title: str = "", **context) -> list[pathlib.Path]:
    """Write ``summary.json`` (:func:`summary` plus ``context``), ``population.json`` (the curve
    and the meta-strategy of every iteration), ``exploitability.png`` and ``meta_strategy.png``
    into ``out``; with the PPO oracle also ``metrics.png`` (:func:`plot_iteration_metrics`: the
    exploitability estimate and each env metric per iteration) and ``population.msgpack`` (the actor parameters, leaves
    ``[2, K, ...]``, flax serialization).

    Args:
        result: a PSRO result.
        out: the output folder (created).
        title: the plots' title.
        **context: JSON-ready entries recorded in both files (game, meta-solver, options...).

    Returns:
        The paths written.
    """
    from marljax.viz import plot_exploitability, plot_meta_strategies

    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    record = {**context, **summary(result)}
    if isinstance(result, PSROResult):
        curve = np.asarray(nash_conv_curve(result))
        mixtures = [np.asarray(m) for m in induced_mixtures(result)]
        ylabel, extra = "action", []
    else:
        curve = np.asarray(result.metrics.nash_conv)
        strategies = np.concatenate([np.asarray(result.metrics.meta_strategy), np.asarray(result.meta_strategy)[None]])
        mixtures = [strategies[:, t] for t in range(2)]
        ylabel, extra = "policy (population slot)", [_write_actors(result, out)]
        extra.append(plot_iteration_metrics(result, out / "metrics.png", title))
    paths = [
        plot_exploitability({str(context.get("meta_solver", "PSRO")): curve}, out / "exploitability.png", title),
        plot_meta_strategies(mixtures, out / "meta_strategy.png", title, ylabel=ylabel),
    ]
    full = {**record, "exploitability_per_iteration": curve.tolist()}
    full["meta_strategy_per_iteration"] = [m.tolist() for m in mixtures]
    if isinstance(result, RLPSROResult):
        full["meta_game"] = np.asarray(result.state.meta_payoffs).tolist()
        full["meta_game_metrics"] = {k: np.asarray(v).tolist() for k, v in result.state.meta_metrics.items()}
    for name, content in (("summary.json", record), ("population.json", full)):
        (out / name).write_text(json.dumps(content, indent=1))
        paths.append(out / name)
    return paths + extra


def plot_iteration_metrics(result: RLPSROResult, path, title: str = ""):
    """One panel per curve over PSRO iterations: the exploitability estimate, then each env metric
    of the meta-strategy (e.g. ``crash_rate``), with the final mixture's value (played on fresh
    episodes) as a dot after the last iteration."""
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    from marljax.viz import save_figure

    curves = {"exploitability (NashConv estimate)": (np.asarray(result.metrics.nash_conv), None)}
    for name, value in sorted(result.metrics.env_metrics.items(), key=lambda kv: kv[0] != "crash_rate"):
        curves[name] = (np.asarray(value), float(result.env_metrics[name]) if name in result.env_metrics else None)
    columns = min(3, len(curves))
    rows = -(-len(curves) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows), squeeze=False, layout="constrained")
    for ax, (name, (values, final)) in zip(axes.ravel(), curves.items()):
        iterations = np.arange(1, len(values) + 1)
        ax.plot(iterations, values, marker="o", label="meta-strategy (simulated meta-game)")
        if final is not None:
            ax.plot([len(values) + 1], [final], "s", color="C3", label="final mixture, fresh episodes")
        ax.set_title(name)
        ax.set_xlabel("PSRO iteration")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    axes.ravel()[min(1, len(curves) - 1)].legend(fontsize=7)
    for ax in axes.ravel()[len(curves) :]:
        ax.axis("off")
    fig.suptitle(title)
    return save_figure(fig, path)


def _write_actors(result: RLPSROResult, out: pathlib.Path) -> pathlib.Path:
    from flax import serialization

    path = out / "population.msgpack"
    path.write_bytes(serialization.to_bytes(jax.device_get(result.state.actors)))
    return path
