"""``marljax solve GAME --solver NAME``: solve a normal-form game and print the equilibrium.

GAME is a catalog name (``marljax.envs.matrix.CATALOG``: prisoners_dilemma, biased_rps, ...), a
generator with a size (``random_zero_sum:5``), a matrix env (``matrix/StagHunt-v0``) or a payoff
file: ``.npy`` holding a ``[n, A_1..A_n]`` array, or ``.json`` holding that array as nested
lists (or ``{"payoffs": [...]}``). Prints each player's strategy, the expected payoffs and the
NashConv of the answer (plus the value / joint distribution where the solver has one). Every
solver of :mod:`marljax.solvers.registry` is accepted, with each of its options as a flag.
"""

from __future__ import annotations

import argparse
import functools

import numpy as np

from marljax.envs.matrix import load_game
from marljax.solvers import nash, registry
from marljax.solvers.dynamics import DynamicsResult
from marljax.solvers.equilibria.alpharank import AlphaRankResult
from marljax.solvers.equilibria.correlated import CorrelatedResult
from marljax.solvers.equilibria.rae import RAEResult
from marljax.solvers.equilibria.support_enumeration import SupportEnumerationResult, equilibria
from marljax.solvers.equilibria.zero_sum import ZeroSumResult


def add_parser(subparsers) -> None:
    names = registry.solver_names()
    p = subparsers.add_parser(
        "solve",
        help="solve a matrix game: equilibrium, payoffs and NashConv",
        description=__doc__.split("\n\n")[1]
        + "\n\nSolvers: "
        + "; ".join(f"{n} ({registry.get_solver(n).description})" for n in names),
    )
    p.add_argument("game", metavar="GAME", help="catalog name, GENERATOR:SIZE, matrix env, or a .npy/.json file")
    p.add_argument("--solver", default="nash", metavar="NAME", help=f"one of: {', '.join(names)} (default: nash)")
    # Every option of every registered solver is a flag; a solver given one it does not take
    # gets a one-line error from the registry.
    takers: dict[str, list[str]] = {}
    for name in names:
        for option in registry.get_solver(name).defaults:
            takers.setdefault(option, []).append(name)
    for option, solvers in sorted(takers.items()):
        flags = [f"--{option.replace('_', '-')}"] + (["--steps"] if option == "num_steps" else [])
        defaults = sorted({repr(registry.get_solver(s).defaults[option]) for s in solvers})
        p.add_argument(
            *flags,
            dest=option,
            type=_value,
            default=argparse.SUPPRESS,
            metavar="VALUE",
            help=f"option of {', '.join(solvers)} (default {' / '.join(defaults)})",
        )
    p.set_defaults(func=run)


def _value(text: str):
    """A flag's value: an int, a float (``inf`` too), ``none``/``true``/``false``, else the text."""
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            pass
    return {"none": None, "true": True, "false": False}.get(text.lower(), text)


def run(args) -> int:
    spec = registry.get_solver(args.solver)
    given = vars(args)
    options = {
        k: given[k] for name in registry.solver_names() for k in registry.get_solver(name).defaults if k in given
    }
    payoffs = load_game(args.game)
    result = registry.solve(args.solver, payoffs, **options)
    shape = "x".join(str(a) for a in payoffs.shape[1:])
    print(f"game: {args.game} ({payoffs.shape[0]} players, {shape})   solver: {args.solver}")
    for line in describe(result, payoffs):
        print(line)
    print(f"success: {bool(result.success)}")
    # Exact equilibrium solvers fail loudly; iterative ones and alpha-Rank report and exit 0.
    return 1 if spec.exact and spec.certifies != "distribution" and not bool(result.success) else 0


# ------------------------------------------------------------------ output, by result type


def _vector(v) -> str:
    return "[" + ", ".join(f"{float(x):.6g}" for x in v) + "]"


def _array(a) -> str:
    return np.array2string(np.asarray(a), precision=4, suppress_small=True)


def _profile_lines(payoffs, profile) -> list[str]:
    lines = [f"  player {i + 1} strategy: {_vector(s)}" for i, s in enumerate(profile)]
    lines.append(f"  expected payoffs: {_vector(nash.expected_payoffs(payoffs, profile))}")
    lines.append(f"  NashConv: {float(nash.nash_conv(payoffs, profile)):.6g}")
    return lines


@functools.singledispatch
def describe(result, payoffs) -> list[str]:
    """The lines printed for a result: its profile, then what its type adds."""
    return _profile_lines(payoffs, tuple(result.profile))


@describe.register
def _(result: ZeroSumResult, payoffs):
    return _profile_lines(payoffs, tuple(result.profile)) + [f"value (row player): {float(result.value):.8g}"]


@describe.register
def _(result: SupportEnumerationResult, payoffs):
    found = equilibria(result)
    lines = []
    for k, profile in enumerate(found):
        lines.append(f"equilibrium {k + 1} of {len(found)}:")
        lines += _profile_lines(payoffs, profile)
    return lines or ["no equilibrium found (the game may be degenerate: try lemke_howson)"]


@describe.register
def _(result: CorrelatedResult, payoffs):
    return [
        "marginals of the correlated equilibrium (played independently):",
        *_profile_lines(payoffs, tuple(result.profile)),
        f"correlated joint distribution:\n{_array(result.joint)}",
        f"expected payoffs under the joint: {_vector(result.expected_payoffs)}",
        f"gap: {float(result.gap):.3g}",
    ]


@describe.register
def _(result: DynamicsResult, payoffs):
    return [*_profile_lines(payoffs, tuple(result.profile)), f"empirical joint play:\n{_array(result.joint)}"]


@describe.register
def _(result: AlphaRankResult, payoffs):
    return [*_profile_lines(payoffs, tuple(result.profile)), f"stationary distribution:\n{_array(result.stationary)}"]


@describe.register
def _(result: RAEResult, payoffs):
    return [
        *_profile_lines(payoffs, tuple(result.profile)),
        f"RA-gap: {float(result.ra_gap):.3g}",
        f"reward variance: {_vector(result.variance)}",
    ]
