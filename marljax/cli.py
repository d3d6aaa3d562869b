"""The ``marljax`` command line: ``marljax --help`` lists the subcommands.

Each subcommand lives in its own module under ``marljax.commands`` and exposes
``add_parser(subparsers)``, which registers its flags and sets ``func(args) -> int``.
Modules import JAX lazily so that ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = [
    "marljax.commands.demo",
    "marljax.commands.envs",
    "marljax.commands.train",
    "marljax.commands.eval",
    "marljax.commands.psro",
    "marljax.commands.solve",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="marljax",
        description="Multi-agent game theory and MARL in JAX.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        importlib.import_module(module).add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, KeyError) as err:  # bad input: a clear message, not a traceback
        print(f"marljax {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
