"""``marljax envs``: list the registered environments (``--family jaxmarl``: the JaxMARL envs the bridge wraps)."""

BRIDGED_FAMILIES = ("jaxmarl",)  # built on demand by marljax.bridges, not listed by registered()


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "envs",
        help="list registered environments",
        description="List every registered env with a one-line description (--verbose: its options and metrics). "
        "--family jaxmarl lists the JaxMARL envs that marljax.make('jaxmarl/<name>') wraps.",
    )
    p.add_argument("--family", help="only envs of this family (e.g. matrix, mpe, jaxmarl)")
    p.add_argument("--verbose", "-v", action="store_true", help="also list each env's options and metrics")
    p.set_defaults(func=run)


def run(args) -> int:
    from marljax.registry import describe, env_metrics, env_options, registered

    if args.family == "jaxmarl":
        from marljax.bridges.jaxmarl import PREFIX, jaxmarl_env_names

        names = [PREFIX + n for n in jaxmarl_env_names()]
    else:
        names = [n for n in registered() if args.family is None or n.split("/")[0] == args.family]
    if not names:
        families = sorted({n.split("/")[0] for n in registered()} | set(BRIDGED_FAMILIES))
        raise ValueError(f"no env of family {args.family!r}; families: {families}")
    width = max(len(n) for n in names)
    for name in names:
        print(f"{name:<{width}}  {describe(name)}")
        if args.verbose:
            options = ", ".join(f"{k}={v!r}" for k, v in env_options(name).items())
            print(f"{'':<{width}}  options: {options or '-'}")
            metrics = ", ".join(f"{k} ({how})" for k, how in env_metrics(name).items())
            print(f"{'':<{width}}  metrics: {metrics or '-'}")
    return 0
