"""``marljax envs``: list the registered environments."""


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "envs",
        help="list registered environments",
        description="List every registered env with a one-line description.",
    )
    p.add_argument("--family", help="only envs of this family (e.g. matrix, mpe)")
    p.set_defaults(func=run)


def run(args) -> int:
    from marljax.registry import describe, registered

    names = [n for n in registered() if args.family is None or n.split("/")[0] == args.family]
    if not names:
        raise ValueError(
            f"no env of family {args.family!r}; families: {sorted({n.split('/')[0] for n in registered()})}"
        )
    width = max(len(n) for n in names)
    for name in names:
        print(f"{name:<{width}}  {describe(name)}")
    return 0
