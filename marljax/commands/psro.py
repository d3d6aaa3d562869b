"""``marljax psro GAME``: run PSRO on a normal-form game and write its curves and population.

GAME is a catalog game (``high_risk_game``, ``stag_hunt``, ``biased_rps``...), a generator with
a size (``random_symmetric_zero_sum:100``, ``spinning_top_game:50``, ``disc_game:30``...), or a
registered matrix env (``matrix/StagHunt-v0``: its payoff tensor). Writes into ``--out``:
``exploitability.png`` (NashConv of the meta-strategy per iteration), ``meta_strategy.png`` (the
mixture over actions it induces, per iteration and player), and ``population.json`` (the
populations, the meta-strategy per iteration and the curve).

    marljax psro high_risk_game --meta-solver rae --gamma 0.5 --iterations 10
    marljax psro random_symmetric_zero_sum:100 --meta-solver nash --iterations 100
    marljax psro matrix/StagHunt-v0 --oracle ppo --iterations 3    # PPO best responses

With ``--oracle ppo`` GAME is a registered two-team env; the population is written as
``population.msgpack`` (flax serialization of the actor parameters, leaves ``[2, K, ...]``).
"""

from __future__ import annotations


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "psro",
        help="run PSRO (exact best responses) on a normal-form game; write curves and population",
        description=__doc__.split("\n\n")[0] + " " + __doc__.split("\n\n")[1],
    )
    p.add_argument("game", help="catalog game, GENERATOR:SIZE, or a matrix env name")
    p.add_argument("--meta-solver", default="nash", help="uniform, nash, rae, prd, alpharank, ce (default nash)")
    p.add_argument("--gamma", type=float, default=None, help="risk aversion of the rae meta-solver (default 0.5)")
    p.add_argument("--iterations", type=int, default=20, help="PSRO iterations (default 20)")
    p.add_argument("--max-population", type=int, default=None, help="population budget (default iterations + 1)")
    p.add_argument("--seed", type=int, default=0, help="PRNG seed for generated games (default 0)")
    p.add_argument("--out", default="results/psro", help="output folder (default results/psro)")
    p.add_argument(
        "--oracle",
        choices=["exact", "ppo"],
        default="exact",
        help="exact best responses (normal-form games) or PPO best responses (two-team envs)",
    )
    p.add_argument("--ppo-steps", type=int, default=16_384, help="env steps per PPO best response (default 16384)")
    p.set_defaults(func=run)


def load_game(spec: str, seed: int = 0):
    """A payoff tensor from a catalog name, ``generator:size`` or a registered matrix env."""
    import jax

    from marljax.envs.matrix import CATALOG, games

    if "/" in spec:
        import marljax

        env = marljax.make(spec)
        if not hasattr(env, "payoffs"):
            raise ValueError(f"env {spec!r} is not a matrix game; PSRO's exact oracle needs a payoff tensor")
        return env.payoffs
    if spec in CATALOG:
        return CATALOG[spec]()
    name, _, size = spec.partition(":")
    generators = {
        g: getattr(games, g)
        for g in ("random_symmetric_zero_sum", "transitive_game", "cyclic_game", "disc_game", "spinning_top_game")
    }
    generators.update({g.removesuffix("_game"): f for g, f in list(generators.items())})
    if name in generators and size.isdigit():
        return generators[name](jax.random.PRNGKey(seed), int(size))
    raise ValueError(
        f"unknown game {spec!r}; catalog games: {sorted(CATALOG)}; generators (as NAME:SIZE): "
        f"{sorted(generators)}; or a matrix env such as matrix/StagHunt-v0"
    )


def run(args) -> int:
    import json
    import pathlib

    import numpy as np

    from marljax.solvers import psro

    options = {}
    if args.meta_solver == "rae":
        options["gamma"] = 0.5 if args.gamma is None else args.gamma
    elif args.gamma is not None:
        raise ValueError(f"--gamma is an option of the rae meta-solver, not of {args.meta_solver!r}")
    if args.oracle == "ppo":
        return run_with_ppo_oracle(args, options)
    payoffs = load_game(args.game, args.seed)
    result = psro.run(payoffs, args.meta_solver, args.iterations, args.max_population, progress=True, **options)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    curve = np.append(np.asarray(result.metrics.exploitability), float(result.exploitability))
    mixtures = induced_mixtures(result, payoffs.shape[1:])
    title = f"PSRO-{args.meta_solver} on {args.game}" + (f" (gamma={options['gamma']})" if options else "")
    plot_exploitability({args.meta_solver: curve}, out / "exploitability.png", title)
    plot_meta_strategies(mixtures, out / "meta_strategy.png", title)
    sizes = np.asarray(result.state.sizes)
    record = {
        "game": args.game,
        "meta_solver": args.meta_solver,
        **options,
        "iterations": args.iterations,
        "population": [np.asarray(result.state.population)[i, : sizes[i]].tolist() for i in range(len(sizes))],
        "final_meta_strategy": [np.asarray(result.meta_strategy)[i, : sizes[i]].tolist() for i in range(len(sizes))],
        "final_profile": [np.asarray(p).tolist() for p in result.profile],
        "exploitability": curve.tolist(),
        "meta_strategy_per_iteration": [m.tolist() for m in mixtures],
    }
    (out / "population.json").write_text(json.dumps(record, indent=1))
    print(
        f"NashConv {curve[0]:.4g} -> {curve[-1]:.4g} after {args.iterations} iterations; "
        f"population sizes {sizes.tolist()}; wrote {out}/exploitability.png, meta_strategy.png, population.json"
    )
    return 0


def run_with_ppo_oracle(args, options) -> int:
    """PSRO with PPO best responses on a registered two-team env."""
    import dataclasses
    import json
    import pathlib

    import jax
    import numpy as np
    from flax import serialization

    import marljax
    from marljax.solvers import psro_rl

    env = marljax.make(args.game)
    base = psro_rl.RLOracleConfig()
    config = dataclasses.replace(base, ppo=dataclasses.replace(base.ppo, total_steps=args.ppo_steps))
    state, metrics, sigma, frequencies = psro_rl.run_rl_psro(
        env,
        args.meta_solver,
        args.iterations,
        jax.random.PRNGKey(args.seed),
        config,
        args.max_population,
        progress=True,
        **options,
    )
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    curve = np.asarray(metrics.exploitability)
    title = f"PSRO-{args.meta_solver} (PPO oracle) on {args.game}"
    plot_exploitability({args.meta_solver: np.abs(curve)}, out / "exploitability.png", title)
    strategies = np.concatenate([np.asarray(metrics.meta_strategy), np.asarray(sigma)[None]])
    plot_meta_strategies(
        [strategies[:, t] for t in range(2)], out / "meta_strategy.png", title, ylabel="policy (population slot)"
    )
    (out / "population.msgpack").write_bytes(serialization.to_bytes(jax.device_get(state.actors)))
    record = {
        "env": args.game,
        "meta_solver": args.meta_solver,
        **options,
        "iterations": args.iterations,
        "population_sizes": np.asarray(state.sizes).tolist(),
        "meta_game": np.asarray(state.meta_payoffs).tolist(),
        "meta_strategy_per_iteration": strategies.tolist(),
        "exploitability": curve.tolist(),
        "action_frequencies": np.asarray(frequencies).tolist(),
    }
    (out / "population.json").write_text(json.dumps(record, indent=1))
    print(
        f"exploitability {curve[0]:.4g} -> {curve[-1]:.4g}; action frequencies {np.asarray(frequencies, float).round(3).tolist()}; "
        f"wrote {out}/exploitability.png, meta_strategy.png, population.json, population.msgpack"
    )
    return 0


def induced_mixtures(result, num_actions) -> list:
    """Per player ``[iterations + 1, A_i]``: the mixture over actions the meta-strategy induced
    at each iteration (the last row is the final population's)."""
    import numpy as np

    # Slots are filled in order and never change, and empty slots carry no weight, so the final
    # population tells what every iteration's slots held.
    population = np.asarray(result.state.population)
    sigma = np.concatenate([np.asarray(result.metrics.meta_strategy), np.asarray(result.meta_strategy)[None]])
    out = []
    for i, a in enumerate(num_actions):
        mix = np.zeros((sigma.shape[0], a))
        for slot in range(population.shape[1]):
            np.add.at(mix, (slice(None), population[i, slot]), sigma[:, i, slot])
        out.append(mix)
    return out


def plot_exploitability(curves: dict, path, title: str):
    import numpy as np

    from marljax.viz import plot_curves

    floored = {k: (np.arange(len(v)), np.maximum(v, 1e-12)) for k, v in curves.items()}
    return plot_curves(floored, path, "PSRO iteration", "NashConv of the meta-strategy", title, logy=True)


def plot_meta_strategies(mixtures: list, path, title: str, action_names=None, ylabel: str = "action"):
    """One panel per player: a distribution (rows: actions or policies) per iteration (columns)."""
    import matplotlib.pyplot as plt

    from marljax.viz import save_figure

    fig, axes = plt.subplots(1, len(mixtures), figsize=(4.5 * len(mixtures), 3.6), squeeze=False)
    for i, (ax, mix) in enumerate(zip(axes[0], mixtures)):
        im = ax.imshow(
            mix.T, aspect="auto", origin="lower", cmap="viridis", vmin=0.0, vmax=1.0, interpolation="nearest"
        )
        ax.set_xlabel("PSRO iteration")
        ax.set_ylabel(ylabel)
        if action_names is not None:
            ax.set_yticks(range(len(action_names[i])), action_names[i])
        ax.set_title(f"player {i + 1}")
    fig.colorbar(im, ax=axes[0].tolist(), label="probability")
    fig.suptitle(title)
    return save_figure(fig, path)
