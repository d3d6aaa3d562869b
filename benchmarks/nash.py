"""marljax's Nash solvers side by side with nashpy (and scipy's HiGHS LP), in one run.

1. Lemke-Howson on seeded random general-sum games (payoffs uniform in [0, 1)):
   marljax ``nash.lemke_howson`` (all m + n labels vmapped, verified) vs nashpy's
   ``Game.lemke_howson`` (label 0, lexicographic), the latter in a child process with a
   per-game timeout (``--timeout``, default 20 s). A game counts as solved when the answer's
   NashConv <= 1e-6 x payoff range; timeouts and errors count as failures.
2. Zero-sum: marljax ``nash.zero_sum`` vs nashpy's ``Game.linear_program`` and scipy
   ``linprog(method="highs")`` on random zero-sum games; max |value difference| vs HiGHS.
3. Batched throughput: games per second for ``--batch`` (default 1,000) 20x20 games in one
   vmapped call (marljax), vs nashpy solving them one after the other (a sample, timed).
4. Every registered solver's public call (``marljax.solvers.registry.solve(name, game)``, which
   validates and calls the solver's public function) on ``--public-size`` games: the first call
   (it compiles) and the median of later calls on other games of the same shape (they must not).

Timings of sections 1-2 are medians of per-game wall-clock times of the public call
(``nash.lemke_howson(game)``, ``nash.zero_sum(game)``) after its one compilation per shape. Run:
``python benchmarks/nash.py`` (add ``--quick`` for a smoke run).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from marljax.envs.matrix import games
from marljax.solvers import nash, registry


def nash_conv64(a: np.ndarray, b: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """Exact NashConv in float64 numpy (the same check for both libraries)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return float(np.max(a @ y) - x @ a @ y + np.max(x @ b) - x @ b @ y)


def _nashpy_lh(a, b, queue) -> None:
    import warnings

    import nashpy

    warnings.simplefilter("ignore")  # nashpy's tableau divides by zero on degenerate steps

    tic = time.perf_counter()
    try:
        x, y = nashpy.Game(a, b).lemke_howson(initial_dropped_label=0)
        queue.put(("ok", x, y, time.perf_counter() - tic))
    except Exception as err:  # noqa: BLE001 -- any nashpy failure counts as a failure
        queue.put(("error", repr(err), None, time.perf_counter() - tic))


def nashpy_lemke_howson(a: np.ndarray, b: np.ndarray, timeout: float):
    """(solved, seconds, outcome) for nashpy's LH in a child process killed after ``timeout``."""
    context = mp.get_context("spawn")  # no fork of a multithreaded JAX process
    queue = context.Queue()
    proc = context.Process(target=_nashpy_lh, args=(a, b, queue))
    proc.start()
    proc.join(timeout)
    if proc.is_alive():
        proc.terminate()
        proc.join()
        return False, timeout, "timeout"
    status, x, y, seconds = queue.get()
    if status != "ok" or np.any(~np.isfinite(x)) or len(x) != a.shape[0]:
        return False, seconds, "error"
    ok = nash_conv64(a, b, x, y) <= 1e-6 * (max(a.max(), b.max()) - min(a.min(), b.min()))
    return ok, seconds, "ok" if ok else "not an equilibrium"


def bench_lemke_howson(sizes, num_games, timeout):
    rows = []
    for size in sizes:
        keys = jax.random.split(jax.random.PRNGKey(size), num_games)
        batch = np.asarray(jax.vmap(lambda k: games.random_general_sum(k, (size, size)))(keys), np.float64)
        solve = nash.lemke_howson  # the public call: validated, compiled once per shape
        jax.block_until_ready(solve(jnp.asarray(batch[0], jnp.float32)))
        ours_ok, ours_t, theirs_ok, theirs_t, outcomes = 0, [], 0, [], {}
        for g in batch:
            game32 = jnp.asarray(g, jnp.float32)
            tic = time.perf_counter()
            result = jax.block_until_ready(solve(game32))
            ours_t.append(time.perf_counter() - tic)
            a32, b32 = (np.asarray(m, np.float32).astype(np.float64) for m in g)
            ours_ok += bool(result.success) and nash_conv64(a32, b32, *result.profile) <= 1e-6
            ok, seconds, outcome = nashpy_lemke_howson(a32, b32, timeout)
            theirs_ok += ok
            theirs_t.append(seconds)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        rows.append(
            (size, num_games, ours_ok, statistics.median(ours_t), theirs_ok, statistics.median(theirs_t), outcomes)
        )
        print(
            f"  LH {size}x{size}: marljax {ours_ok}/{num_games} in median {statistics.median(ours_t) * 1e3:.1f} ms; "
            f"nashpy {theirs_ok}/{num_games} in median {statistics.median(theirs_t) * 1e3:.1f} ms {outcomes}",
            flush=True,
        )
    return rows


def bench_zero_sum(sizes, num_games):
    import nashpy
    from scipy.optimize import linprog

    def highs(a):
        m, n = a.shape
        tic = time.perf_counter()
        res = linprog(
            np.r_[np.zeros(m), -1.0],
            A_ub=np.c_[-a.T, np.ones(n)],
            b_ub=np.zeros(n),
            A_eq=np.r_[np.ones(m), 0.0][None],
            b_eq=[1.0],
            bounds=[(0, None)] * m + [(None, None)],
            method="highs",
        )
        return -res.fun, time.perf_counter() - tic

    rows = []
    for size in sizes:
        keys = jax.random.split(jax.random.PRNGKey(1000 + size), num_games)
        batch = jax.vmap(lambda k: games.random_zero_sum(k, (size, size)))(keys)
        solve = nash.zero_sum  # the public call: validated, compiled once per shape
        jax.block_until_ready(solve(batch[0]))
        ours_t, np_t, hi_t, max_err, ours_ok, np_ok = [], [], [], 0.0, 0, 0
        for g in batch:
            tic = time.perf_counter()
            result = jax.block_until_ready(solve(g))
            ours_t.append(time.perf_counter() - tic)
            a = np.asarray(g[0], np.float64)
            value, seconds = highs(a)
            hi_t.append(seconds)
            max_err = max(max_err, abs(float(result.value) - value))
            ours_ok += bool(result.success)
            tic = time.perf_counter()
            x, y = nashpy.Game(a).linear_program()
            np_t.append(time.perf_counter() - tic)
            np_ok += nash_conv64(a, -a, x, y) <= 1e-6 * (a.max() - a.min())
        rows.append(
            (
                size,
                num_games,
                ours_ok,
                statistics.median(ours_t),
                np_ok,
                statistics.median(np_t),
                statistics.median(hi_t),
                max_err,
            )
        )
        print(
            f"  zero-sum {size}x{size}: marljax {ours_ok}/{num_games} median {statistics.median(ours_t) * 1e3:.1f} ms "
            f"(|value - HiGHS| <= {max_err:.1e}); nashpy LP {np_ok}/{num_games} "
            f"{statistics.median(np_t) * 1e3:.1f} ms; HiGHS {statistics.median(hi_t) * 1e3:.1f} ms",
            flush=True,
        )
    return rows


def bench_batched(num_games, sample, timeout):
    keys = jax.random.split(jax.random.PRNGKey(20), num_games)
    batch = jax.vmap(lambda k: games.random_general_sum(k, (20, 20)))(keys)
    zs_batch = jax.vmap(lambda k: games.random_zero_sum(k, (20, 20)))(keys)
    out = {}
    for name, fn, data in (("lemke_howson", nash.lemke_howson, batch), ("zero_sum", nash.zero_sum, zs_batch)):
        solve = jax.jit(jax.vmap(fn))
        jax.block_until_ready(solve(data))
        tic = time.perf_counter()
        result = jax.block_until_ready(solve(data))
        seconds = time.perf_counter() - tic
        out[name] = (num_games / seconds, float(jnp.mean(result.success)))
    # nashpy, one game after the other, on a sample (timeouts count at the timeout).
    import nashpy

    lh_seconds = [
        nashpy_lemke_howson(*(np.asarray(m, np.float64) for m in g), timeout)[1] for g in np.asarray(batch[:sample])
    ]
    tic = time.perf_counter()
    for g in np.asarray(zs_batch[:sample], np.float64):
        nashpy.Game(g[0]).linear_program()
    lp_rate = sample / (time.perf_counter() - tic)
    out["nashpy_lemke_howson"] = (sample / sum(lh_seconds), None)
    out["nashpy_linear_program"] = (lp_rate, None)
    print(
        f"  batched 20x20 x {num_games}: marljax LH {out['lemke_howson'][0]:,.0f} games/s "
        f"(success {out['lemke_howson'][1]:.0%}), nashpy LH {out['nashpy_lemke_howson'][0]:,.1f} games/s "
        f"(in-process solve time, {sample} games); marljax zero-sum {out['zero_sum'][0]:,.0f} games/s "
        f"(success {out['zero_sum'][1]:.0%}), "
        f"nashpy LP {lp_rate:,.1f} games/s",
        flush=True,
    )
    return out


def bench_public_calls(size: int, num_games: int):
    """``(name, first call seconds, median later call seconds)`` for every registered solver."""
    rows = []
    for name in registry.solver_names():
        spec = registry.get_solver(name)
        make = games.random_zero_sum if spec.zero_sum else games.random_general_sum
        batch = [make(jax.random.PRNGKey(k), (size, size)) for k in range(num_games + 1)]
        tic = time.perf_counter()
        jax.block_until_ready(registry.solve(name, batch[0]))
        first = time.perf_counter() - tic
        later = []
        for game in batch[1:]:
            tic = time.perf_counter()
            jax.block_until_ready(registry.solve(name, game))
            later.append(time.perf_counter() - tic)
        rows.append((name, first, statistics.median(later)))
        print(
            f"  {name} {size}x{size}: first {first * 1e3:.0f} ms, then {statistics.median(later) * 1e3:.2f} ms",
            flush=True,
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lh-sizes", type=int, nargs="+", default=[10, 30, 50, 100])
    parser.add_argument("--zs-sizes", type=int, nargs="+", default=[50, 200, 500])
    parser.add_argument("--games", type=int, default=8, help="games per size")
    parser.add_argument("--timeout", type=float, default=20.0, help="nashpy LH per-game limit (s)")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=20, help="nashpy games timed for the throughput row")
    parser.add_argument("--public-size", type=int, default=5, help="game size of the public-call timings")
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    args = parser.parse_args()
    if args.quick:
        args.lh_sizes, args.zs_sizes, args.games, args.batch, args.sample, args.timeout = [10], [20], 3, 100, 5, 5.0
    print(f"device: {jax.devices()[0]}, jax {jax.__version__}", flush=True)
    lh = bench_lemke_howson(args.lh_sizes, args.games, args.timeout)
    zs = bench_zero_sum(args.zs_sizes, max(3, args.games // 2))
    batched = bench_batched(args.batch, args.sample, args.timeout)
    public = bench_public_calls(args.public_size, 3 if args.quick else 10)

    print(
        "\n| solver | games | marljax solved | marljax median | peer | peer solved | peer median | ratio (peer/marljax) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for size, count, ok, t, p_ok, p_t, outcomes in lh:
        extra = f" ({outcomes.get('timeout', 0)} timeouts)" if outcomes.get("timeout") else ""
        print(
            f"| Lemke-Howson {size}x{size} | {count} | {ok}/{count} | {t * 1e3:.1f} ms | nashpy LH | "
            f"{p_ok}/{count}{extra} | {p_t * 1e3:.1f} ms | {p_t / t:.1f}x |"
        )
    for size, count, ok, t, p_ok, p_t, h_t, err in zs:
        print(
            f"| zero-sum {size}x{size} | {count} | {ok}/{count} | {t * 1e3:.1f} ms | nashpy LP / HiGHS | "
            f"{p_ok}/{count} | {p_t * 1e3:.1f} / {h_t * 1e3:.1f} ms | {p_t / t:.1f}x / {h_t / t:.1f}x |"
        )
    lh_rate, lh_success = batched["lemke_howson"]
    zs_rate, zs_success = batched["zero_sum"]
    print(
        f"| LH batched 20x20 (vmap) | {args.batch} | {lh_success:.0%} | {lh_rate:,.0f} games/s | nashpy LH (sequential) "
        f"| | {batched['nashpy_lemke_howson'][0]:,.1f} games/s | {lh_rate / batched['nashpy_lemke_howson'][0]:,.0f}x |"
    )
    print(
        f"| zero-sum batched 20x20 (vmap) | {args.batch} | {zs_success:.0%} | {zs_rate:,.0f} games/s | nashpy LP (sequential) "
        f"| | {batched['nashpy_linear_program'][0]:,.1f} games/s | {zs_rate / batched['nashpy_linear_program'][0]:,.0f}x |"
    )
    print(
        f"\n| solver (public call, {args.public_size}x{args.public_size}) | first call (compiles) | later calls (median) |"
    )
    print("|---|---|---|")
    for name, first, later in public:
        print(f"| {name} | {first * 1e3:.0f} ms | {later * 1e3:.2f} ms |")


if __name__ == "__main__":
    main()
