"""``marljax eval RUN_DIR``: load a trained policy, report episode returns, render a GIF."""


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "eval",
        help="evaluate a trained run folder (returns, optional GIF)",
        description="Play --episodes fresh episodes with each seed's trained policy and print the returns.",
    )
    p.add_argument("run_dir", help="a folder written by `marljax train`")
    p.add_argument("--episodes", type=int, default=100, help="episodes per seed (default 100)")
    p.add_argument("--render", help="write a GIF of one episode to this path")
    p.add_argument("--seed", type=int, default=0, help="PRNG seed of the evaluation (default 0)")
    p.add_argument("--greedy", action="store_true", help="take the most likely action instead of sampling")
    p.set_defaults(func=run)


def run(args) -> int:
    from marljax import runs

    result = runs.evaluate(args.run_dir, episodes=args.episodes, render=args.render, seed=args.seed, greedy=args.greedy)
    per_agent = ", ".join(f"{r:.3f}" for r in result["return_per_agent"])
    print(
        f"{result['episodes']} episodes x {result['seeds']} seeds: mean return per agent "
        f"{result['mean_return']:.3f} (std over episodes {result['std_return']:.3f}); per agent [{per_agent}]"
    )
    if "render" in result:
        print(f"wrote {result['render']}")
    return 0
