"""``marljax demo``: an end-to-end tour of the library that writes results and plots.

The tour is a list of sections (modules under :mod:`marljax.demos`, each with
``run(out_dir, key) -> dict``); every section writes its own PNGs into the results folder and
returns figures that end up in ``results.json``. It runs on the CPU in a few minutes.
"""

SECTIONS = [
    "marljax.demos.matrix_games",
    "marljax.demos.solvers",
    "marljax.demos.psro",
    "marljax.demos.ippo",
    "marljax.demos.traffic",
    "marljax.demos.swarms",
    "marljax.demos.mfc",
    "marljax.demos.soccer",
    "marljax.demos.bnac",
    "marljax.demos.shapley",
]


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "demo",
        help="run the end-to-end tour and write a results folder",
        description="Run every demo section; write results.json and PNG plots to --out.",
    )
    p.add_argument("--out", default="results/demo", help="results folder (default: results/demo)")
    p.add_argument("--seed", type=int, default=0, help="PRNG seed (default: 0)")
    p.add_argument("--only", nargs="*", help="run only these sections (by short name)")
    p.set_defaults(func=run)


def run(args) -> int:
    import importlib
    import json
    import pathlib
    import time

    import jax

    from marljax.progress import ProgressBar

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = [m for m in SECTIONS if not args.only or m.rsplit(".", 1)[-1] in args.only]
    if not names:
        raise ValueError(f"--only matched no section; sections: {[m.rsplit('.', 1)[-1] for m in SECTIONS]}")
    results = {"device": str(jax.devices()[0]), "sections": {}}
    keys = jax.random.split(jax.random.PRNGKey(args.seed), len(names))
    start = time.perf_counter()
    with ProgressBar(len(names), "marljax demo", unit="section") as bar:
        for module, key in zip(names, keys):
            short = module.rsplit(".", 1)[-1]
            tic = time.perf_counter()
            section = importlib.import_module(module).run(out, key)
            section["seconds"] = round(time.perf_counter() - tic, 2)
            results["sections"][short] = section
            bar.write(f"[{short}] " + ", ".join(f"{k}={v}" for k, v in section.get("summary", {}).items()))
            bar.update()
    results["total_seconds"] = round(time.perf_counter() - start, 2)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(f"wrote {out / 'results.json'} and {len(list(out.glob('*.png')))} plots in {results['total_seconds']} s")
    return 0
