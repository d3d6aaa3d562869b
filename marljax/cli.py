"""The ``marljax`` command line: ``marljax --help`` lists the subcommands.

Each subcommand lives in its own module under ``marljax.commands`` and exposes
``add_parser(subparsers)``, which registers its flags and sets ``func(args) -> int``.
Heavy imports stay inside the functions that need them. Library errors (bad input, a
bad run folder) print one line and exit 2; ``marljax --debug ...`` shows the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

COMMAND_MODULES = [
    "marljax.commands.demo",
    "marljax.commands.envs",
    "marljax.commands.train",
    "marljax.commands.eval",
    "marljax.commands.explain",
    "marljax.commands.psro",
    "marljax.commands.solve",
]


#: Errors that mean bad input, a bad run folder or an unsupported request (e.g. rendering an env that
#: cannot render): the CLI prints them as one line (exit 2).
USER_ERRORS = (ValueError, KeyError, TypeError, OSError, NotImplementedError)
#: Longest message printed without --debug (tensorstore and friends can write kilobytes).
MAX_MESSAGE = 400


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="marljax",
        description="Multi-agent game theory and MARL in JAX.",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the full traceback of an error (also: MARLJAX_DEBUG=1)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        importlib.import_module(module).add_parser(subparsers)
    return parser


def one_line(err: BaseException) -> str:
    """The error's message on one line, cut to :data:`MAX_MESSAGE` characters."""
    text = " ".join(str(err).split()) or type(err).__name__
    if type(err) is KeyError and len(err.args) == 1:  # a bare dict lookup; subclasses carry a message
        text = f"unknown key {err.args[0]!r}"
    elif isinstance(err, KeyError) and len(err.args) == 1 and isinstance(err.args[0], str):
        text = " ".join(err.args[0].split())  # KeyError's str() would quote the message
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 30].rstrip() + " ... (--debug for the rest)"
    return text


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand. Bad input exits 2 with one line on stderr, Ctrl-C exits 130 with
    one line (saying how to resume where the command can); ``--debug`` re-raises instead."""
    args = build_parser().parse_args(argv)
    debug = args.debug or os.environ.get("MARLJAX_DEBUG", "") not in ("", "0")
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt as err:
        if debug:
            raise
        hint = one_line(err) if str(err) else "stopped"
        print(f"marljax {args.command}: interrupted: {hint}", file=sys.stderr)
        return 130
    except USER_ERRORS as err:
        if debug:
            raise
        print(f"marljax {args.command}: error: {one_line(err)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
