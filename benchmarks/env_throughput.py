"""Env-steps/s of random-action rollouts for every registered env, side by side with peers.

Each measurement is one jitted ``marljax.rollout`` (``lax.scan`` over steps, ``vmap`` over
envs, auto-reset), compiled first and then timed with ``block_until_ready``. Peers (JaxMARL,
VMAS, ...) come from ``benchmarks/peers.py`` when installed (``pip install -e .[bench]``).

    python benchmarks/env_throughput.py                 # every env, 1/64/1024/4096 envs
    python benchmarks/env_throughput.py --envs mpe/SimpleSpread-v0 --num-envs 4096
    python benchmarks/env_throughput.py --family traffic   # a family's own side-by-side report

A family whose peer needs its own harness (highway-env, VMAS football/flocking, swarms scaling in
N) has a ``benchmarks/throughput_<family>.py`` with ``main(argv)``; ``--family`` runs it with
the remaining arguments.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import jax

import marljax

sys.path.insert(0, str(pathlib.Path(__file__).parent))


def marljax_steps_per_second(name: str, num_envs: int, num_steps: int, repeats: int = 3) -> float:
    env = marljax.make(name)
    policy = marljax.random_policy(env)
    key = jax.random.PRNGKey(0)
    run = lambda k: marljax.rollout(env, policy, k, num_envs, num_steps)[1].reward  # noqa: E731
    run(key).block_until_ready()  # compile
    best = float("inf")
    for i in range(repeats):
        tic = time.perf_counter()
        run(jax.random.fold_in(key, i)).block_until_ready()
        best = min(best, time.perf_counter() - tic)
    return num_envs * num_steps / best


def peer_rollouts() -> dict:
    try:
        from peers import PEER_ROLLOUTS
    except ImportError:
        return {}
    return PEER_ROLLOUTS


FAMILIES = ("traffic", "swarms", "soccer", "bridges")


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--family" in argv:
        at = argv.index("--family")
        if at + 1 >= len(argv) or argv[at + 1] not in FAMILIES:
            raise SystemExit(f"--family takes one of {', '.join(FAMILIES)}")
        family, rest = argv[at + 1], argv[:at] + argv[at + 2 :]
        import importlib

        return importlib.import_module(f"throughput_{family}").main(rest)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=FAMILIES, help="run that family's own side-by-side report")
    parser.add_argument("--envs", nargs="*", default=None, help="env names (default: all registered)")
    parser.add_argument("--num-envs", nargs="*", type=int, default=[1, 64, 1024, 4096])
    parser.add_argument("--num-steps", type=int, default=100)
    args = parser.parse_args(argv)
    names = args.envs or marljax.registered()
    peers = peer_rollouts()

    print(f"device: {jax.devices()[0]}  (jax {jax.__version__})   random actions, {args.num_steps} steps/rollout")
    header = f"{'env':<32}" + "".join(f"{n:>14,}" for n in args.num_envs)
    print(header + "   env-steps/s at N parallel envs")
    print("-" * len(header))
    for name in names:
        row = [marljax_steps_per_second(name, n, args.num_steps) for n in args.num_envs]
        print(f"{name:<32}" + "".join(f"{r:>14,.0f}" for r in row), flush=True)
        for peer, fn in peers.get(name, {}).items():
            try:
                peer_row = [fn(n, args.num_steps) for n in args.num_envs]
            except ImportError as err:
                print(f"  {peer:<30}not installed ({err}); pip install -e .[bench]")
                continue
            print(f"  {peer:<30}" + "".join(f"{r:>14,.0f}" for r in peer_row))
            print(f"  {'marljax / ' + peer:<30}" + "".join(f"{m / p:>13.2f}x" for m, p in zip(row, peer_row)))


if __name__ == "__main__":
    main()
