"""``marljax eval RUN_DIR``: play a trained run's policies, report returns and env metrics, render a GIF."""

from __future__ import annotations

import json


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "eval",
        help="evaluate a trained run folder (returns, env metrics, optional GIF)",
        description="Play --episodes fresh episodes with each seed's trained policy, print the returns and the "
        "env's metrics, and write them to eval.json in the run folder.",
    )
    p.add_argument("run_dir", help="a folder written by `marljax train`")
    p.add_argument("--episodes", type=int, default=100, help="episodes per seed (default 100)")
    p.add_argument("--render", help="write a GIF of one episode to this path (only then are states kept)")
    p.add_argument("--seed", type=int, default=0, help="PRNG seed of the evaluation (default 0)")
    p.add_argument("--greedy", action="store_true", help="take the most likely action instead of sampling")
    p.add_argument("--policy-seed", type=int, default=0, help="which trained seed plays the rendered episode")
    p.add_argument(
        "--env-kwargs",
        default="{}",
        help="JSON dict of env parameters over the run's own: evaluate on another configuration of the same "
        "env, e.g. '{\"num_agents\": 4}' (the policy's input and output sizes must fit)",
    )
    p.add_argument("--json", action="store_true", help="print the result as one JSON line")
    p.set_defaults(func=run)


def run(args) -> int:
    from marljax import runs
    from marljax.commands.train import parse_env_kwargs

    result = runs.evaluate(
        args.run_dir,
        episodes=args.episodes,
        render=args.render,
        seed=args.seed,
        greedy=args.greedy,
        policy_seed=args.policy_seed,
        env_kwargs=parse_env_kwargs(args.env_kwargs),
        save=True,
    )
    if args.json:
        print(json.dumps(result))
        return 0
    per_agent = ", ".join(f"{r:.3f}" for r in result["return_per_agent"])
    print(
        f"{result['episodes']} episodes x {result['seeds']} seeds: mean return per agent "
        f"{result['mean_return']:.3f} (std over episodes {result['std_return']:.3f}); per agent [{per_agent}]"
    )
    if result["metrics"]:
        print("env metrics (mean over episodes): " + ", ".join(f"{k} {v:.3f}" for k, v in result["metrics"].items()))
    if "render" in result:
        print(f"wrote {result['render']}")
    print(f"wrote {result['run_dir']}/eval.json")
    return 0
