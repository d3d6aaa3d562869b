"""``marljax psro GAME``: run PSRO on a game and write its summary, curves and population.

GAME is anything :func:`marljax.envs.matrix.load_game` reads: a catalog game
(``high_risk_game``, ``stag_hunt``, ``biased_rps``...), a generator with a size
(``random_symmetric_zero_sum:100``, ``spinning_top_game:50``...), a registered matrix env
(``matrix/StagHunt-v0``) or a ``.npy``/``.json`` payoff file. Writes into ``--out`` (see
:func:`marljax.solvers.psro.report.write_report`): ``summary.json`` (final exploitability,
meta-strategies, population sizes, success), ``population.json`` (the populations and the
meta-strategy and NashConv of every iteration), ``exploitability.png`` and ``meta_strategy.png``.

    marljax psro high_risk_game --meta-solver rae --gamma 0.5 --iterations 10
    marljax psro random_symmetric_zero_sum:100 --meta-solver nash --iterations 100
    marljax psro matrix/StagHunt-v0 --oracle ppo --iterations 3    # PPO best responses

    marljax psro traffic/TwoWay-v0 --oracle ppo --meta-solver rae --iterations 4   # crash rates

With ``--oracle ppo`` GAME is a registered two-team env; ``summary.json`` also holds the final
meta-strategy profile's action frequencies, team returns and env metrics (played on
``--eval-episodes`` fresh episodes), and the env metrics of the meta-strategy at every
iteration; ``metrics.png`` plots them (crash rate...) beside the exploitability estimate, and
the population is written as ``population.msgpack`` (flax serialization of the actor
parameters, leaves ``[2, K, ...]``).
"""

from __future__ import annotations


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "psro",
        help="run PSRO (exact or PPO best responses); write summary, curves and population",
        description=__doc__.split("\n\n")[0] + " " + __doc__.split("\n\n")[1],
    )
    p.add_argument("game", help="catalog game, GENERATOR:SIZE, matrix env, .npy/.json file (--oracle ppo: an env)")
    from marljax.solvers.psro.meta_solvers import meta_solver_names

    p.add_argument("--meta-solver", default="nash", help=f"one of: {', '.join(meta_solver_names())} (default nash)")
    p.add_argument(
        "--gamma", type=float, default=None, help="risk aversion of the rae meta-solver (its default if unset)"
    )
    p.add_argument("--iterations", type=int, default=20, help="PSRO iterations (default 20)")
    p.add_argument("--max-population", type=int, default=None, help="population budget (default iterations + 1)")
    p.add_argument("--seed", type=int, default=0, help="PRNG seed for generated games and PPO (default 0)")
    p.add_argument("--out", default="results/psro", help="output folder (default results/psro)")
    p.add_argument(
        "--oracle",
        choices=["exact", "ppo"],
        default="exact",
        help="exact best responses (normal-form games) or PPO best responses (two-team envs)",
    )
    p.add_argument("--ppo-steps", type=int, default=16_384, help="env steps per PPO best response (default 16384)")
    p.add_argument("--sims-per-entry", type=int, default=None, help="--oracle ppo: episodes per meta-game entry")
    p.add_argument("--eval-episodes", type=int, default=None, help="--oracle ppo: episodes playing the final mixture")
    p.add_argument(
        "--env-kwargs", default=None, help="--oracle ppo: JSON dict of env parameters, e.g. '{\"team_size\": 1}'"
    )
    p.add_argument(
        "--devices",
        type=int,
        default=None,
        help="--oracle ppo: devices the PPO env batch and the meta-game entries are split over (default: all)",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    import jax

    from marljax.sharding import check_num_devices
    from marljax.solvers.psro.report import write_report

    args.devices = check_num_devices(jax.device_count() if args.devices is None else args.devices)
    for flag in ("env_kwargs", "sims_per_entry", "eval_episodes"):
        if getattr(args, flag, None) is not None and args.oracle != "ppo":
            raise ValueError(f"--{flag.replace('_', '-')} configures the PPO oracle's env games; it needs --oracle ppo")
    options = {} if args.gamma is None else {"gamma": args.gamma}
    result = run_with_ppo_oracle(args, options) if args.oracle == "ppo" else run_with_exact_oracle(args, options)
    title = f"PSRO-{args.meta_solver} on {args.game}" + "".join(f" ({k}={v})" for k, v in options.items())
    context = {"game": args.game, "oracle": args.oracle, "meta_solver": args.meta_solver, **options}
    paths = write_report(result, args.out, title, iterations=args.iterations, **context)
    print(
        f"exploitability {float(result.nash_conv):.4g} (success: {bool(result.success)}) after {args.iterations} "
        f"iterations; population sizes {result.state.sizes.tolist()}; wrote {', '.join(str(p) for p in paths)}"
    )
    return 0


def run_with_exact_oracle(args, options):
    from marljax.envs.matrix import load_game
    from marljax.solvers import psro

    payoffs = load_game(args.game, args.seed)
    return psro.run(payoffs, args.meta_solver, args.iterations, args.max_population, progress=True, **options)


def run_with_ppo_oracle(args, options):
    import dataclasses

    import jax

    import marljax
    from marljax.commands.train import parse_env_kwargs
    from marljax.solvers import psro_rl

    base = psro_rl.RLOracleConfig()
    config = dataclasses.replace(base, ppo=dataclasses.replace(base.ppo, total_steps=args.ppo_steps))
    for name in ("sims_per_entry", "eval_episodes"):
        if getattr(args, name, None) is not None:
            config = dataclasses.replace(config, **{name: getattr(args, name)})
    env = marljax.make(args.game, **parse_env_kwargs(args.env_kwargs or "{}"))
    if env.num_agents < 2:
        raise ValueError(
            f"--oracle ppo plays two teams, but {args.game} has {env.num_agents} agent(s); "
            "pick an env with two teams (e.g. traffic/TwoWay-v0 with players=2)"
        )
    from marljax.sharding import batch_mesh

    return psro_rl.run_rl_psro(
        env,
        args.meta_solver,
        args.iterations,
        jax.random.PRNGKey(args.seed),
        config,
        args.max_population,
        progress=True,
        mesh=batch_mesh(args.devices) if args.devices > 1 else None,
        **options,
    )
