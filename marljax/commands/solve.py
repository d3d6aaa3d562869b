"""``marljax solve GAME --solver NAME``: solve a normal-form game and print the equilibrium.

GAME is a catalog name (``marljax.envs.matrix.CATALOG``: prisoners_dilemma, biased_rps, ...) or a
payoff file: ``.npy`` holding a ``[n, A_1..A_n]`` array, or ``.json`` holding that array as
nested lists (or ``{"payoffs": [...]}``). Prints each player's strategy, the expected payoffs and
the NashConv of the answer (plus the value / joint distribution where the solver has one).
"""

from __future__ import annotations

SOLVERS = {
    "zero_sum": "two-player zero-sum LP (value and minimax strategies)",
    "lemke_howson": "two-player general-sum, all starting labels, verified",
    "support_enumeration": "every equilibrium of a small non-degenerate two-player game",
    "fictitious_play": "n players; average of fictitious play",
    "replicator_dynamics": "n players; last iterate of discrete replicator dynamics",
    "projected_replicator_dynamics": "n players; PRD average (PSRO meta-solver)",
    "regret_matching": "n players; average of regret matching",
    "regret_matching_plus": "n players; average of regret matching+",
    "optimistic_mwu": "n players; last iterate of optimistic multiplicative weights",
    "alpharank": "n players; alpha-Rank stationary distribution (marginals)",
    "ce": "n players; max-welfare correlated equilibrium (LP)",
    "cce": "n players; max-welfare coarse correlated equilibrium (LP)",
}


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "solve",
        help="solve a matrix game: equilibrium, payoffs and NashConv",
        description=__doc__.split("\n\n")[1] + "\n\nSolvers: " + "; ".join(f"{k} ({v})" for k, v in SOLVERS.items()),
    )
    p.add_argument("game", metavar="GAME", help="catalog name or a .npy/.json payoff file")
    p.add_argument(
        "--solver",
        default="lemke_howson",
        choices=sorted(SOLVERS),
        metavar="NAME",
        help=f"one of: {', '.join(sorted(SOLVERS))} (default: lemke_howson)",
    )
    p.add_argument("--steps", type=int, default=5000, help="iterations for learning dynamics (default 5000)")
    p.add_argument("--alpha", type=float, default=10.0, help="alpha-Rank ranking intensity ('inf' for the limit)")
    p.add_argument("--population-size", type=int, default=50, help="alpha-Rank population size (default 50)")
    p.set_defaults(func=run)


def load_game(spec: str):
    """A catalog game by name, or the payoff tensor stored in a .npy/.json file."""
    import json
    import pathlib

    import numpy as np

    from marljax.envs.matrix import CATALOG

    if spec in CATALOG:
        return np.asarray(CATALOG[spec]())
    path = pathlib.Path(spec)
    if path.suffix not in (".npy", ".json"):
        raise ValueError(
            f"unknown game {spec!r}: give a catalog name ({', '.join(sorted(CATALOG))}) or a .npy/.json payoff file"
        )
    if not path.exists():
        raise ValueError(f"payoff file {spec} does not exist")
    if path.suffix == ".npy":
        return np.load(path)
    data = json.loads(path.read_text())
    data = data["payoffs"] if isinstance(data, dict) and "payoffs" in data else data
    try:
        return np.asarray(data, dtype=np.float64).astype(np.float32)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{spec} does not hold a rectangular numeric payoff tensor: {err}") from None


def _solve(payoffs, args):
    from marljax import solvers
    from marljax.solvers import correlated, dynamics

    name = args.solver
    if name in ("zero_sum", "lemke_howson", "support_enumeration"):
        return getattr(solvers, name)(payoffs)
    if name == "alpharank":
        return solvers.alpharank(payoffs, alpha=args.alpha, population_size=args.population_size)
    if name in ("ce", "cce"):
        return getattr(correlated, name)(payoffs)
    builders = {
        "fictitious_play": dynamics.fictitious_play,
        "replicator_dynamics": dynamics.replicator_dynamics,
        "projected_replicator_dynamics": dynamics.projected_replicator_dynamics,
        "regret_matching": dynamics.regret_matching,
        "regret_matching_plus": lambda: dynamics.regret_matching(plus=True),
        "optimistic_mwu": dynamics.optimistic_mwu,
    }
    return builders[name]().solve(payoffs, args.steps)


def _vector(v) -> str:
    return "[" + ", ".join(f"{float(x):.6g}" for x in v) + "]"


def run(args) -> int:
    import numpy as np

    from marljax.solvers import nash
    from marljax.solvers.equilibria.support_enumeration import equilibria

    payoffs = load_game(args.game)
    result = _solve(payoffs, args)
    shape = "x".join(str(a) for a in payoffs.shape[1:])
    print(f"game: {args.game} ({payoffs.shape[0]} players, {shape})   solver: {args.solver}")
    profiles = (
        [tuple(p) for p in equilibria(result)] if args.solver == "support_enumeration" else [tuple(result.profile)]
    )
    if hasattr(result, "gap"):
        print("marginals of the correlated equilibrium (played independently):")
    for k, profile in enumerate(profiles):
        if len(profiles) > 1:
            print(f"equilibrium {k + 1} of {len(profiles)}:")
        for i, strategy in enumerate(profile):
            print(f"  player {i + 1} strategy: {_vector(strategy)}")
        print(f"  expected payoffs: {_vector(nash.expected_payoffs(payoffs, profile))}")
        print(f"  NashConv: {float(nash.nash_conv(payoffs, profile)):.3g}")
    if hasattr(result, "value"):
        print(f"value (row player): {float(result.value):.8g}")
    if hasattr(result, "joint"):
        label = "correlated joint distribution" if hasattr(result, "gap") else "empirical joint play"
        print(f"{label}:\n{np.array2string(np.asarray(result.joint), precision=4, suppress_small=True)}")
    if hasattr(result, "gap"):
        print(f"expected payoffs under the joint: {_vector(result.expected_payoffs)}")
        print(f"{args.solver.upper()} gap: {float(result.gap):.3g}")
    if hasattr(result, "stationary"):
        print(
            f"stationary distribution:\n{np.array2string(np.asarray(result.stationary), precision=4, suppress_small=True)}"
        )
    print(f"success: {bool(result.success)}")
    # Exact solvers fail loudly; learning dynamics and alpha-Rank report and exit 0.
    exact = ("zero_sum", "lemke_howson", "support_enumeration", "ce", "cce")
    return 1 if args.solver in exact and not bool(result.success) else 0
