"""BN-MAPPO vs MAPPO with the same budget: the RL coordination game (n = 3, 5, 10) and Aloha.

Both learners are this library's: ``mappo`` is the PPO core with a centralised critic and
``bn-mappo`` the same critic and hyper-parameters with a context-aware Bayesian-network actor
whose DAG is annealed away (threshold 1 -> 0 between 40% and 70% of training, then the
penalty's weight rises). Every cell trains ``--seeds`` seeds at once (vmapped) for the same
number of env steps; the table reports the mean per-agent episode return over the last 10% of
updates (mean and standard deviation over seeds), the ratio BN-MAPPO / MAPPO, the env metrics
and, for BN-MAPPO, the open ratio of the DAG the greedy (executed) policy uses at the end.

    nice -n 10 python benchmarks/bnac.py                           # every cell, 3 seeds
    nice -n 10 python benchmarks/bnac.py --cells coord3 aloha --seeds 2 --total-steps 4e4
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time

import jax
import numpy as np

import marljax
from marljax.solvers.learners.registry import get_learner

#: cell -> (env name, env kwargs, PPO hyper-parameters shared by both learners)
COORDINATION = dict(num_envs=16, num_steps=25, num_minibatches=2, lr=3e-3, gamma=0.95)
CELLS = {
    "coord3": ("coordination/CoordinationGame-v0", {"num_agents": 3}, COORDINATION),
    "coord5": ("coordination/CoordinationGame-v0", {"num_agents": 5}, COORDINATION),
    "coord10": ("coordination/CoordinationGame-v0", {"num_agents": 10}, COORDINATION),
    "aloha": ("coordination/Aloha-v0", {}, dict(num_envs=16, num_steps=20, num_minibatches=2, lr=1e-3, gamma=0.99)),
}
LEARNERS = ("bn-mappo", "mappo")


def train_cell(algo: str, env, hyper: dict, total_steps: int, seeds: int, key) -> dict:
    spec = get_learner(algo)
    learner = spec.make_learner(spec.config(total_steps=total_steps, **hyper), env)
    keys = jax.random.split(key, seeds)
    run = jax.jit(jax.vmap(lambda k: learner.run(learner.init(k), learner.config.num_updates)))
    tic = time.perf_counter()
    compiled = run.lower(keys).compile()
    compile_s = time.perf_counter() - tic
    tic = time.perf_counter()
    _, metrics = jax.block_until_ready(compiled(keys))
    run_s = time.perf_counter() - tic
    returns = np.asarray(metrics["episode_return"]).mean(-1)  # [seeds, updates]
    tail = max(1, returns.shape[1] // 10)
    final = returns[:, -tail:].mean(1)
    out = {
        "steps": np.asarray(metrics["env_steps"][0]).tolist(),
        "returns": returns.tolist(),
        "final_per_seed": final.tolist(),
        "final_mean": float(final.mean()),
        "final_std": float(final.std()),
        "env_metrics": {k: float(np.asarray(v)[:, -tail:].mean()) for k, v in metrics["env_metrics"].items()},
        "compile_s": compile_s,
        "run_s": run_s,
        "steps_per_s": seeds * learner.config.num_updates * learner.config.steps_per_update / run_s,
    }
    if "executed_open_ratio" in metrics:
        out["executed_open_ratio_final"] = float(np.asarray(metrics["executed_open_ratio"])[:, -1].mean())
        out["sampled_open_ratio_final"] = float(np.asarray(metrics["open_ratio"])[:, -1].mean())
        out["open_ratio_curve"] = np.asarray(metrics["open_ratio"]).mean(0).tolist()
    return out


def plot(results: dict, path: pathlib.Path) -> pathlib.Path:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = list(results)
    fig, axes = plt.subplots(1, len(cells), figsize=(4.2 * len(cells), 3.6), squeeze=False)
    for ax, cell in zip(axes[0], cells):
        low, high = np.inf, -np.inf
        for algo, colour in zip(LEARNERS, ("tab:red", "tab:blue")):
            if algo not in results[cell]:
                continue
            r = results[cell][algo]
            steps, returns = np.asarray(r["steps"]), np.asarray(r["returns"])
            ax.plot(steps, returns.mean(0), color=colour, label=algo.upper())
            ax.fill_between(steps, returns.min(0), returns.max(0), color=colour, alpha=0.2)
            later = returns[:, len(steps) // 4 :]  # the first updates (Aloha: -800) would flatten the rest
            low, high = min(low, later.min()), max(high, later.max())
            if "open_ratio_curve" in r:
                twin = ax.twinx()
                twin.plot(steps, r["open_ratio_curve"], color="tab:red", ls=":", lw=1)
                twin.set_ylim(-0.02, 1.02)
                twin.set_ylabel("BN open ratio (dotted)", fontsize=8)
        margin = 0.1 * (high - low) + 1e-3
        ax.set_ylim(low - margin, high + margin)
        ax.xaxis.set_major_formatter(matplotlib.ticker.EngFormatter())
        ax.set_title(cell, fontsize=10)
        ax.set_xlabel("env steps")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("mean episode return per agent")
    axes[0][0].legend(loc="lower right", fontsize=8)
    fig.suptitle("BN-MAPPO vs MAPPO, same budget (band: min-max over seeds)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", nargs="*", default=list(CELLS), choices=list(CELLS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--total-steps", type=float, default=6e4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="results/bench_bnac")
    parser.add_argument("--from-json", help="only print the table and draw the plot of a saved bnac.json")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.from_json:
        results = json.loads(pathlib.Path(args.from_json).read_text())
    else:
        results = {}
        print(f"device: {jax.devices()[0]}; {args.seeds} seeds, {args.total_steps:g} env steps per seed and learner")
        for cell in args.cells:
            name, env_kwargs, hyper = CELLS[cell]
            env = marljax.make(name, **env_kwargs)
            results[cell] = {}
            for algo in LEARNERS:
                key = jax.random.PRNGKey(args.seed)
                results[cell][algo] = r = train_cell(algo, env, hyper, int(args.total_steps), args.seeds, key)
                timing = f"compile {r['compile_s']:.0f} s, run {r['run_s']:.0f} s"
                print(f"  {cell} {algo}: {r['final_mean']:.2f} +- {r['final_std']:.2f} ({timing})", flush=True)
                (out / "bnac.json").write_text(json.dumps(results))
            plot(results, out / "bnac_curves.png")
    print(table(results))
    plot(results, out / "bnac_curves.png")
    print(f"wrote {out / 'bnac.json'} and {out / 'bnac_curves.png'}")
    return results


def table(results: dict) -> str:
    """Markdown table: final return (mean +- std over seeds), BN - MAPPO, executed open ratio,
    env metrics, compile time, training throughput and BN / MAPPO throughput."""
    rows = [
        "| cell | learner | final return | BN - MAPPO | open | env metrics (per episode) | compile s | steps/s "
        "| speed vs MAPPO |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for cell, by_algo in results.items():
        mappo = by_algo["mappo"]
        for algo in LEARNERS:
            r = by_algo[algo]
            diff = f"{r['final_mean'] - mappo['final_mean']:+.2f}" if algo != "mappo" else "-"
            opened = f"{r['executed_open_ratio_final']:.2f}" if "executed_open_ratio_final" in r else "-"
            metrics = ", ".join(f"{k} {v:.2f}" for k, v in r["env_metrics"].items())
            rows.append(
                f"| {cell} | {algo} | {r['final_mean']:.2f} +- {r['final_std']:.2f} | {diff} | {opened} | {metrics} | "
                f"{r['compile_s']:.0f} | {r['steps_per_s']:,.0f} | {r['steps_per_s'] / mappo['steps_per_s']:.2f} |"
            )
    return "\n".join(rows)


if __name__ == "__main__":
    main()
