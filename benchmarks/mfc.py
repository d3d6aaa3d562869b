"""MFC (Dec-POMFC) vs IPPO and MAPPO on the swarms, same env-step budget, then evaluated at other N.

For each env (Vicsek, Kuramoto, Aggregation) the learners train at ``--num-agents`` (100) for
``--total-steps`` env steps with the same PPO hyper-parameters (``SHARED``): ``mfc`` (kernel
embedding), ``mfc-hist`` (histogram embedding, same centres), ``ippo`` and ``mappo`` (shared
actor; the swarm views do not depend on N, so every trained policy runs at any N). Reported:

- the final training return (mean per-agent episode return over the last 10% of updates);
- wall-clock of the compiled training run (compile time separately), in one process, side by side;
- the greedy policy's return evaluated at N = 10, 100, 1,000 (``--eval-n``; ``--episodes`` episodes),
  and the env's classic controller (``classic_policy``) as a reference;
- the targets of issue 18: MFC's evaluation return within 10% of the best baseline at the
  training N, and at least 90% of its own return at 10x the training N (ratios are taken so
  that 1 is "as good" for negative returns too).

    nice -n 10 python benchmarks/mfc.py                                   # all envs
    nice -n 10 python benchmarks/mfc.py --envs kuramoto --total-steps 2e4 --episodes 4
    nice -n 10 python benchmarks/mfc.py --envs vicsek --seeds 3 --total-steps 3e4   # mean ± std over 3 seeds
    nice -n 10 python benchmarks/mfc.py --envs vicsek --methods mfc --mfc-config '{"rule_scale": 1.0}'  # ablation
    python benchmarks/mfc.py --merge a.json b.json      # combine runs (per env; a later file's methods replace)

Writes ``benchmarks/figures/mfc.json``, ``mfc.md`` (tables) and ``mfc.png`` (return vs N, learning curves).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time

import jax
import jax.numpy as jnp
import numpy as np

import marljax
from marljax.envs.swarms import classic_policy
from marljax.evaluation import play_episodes, summarise
from marljax.solvers.learners.registry import get_learner

ENVS = {"vicsek": "swarms/Vicsek-v0", "kuramoto": "swarms/Kuramoto-v0", "aggregation": "swarms/Aggregation-v0"}
#: PPO hyper-parameters every learner shares (MFC: of its upper level).
SHARED = dict(num_envs=16, num_steps=64, num_minibatches=4, update_epochs=4, lr=2e-3, hidden_size=64)
#: name -> (registered learner, extra config)
METHODS = {
    "mfc": ("mfc", {"embedding": "kernel"}),
    "mfc-hist": ("mfc", {"embedding": "histogram"}),
    "ippo": ("ippo", {}),
    "mappo": ("mappo", {}),
}
FIGURES = pathlib.Path(__file__).parent / "figures"
#: Env kwargs of the evaluation envs. Aggregation's sensing radius (2 in a box of 10) leaves a 5 x 5 cell
#: grid, whose candidate rows (9 cells x capacity) are wider than N itself at N = 1,000: all-pairs finds
#: the same neighbours faster there.
EVAL_KWARGS = {"aggregation": {"neighbour_method": "all_pairs"}}


def quality(value: float, reference: float) -> float:
    """How good ``value`` is relative to ``reference`` (1 = as good; > 1 better), for returns of either sign."""
    if reference == 0:
        return float("nan")
    return value / reference if reference > 0 else reference / value if value != 0 else float("inf")


def train(method: str, env, total_steps: int, keys, mfc_overrides=None) -> dict:
    """Train ``method`` once per key in ``keys [S, 2]``, the seeds vmapped in one compiled run
    (``mfc_overrides``: extra config of the ``mfc`` methods, for ablations)."""
    algo, extra = METHODS[method]
    spec = get_learner(algo)
    extra = {**extra, **(mfc_overrides or {})} if algo == "mfc" else extra
    config = spec.config(total_steps=int(total_steps), **SHARED, **extra)
    learner = spec.make_learner(config, env)
    run = jax.jit(jax.vmap(lambda k: learner.run(learner.init(k), learner.config.num_updates)))
    tic = time.perf_counter()
    compiled = run.lower(keys).compile()
    compile_s = time.perf_counter() - tic
    tic = time.perf_counter()
    runner, metrics = jax.block_until_ready(compiled(keys))
    run_s = time.perf_counter() - tic
    returns = np.asarray(metrics["episode_return"]).mean(-1)  # [S, updates]
    tail = max(1, returns.shape[1] // 10)
    finals = returns[:, -tail:].mean(1)
    return {
        "config": config,
        "params": [jax.tree.map(lambda x, i=i: x[i], runner.params) for i in range(returns.shape[0])],
        "steps": np.asarray(metrics["env_steps"])[0].tolist(),
        "returns": returns.mean(0).tolist(),
        "returns_seeds": returns.tolist(),
        "final_return": float(finals.mean()),
        "final_return_std": float(finals.std()),
        "compile_s": compile_s,
        "train_s": run_s,
    }


def evaluate(method: str, config, params, env, episodes: int, key) -> dict:
    """The greedy policy of ``params`` (trained at another N) on ``env``: mean return and metrics."""
    algo, _ = METHODS[method]
    learner = get_learner(algo).make_learner(config, env)

    def policy(carry, observation, first, step_key):
        return learner.act(params, carry, observation, first, step_key, True)

    carry = learner.initial_carry(episodes)
    carry = carry["actor"] if isinstance(carry, dict) else carry
    batch = play_episodes(learner.env, policy, key, episodes, initial_carry=carry)
    summary = summarise(batch)
    return {"return": summary["mean_return"], "metrics": summary["metrics"]}


def evaluate_classic(env, episodes: int, key) -> float:
    rule = classic_policy(env)

    def policy(carry, observation, first, step_key):
        keys = jax.random.split(step_key, observation.agents_view.shape[0])
        return carry, jax.vmap(rule)(keys, observation)

    return summarise(play_episodes(env, policy, key, episodes))["mean_return"]


def run_env(
    short: str,
    total_steps: int,
    num_agents: int,
    eval_n,
    episodes: int,
    seed: int,
    seeds: int = 1,
    methods=tuple(METHODS),
    mfc_overrides=None,
) -> dict:
    """Every method of ``METHODS`` on one env: ``seeds`` training runs each (keys ``seed, seed + 1, ...``),
    each evaluated at every N of ``eval_n``; rows hold the mean over seeds, ``*_std`` the spread
    (population std) and ``*_seeds`` the per-seed values."""
    name = ENVS[short]
    env = marljax.make(name, num_agents=num_agents)
    key = jax.random.PRNGKey(seed)
    keys = jnp.stack([jax.random.PRNGKey(seed + s) for s in range(seeds)])
    result = {
        "env": name,
        "num_agents": num_agents,
        "total_steps": int(total_steps),
        "seeds": seeds,
        "mfc_overrides": mfc_overrides or {},
        "methods": {},
        "classic": {},
    }
    eval_envs = {n: marljax.make(name, num_agents=n, **EVAL_KWARGS.get(short, {})) for n in eval_n}
    for n, other in eval_envs.items():
        result["classic"][n] = evaluate_classic(other, episodes, jax.random.fold_in(key, n))
    for method in methods:
        trained = train(method, env, total_steps, keys, mfc_overrides)
        per_seed = {n: [] for n in eval_envs}
        metrics = {n: [] for n in eval_envs}
        for i, params in enumerate(trained["params"]):
            for n, other in eval_envs.items():
                r = evaluate(method, trained["config"], params, other, episodes, jax.random.fold_in(keys[i], n))
                per_seed[n].append(r["return"])
                metrics[n].append(r["metrics"])
        row = {k: v for k, v in trained.items() if k not in ("config", "params")}
        row["eval"] = {n: float(np.mean(v)) for n, v in per_seed.items()}
        row["eval_std"] = {n: float(np.std(v)) for n, v in per_seed.items()}
        row["eval_seeds"] = per_seed
        row["eval_metrics"] = {n: {k: float(np.mean([m[k] for m in ms])) for k in ms[0]} for n, ms in metrics.items()}
        result["methods"][method] = row
        print(
            f"{short:12s} {method:9s} train {row['final_return']:9.3f}  "
            + "  ".join(f"N={n}: {row['eval'][n]:9.3f} +- {row['eval_std'][n]:.3f}" for n in eval_envs)
            + f"  train {row['train_s']:.1f}s (compile {row['compile_s']:.1f}s; {seeds} seeds)",
            flush=True,
        )
    return add_targets(result)


def add_targets(result: dict) -> dict:
    """Issue 18's targets from the seed means (when ``mfc``, ``ippo`` and ``mappo`` were all run)."""
    methods, n = result["methods"], result["num_agents"]
    result.pop("targets", None)
    if not {"mfc", "ippo", "mappo"} <= set(methods) or n not in methods["mfc"]["eval"]:
        return result
    best = max(("ippo", "mappo"), key=lambda m: methods[m]["eval"][n])
    mfc_at = methods["mfc"]["eval"]
    result["targets"] = {"best_baseline": best, "mfc_vs_best_at_train_n": quality(mfc_at[n], methods[best]["eval"][n])}
    if 10 * n in mfc_at:
        result["targets"]["mfc_10x_vs_own"] = quality(mfc_at[10 * n], mfc_at[n])
    return result


def merge(paths) -> dict:
    """Combine earlier runs' .json results: envs are added, and a later file's methods replace or
    join an earlier file's for the same env (the targets are recomputed)."""
    results = {}
    for path in paths:
        for short, res in json.loads(pathlib.Path(path).read_text()).items():
            res["methods"] = {
                m: {**row, "eval": {int(k): v for k, v in row["eval"].items()}} for m, row in res["methods"].items()
            }
            for row in res["methods"].values():
                for field in ("eval_std", "eval_seeds"):
                    if field in row:
                        row[field] = {int(k): v for k, v in row[field].items()}
            res["classic"] = {int(k): v for k, v in res["classic"].items()}
            if short in results:
                res = {**res, "methods": {**results[short]["methods"], **res["methods"]}}
            results[short] = res
    return {short: add_targets(res) for short, res in results.items()}


def table(results: dict) -> str:
    lines = []
    for short, res in results.items():
        ns = list(res["classic"])
        lines.append(f"\n**{res['env']}**, trained at N = {res['num_agents']}, {res['total_steps']:,} env steps\n")
        lines.append(
            "| method | train return | "
            + " | ".join(f"eval N={n}" for n in ns)
            + " | train wall-clock (s; seeds vmapped in one run) | compile (s) |"
        )
        lines.append("|---|---:|" + "---:|" * len(ns) + "---:|---:|")
        for method, row in res["methods"].items():
            spread = row.get("eval_std", {})
            seeds = len(row.get("returns_seeds", [None]))
            lines.append(
                f"| {method} ({seeds} seed{'s' if seeds > 1 else ''}) | {row['final_return']:.2f}"
                + (f" ± {row['final_return_std']:.2f}" if "final_return_std" in row else "")
                + " | "
                + " | ".join(f"{row['eval'][n]:.2f}" + (f" ± {spread[n]:.2f}" if n in spread else "") for n in ns)
                + f" | {row['train_s']:.1f} | {row['compile_s']:.1f} |"
            )
        lines.append("| classic rule | - | " + " | ".join(f"{res['classic'][n]:.2f}" for n in ns) + " | - | - |")
        if "targets" in res:
            t = res["targets"]
            lines.append(
                f"\nMFC / best baseline ({t['best_baseline']}) at N = {res['num_agents']}: "
                f"{t['mfc_vs_best_at_train_n']:.3f} (target >= 0.9)"
                + (
                    f"; MFC at 10x N / MFC at N: {t['mfc_10x_vs_own']:.3f} (target >= 0.9)"
                    if "mfc_10x_vs_own" in t
                    else ""
                )
            )
    return "\n".join(lines)


def plot(results: dict, path: pathlib.Path) -> pathlib.Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = len(results)
    fig, axes = plt.subplots(2, cols, figsize=(4.5 * cols, 7), squeeze=False)
    for j, (short, res) in enumerate(results.items()):
        ns = [int(n) for n in res["classic"]]
        top, bottom = axes[0, j], axes[1, j]
        for i, (method, row) in enumerate(res["methods"].items()):
            shift = 1.0 + 0.03 * (i - (len(res["methods"]) - 1) / 2)  # side by side, so the error bars stay apart
            seeds = len(row.get("returns_seeds", [None]))
            label = f"{method} ({seeds} seeds)" if seeds > 1 else method
            spread = [row.get("eval_std", {}).get(n, 0.0) for n in res["classic"]]
            top.errorbar(
                [n * shift for n in ns],
                [row["eval"][n] for n in res["classic"]],
                yerr=spread,
                fmt="o-",
                capsize=3,
                label=label,
            )
            (line,) = bottom.plot(row["steps"], row["returns"], label=label)
            if seeds > 1:  # the spread of the seeds' curves
                curves = np.asarray(row["returns_seeds"])
                bottom.fill_between(row["steps"], curves.min(0), curves.max(0), color=line.get_color(), alpha=0.15)
        top.plot(ns, list(res["classic"].values()), "k--", label="classic rule")
        top.set_xscale("log")
        top.set_xlabel("N at evaluation")
        top.set_ylabel("episode return per agent")
        top.set_title(f"{res['env'].split('/')[1]} (trained at N={res['num_agents']})")
        bottom.set_xlabel("env steps")
        bottom.set_ylabel("training return (sampled; seed mean, band: min-max)")
        for ax in (top, bottom):
            ax.grid(alpha=0.3)
        top.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", nargs="+", default=list(ENVS), choices=list(ENVS))
    parser.add_argument("--total-steps", type=float, default=5e4)
    parser.add_argument("--num-agents", type=int, default=100)
    parser.add_argument("--eval-n", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--episodes", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=1, help="training runs per method (keys seed, seed+1, ...)")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument(
        "--mfc-config", type=json.loads, default={}, help="JSON overrides of the mfc config (ablations)"
    )
    parser.add_argument("--out", default=str(FIGURES / "mfc"), help="path stem of the .json/.md/.png outputs")
    parser.add_argument("--merge", nargs="+", help="only combine the .json results of earlier runs (one env each)")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error(f"--seeds must be >= 1; got {args.seeds}")
    if args.merge:
        results = merge(args.merge)
    else:
        results = {
            short: run_env(
                short,
                args.total_steps,
                args.num_agents,
                args.eval_n,
                args.episodes,
                args.seed,
                args.seeds,
                args.methods,
                args.mfc_config,
            )
            for short in args.envs
        }
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(results, indent=1, default=float))
    text = table(results)
    out.with_suffix(".md").write_text(text + "\n")
    plot(results, out.with_suffix(".png"))
    print(text)
    print(f"wrote {out.with_suffix('.json')}, {out.with_suffix('.md')}, {out.with_suffix('.png')}")
    return results


if __name__ == "__main__":
    main()
