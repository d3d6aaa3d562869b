"""``marljax train ALGO ENV``: train IPPO/MAPPO into a run folder (resumes if it exists)."""

import dataclasses


def _ppo_fields():
    from marljax.solvers.learners.ppo import PPOConfig

    return {
        f.name: f
        for f in dataclasses.fields(PPOConfig)
        if f.name not in ("total_steps", "trained_agents", "centralised_critic")
    }


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "train",
        help="train a MARL learner (ippo, mappo) and write a run folder",
        description="Train ALGO on ENV for --total-steps env steps over --seeds seeds (vmapped). "
        "Writes config.json, metrics.csv, learning_curve.png and an orbax checkpoint to --out; "
        "running the same command again resumes from the last checkpoint.",
    )
    p.add_argument("algo", choices=["ippo", "mappo"])
    p.add_argument("env", help="registered env name, e.g. mpe/SimpleSpread-v0")
    p.add_argument("--total-steps", type=float, default=1e6, help="env steps per seed (default 1e6)")
    p.add_argument("--seeds", type=int, default=1, help="seeds trained at once with vmap (default 1)")
    p.add_argument("--seed", type=int, default=0, help="PRNG seed (default 0)")
    p.add_argument("--out", help="run folder (default runs/<algo>_<env>)")
    p.add_argument("--checkpoint-every", type=int, help="updates between checkpoints (default: a tenth)")
    p.add_argument("--stop-after", type=int, help="stop after this many updates (resume later)")
    p.add_argument("--env-kwargs", default="{}", help="JSON dict of env parameters")
    # Every PPOConfig field is a flag: --num-envs 16, --lr 2.5e-4, --recurrent true ...
    fields = _ppo_fields()
    for name, field in fields.items():
        kind = type(field.default)
        p.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            default=None,
            type=_parse_bool if kind is bool else kind,
            help=f"PPO {name} (default {field.default})",
        )
    p.set_defaults(func=run, _ppo_fields=list(fields))


def _parse_bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true/false, got {text!r}")


def run(args) -> int:
    import json

    from marljax import runs

    overrides = {k: getattr(args, k) for k in args._ppo_fields if getattr(args, k) is not None}
    out = args.out or f"runs/{args.algo}_{args.env.replace('/', '_')}"
    summary = runs.train(
        args.algo,
        args.env,
        out,
        total_steps=args.total_steps,
        seeds=args.seeds,
        seed=args.seed,
        env_kwargs=json.loads(args.env_kwargs),
        checkpoint_every=args.checkpoint_every,
        stop_after=args.stop_after,
        **overrides,
    )
    state = "finished" if summary["finished"] else f"stopped at update {summary['updates']}/{summary['num_updates']}"
    print(
        f"{state}: {summary['env_steps']:,} env steps per seed, final mean return per agent "
        f"{summary['final_return']:.3f}; run folder {summary['run_dir']}"
    )
    return 0
