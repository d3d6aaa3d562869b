"""The experiment of Heuillet et al. (2022): which predator contributes most to the catches?

SimpleTag with three predators of different top speeds chasing one scripted prey (speed 1.3).
IPPO with one network shared by the predators (so they differ only in their speed; the scripted
prey makes them the only agents) is trained into a run folder in segments; after each segment the
predators' exact Shapley values (noop replacement) are computed from rollouts, giving the values
along training. At the end the exact values under every replacement are compared with the
antithetic permutation estimate, and a two-panel figure is written.

    nice -n 10 python benchmarks/shapley_simple_tag.py --out results/shapley_tag

Claims checked (printed, and in shapley_simple_tag.json): faster predators get larger values;
the permutation estimate is within 5% of the exact values.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time

import jax
import numpy as np

from marljax import runs
from marljax.solvers import shapley

ENV = "mpe/SimpleTag-v0"
PREDATOR_SPEEDS = (0.6, 1.0, 1.4)
PREY_SPEED = 1.3
# MPE's damping (0.25 per 0.1 s step) caps an agent at accel * 0.1 / 0.25 = 0.4 accel: with the default
# predator acceleration 3 every predator tops out at 1.2 whatever its max speed. Each predator gets the
# default predator's ratio instead, accel = 3 * speed, so its max speed is the speed it reaches.
ACCEL_PER_SPEED = 3.0
PREY_ACCEL = 4.0
CONFIG = dict(num_envs=64, num_steps=25, lr=1e-3, num_minibatches=2)


def plot(report: dict, path) -> pathlib.Path:
    """Left: the trained predators' values per replacement and the permutation estimate (95% bars);
    right: the exact noop values along training."""
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    from marljax.viz import save_figure

    speeds = report["env_kwargs"]["speeds"][:3]
    labels = [f"predator {i}\n(speed {s:g})" for i, s in enumerate(speeds)]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
    series = {f"exact, {r}": res for r, res in report["exact"].items()} | {"permutation, noop": report["permutation"]}
    width = 0.8 / len(series)
    for k, (name, res) in enumerate(series.items()):
        x = np.arange(3) + (k - (len(series) - 1) / 2) * width
        err = 1.96 * np.asarray(res["stderr"])
        left.bar(x, res["values"], width, yerr=err, capsize=3, label=name, color=f"C{k}")
    left.set_xticks(np.arange(3), labels)
    left.set_ylabel("Shapley value (team return per episode)")
    left.set_title(f"trained IPPO predators ({report['episodes']} episodes per coalition)")
    left.axhline(0, color="black", lw=0.8)
    left.grid(axis="y", alpha=0.3)
    left.legend(fontsize=8)
    history = report["along_training"]
    steps = [h["env_steps"] for h in history]
    for i, label in enumerate(labels):
        v = np.array([h["values"][i] for h in history])
        e = np.array([h["stderr"][i] for h in history])
        right.plot(steps, v, marker="o", color=f"C{i}", label=label.replace("\n", " "))
        right.fill_between(steps, v - 1.96 * e, v + 1.96 * e, color=f"C{i}", alpha=0.2)
    right.xaxis.set_major_formatter(matplotlib.ticker.EngFormatter())
    right.set_xlabel("env steps")
    right.set_ylabel("exact Shapley value (noop)")
    right.set_title("along training (256 episodes per coalition)")
    right.grid(alpha=0.3)
    right.legend(fontsize=8)
    fig.suptitle(
        f"SimpleTag: 3 predators of speeds {', '.join(f'{s:g}' for s in speeds)} (acceleration 3 x speed) "
        f"chase a scripted prey (speed {PREY_SPEED})"
    )
    return save_figure(fig, path)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="results/shapley_tag", help="folder of the run and the figures")
    parser.add_argument("--total-steps", type=float, default=3e6, help="IPPO env steps (default 3e6)")
    parser.add_argument("--segments", type=int, default=8, help="explanations along training (default 8)")
    parser.add_argument("--episodes", type=int, default=1024, help="episodes per coalition at the end")
    parser.add_argument("--permutations", type=int, default=128, help="orders of the permutation estimate")
    parser.add_argument("--speeds", type=float, nargs=3, default=PREDATOR_SPEEDS, help="the predators' top speeds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--replot", action="store_true", help="only redraw the figure from the JSON in --out")
    args = parser.parse_args(argv)
    if args.replot:
        path = pathlib.Path(args.out) / "shapley_simple_tag.json"
        print(f"wrote {plot(json.loads(path.read_text()), path.with_suffix('.png'))}")
        return json.loads(path.read_text())

    out = pathlib.Path(args.out)
    run_dir = out / "run"
    speeds = tuple(args.speeds)
    accels = [ACCEL_PER_SPEED * v for v in speeds] + [PREY_ACCEL]
    env_kwargs = {"prey": "scripted", "speeds": [*speeds, PREY_SPEED], "accels": accels}
    key = jax.random.PRNGKey(args.seed)
    along_key, final_key, order_key = jax.random.split(key, 3)

    # ---- train in segments, explaining after each ------------------------------------------
    num_updates = int(args.total_steps) // (CONFIG["num_envs"] * CONFIG["num_steps"])
    segment = max(1, num_updates // args.segments)
    history, tic = [], time.perf_counter()
    for stop in [*range(segment, num_updates, segment), num_updates]:
        summary = runs.train(
            "ippo",
            ENV,
            run_dir,
            total_steps=args.total_steps,
            env_kwargs=env_kwargs,
            checkpoint_every=segment,
            stop_after=stop,
            progress=False,
            **CONFIG,
        )
        game = shapley.run_game(run_dir, along_key, 256, "noop")
        result = shapley.exact(game, 3)
        history.append({"env_steps": summary["env_steps"], "values": result.values, "stderr": result.stderr})
        print(f"{summary['env_steps']:>9,} env steps: exact noop values {np.round(result.values, 2)}")
    train_s = time.perf_counter() - tic

    # ---- the trained policy: exact values per replacement, and the permutation estimate ------
    final, timings = {}, {}
    for replace in shapley.REPLACEMENTS:
        game = shapley.run_game(run_dir, final_key, args.episodes, replace)
        tic = time.perf_counter()
        final[replace] = shapley.exact(game, 3)
        timings[f"exact_{replace}_s"] = time.perf_counter() - tic
    game = shapley.run_game(run_dir, final_key, args.episodes, "noop")
    tic = time.perf_counter()
    sampled = shapley.permutation(game, 3, order_key, args.permutations, batch_size=16)
    timings["permutation_noop_s"] = time.perf_counter() - tic
    exact = final["noop"]
    relative = np.abs(sampled.values - exact.values) / np.abs(exact.values)
    ordered = {r: bool(np.all(np.diff(final[r].values) > 0)) for r in final}

    report = {
        "env": ENV,
        "env_kwargs": env_kwargs,
        "config": CONFIG,
        "total_steps": args.total_steps,
        "train_s": train_s,
        "exact": {r: {"values": res.values.tolist(), "stderr": res.stderr.tolist()} for r, res in final.items()},
        "grand": exact.grand,
        "empty": exact.empty,
        "permutation": {"values": sampled.values.tolist(), "stderr": sampled.stderr.tolist()},
        "permutation_relative_error": relative.tolist(),
        "permutation_within_5_percent": bool(np.all(relative < 0.05)),
        "faster_predators_get_more": ordered,
        "timings": timings,
        "along_training": [
            {"env_steps": h["env_steps"], "values": h["values"].tolist(), "stderr": h["stderr"].tolist()}
            for h in history
        ],
        "episodes": args.episodes,
        "permutations": args.permutations,
    }
    figure = plot(report, out / "shapley_simple_tag.png")
    report["figure"] = str(figure)
    (out / "shapley_simple_tag.json").write_text(json.dumps(report, indent=2))
    print(f"v(all) = {exact.grand:.2f}, v(none) = {exact.empty:.2f}; trained in {train_s:.0f} s")
    for r, res in final.items():
        print(f"exact ({r:>13}): {np.round(res.values, 2)} +- {np.round(res.stderr, 2)}; increasing: {ordered[r]}")
    print(
        f"permutation (noop, {args.permutations} orders): {np.round(sampled.values, 2)}; relative error "
        f"{np.round(100 * relative, 2)} % (within 5%: {report['permutation_within_5_percent']})"
    )
    print(f"wrote {figure} and {out / 'shapley_simple_tag.json'}")
    return report


if __name__ == "__main__":
    main()
