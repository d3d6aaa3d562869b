"""``marljax explain RUN_DIR``: each agent's Shapley value for a trained run's team return."""

from __future__ import annotations

import json


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "explain",
        help="Shapley values of a trained run's agents (contribution to the team return)",
        description="Play the run's policy with every coalition of agents (non-members replaced by --replace) "
        "and attribute the team return to the agents by their Shapley (or Banzhaf) values. Writes shapley.json "
        "and shapley.png (bars with 95% error bars) into the run folder; --over-training also explains every "
        "kept checkpoint and writes shapley_training.png.",
    )
    p.add_argument("run_dir", help="a folder written by `marljax train`")
    p.add_argument("--method", default="exact", help="exact (all 2^n coalitions), permutation or banzhaf")
    p.add_argument("--replace", default="noop", help="how non-members act: noop, random or random_player")
    p.add_argument("--episodes", type=int, default=256, help="episodes per coalition (default 256)")
    p.add_argument("--permutations", type=int, default=64, help="orders sampled by --method permutation (even)")
    p.add_argument("--seed", type=int, default=0, help="PRNG seed of the episodes (default 0)")
    p.add_argument("--policy-seed", type=int, default=0, help="which of the run's seeds plays (default 0)")
    p.add_argument("--greedy", action="store_true", help="take the most likely action instead of sampling")
    p.add_argument("--players", help="comma-separated agents to explain (default all); the others always play")
    p.add_argument("--over-training", action="store_true", help="also explain every kept checkpoint")
    p.add_argument("--json", action="store_true", help="print the result as one JSON line")
    p.add_argument(
        "--devices", type=int, default=None, help="devices the coalitions are split over (default: all JAX sees)"
    )
    p.set_defaults(func=run)


def _players(text):
    if text is None:
        return None
    try:
        return [int(x) for x in text.split(",")]
    except ValueError:
        raise ValueError(f"--players must be comma-separated agent indices such as 0,1,2; got {text!r}") from None


def run(args) -> int:
    from marljax.solvers.shapley import explain_run

    report = explain_run(
        args.run_dir,
        method=args.method,
        replace=args.replace,
        num_episodes=args.episodes,
        num_permutations=args.permutations,
        seed=args.seed,
        policy_seed=args.policy_seed,
        greedy=args.greedy,
        players=_players(args.players),
        over_training=args.over_training,
        devices=args.devices,
    )
    if args.json:
        print(json.dumps(report))
        return 0
    print(
        f"{report['method']} values ({report['replace']} replacement, {report['num_episodes']} episodes per "
        f"coalition, checkpoint {report['step']}): v(all) = {report['grand']:.3f}, v(none) = {report['empty']:.3f}"
    )
    for i, value, err in zip(report["players"], report["values"], report["stderr"]):
        print(f"  agent {i}: {value:8.3f} +- {err:.3f}")
    for path in report["files"]:
        print(f"wrote {path}")
    return 0
