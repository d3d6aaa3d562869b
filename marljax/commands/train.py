"""``marljax train ALGO ENV``: train a registered learner into a run folder (resumes if it exists).

Every registered learner (:mod:`marljax.solvers.learners.registry`) gets its own sub-command,
whose flags are the fields of its config dataclass: ``marljax train ippo --help`` lists IPPO's.
"""

from __future__ import annotations

import argparse
import dataclasses
import json

EPILOG = (
    "The run folder holds config.json, metrics.csv (one row per update and seed), learning_curve.png "
    "and the latest checkpoints. Running the same command again resumes from the last checkpoint, "
    "also after a crash or a kill; the resumed metrics equal an uninterrupted run's."
)


def add_parser(subparsers) -> None:
    from marljax.solvers.learners.registry import get_learner, learner_names

    p = subparsers.add_parser(
        "train",
        help="train a MARL learner (see `marljax train --help`) and write a run folder",
        description="Train ALGO on ENV for --total-steps env steps over --seeds seeds (vmapped). "
        "`marljax train ALGO --help` lists ALGO's flags.",
        epilog=EPILOG,
    )
    algos = p.add_subparsers(dest="algo", metavar="ALGO", required=True, title="learners")
    for name in learner_names():
        spec = get_learner(name)
        sub = algos.add_parser(
            name,
            help=spec.description,
            description=f"{spec.description}.\n\nTrains {name} on ENV; every field of its config is a flag.",
            epilog=EPILOG,
            parents=[_common_flags()],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        fields = spec.flag_fields()
        group = sub.add_argument_group(f"{name} config ({spec.config_class.__name__})")
        for field in fields:
            group.add_argument(
                f"--{field.name.replace('_', '-')}",
                dest=field.name,
                default=None,
                type=_flag_type(field),
                help=f"(default {_default(field)})",
            )
        sub.set_defaults(func=run, _config_fields=[f.name for f in fields])


def _common_flags() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("env", help="registered env name, e.g. mpe/SimpleSpread-v0 (`marljax envs` lists them)")
    group = common.add_argument_group("run")
    group.add_argument("--total-steps", type=float, default=1e6, help="env steps per seed (default 1e6)")
    group.add_argument("--seeds", type=int, default=1, help="seeds trained at once with vmap (default 1)")
    group.add_argument("--seed", type=int, default=0, help="PRNG seed (default 0)")
    group.add_argument("--out", help="run folder (default runs/<algo>_<env>)")
    group.add_argument("--checkpoint-every", type=int, help="updates between checkpoints (default: a tenth)")
    group.add_argument(
        "--keep-checkpoints",
        type=int,
        default=2,
        help="latest checkpoints kept (default 2; more for explain --over-training)",
    )
    group.add_argument(
        "--stop-after", type=int, help="stop at the checkpoint that reaches this many updates (resume later)"
    )
    group.add_argument("--env-kwargs", default="{}", help="JSON dict of env parameters, e.g. '{\"num_agents\": 4}'")
    group.add_argument("--no-progress", action="store_true", help="no progress bar")
    group.add_argument(
        "--devices",
        type=int,
        default=None,
        help="devices to train on (default: all JAX sees); split over the seeds if it divides them, else over "
        "the env batch",
    )
    return common


def _default(field: dataclasses.Field):
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return "required"


def _flag_type(field: dataclasses.Field):
    """bool fields take true/false; tuples and None defaults JSON; the rest the default's type."""
    default = _default(field)
    if isinstance(default, bool):
        return _parse_bool
    if isinstance(default, (int, float, str)):
        return type(default)
    return _parse_json


def _parse_bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


def _parse_json(text: str):
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise argparse.ArgumentTypeError(f"expected a JSON value, got {text!r}") from None
    return tuple(value) if isinstance(value, list) else value


def parse_env_kwargs(text: str) -> dict:
    """``--env-kwargs`` as a dict, or one clear ``ValueError``."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"--env-kwargs must be a JSON object such as '{{\"num_agents\": 4}}'; got {text!r} ({err})")
    if not isinstance(value, dict):
        raise ValueError(f"--env-kwargs must be a JSON object such as '{{\"num_agents\": 4}}'; got {text!r}")
    return value


def run(args) -> int:
    from marljax import runs

    overrides = {k: getattr(args, k) for k in args._config_fields if getattr(args, k) is not None}
    out = args.out or f"runs/{args.algo}_{args.env.replace('/', '_')}"
    summary = runs.train(
        args.algo,
        args.env,
        out,
        total_steps=args.total_steps,
        seeds=args.seeds,
        seed=args.seed,
        env_kwargs=parse_env_kwargs(args.env_kwargs),
        checkpoint_every=args.checkpoint_every,
        stop_after=args.stop_after,
        progress=not args.no_progress,
        keep_checkpoints=args.keep_checkpoints,
        devices=args.devices,
        **overrides,
    )
    state = "finished" if summary["finished"] else f"stopped at update {summary['updates']}/{summary['num_updates']}"
    final = "n/a" if summary["final_return"] is None else f"{summary['final_return']:.3f}"
    print(
        f"{state}: {summary['env_steps']:,} env steps per seed, final mean return per agent {final}; "
        f"run folder {summary['run_dir']}"
    )
    return 0
