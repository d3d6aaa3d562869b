"""PSRO side by side with OpenSpiel's ``psro_v2``: time per iteration and NashConv.

Both run PSRO with an exact best-response oracle and the Nash meta-solver on the same 100x100
random symmetric zero-sum game (``marljax.envs.matrix.random_symmetric_zero_sum``, key 0) for
the same number of iterations, one population per player (OpenSpiel: ``symmetric_game=False``,
``sims_per_entry=1``, tabular best responses on the turn-based version of the matrix game,
CVXPY/ECOS LP for the meta-Nash; marljax: ``psro.run`` with ``symmetric=False``, the exact
float64 simplex LP of ``marljax.solvers.equilibria.zero_sum``). NashConv is computed exactly, with the same
function in float64 (both run in float64), from the mixture each meta-strategy induces over the
game's actions.

marljax is timed twice: the public call ``psro.run`` as a user's script makes it (validation,
dispatch and the whole run in one ``lax.scan``; it compiles once per game shape and options, so
the first call's compilation is reported apart and excluded), and one jitted ``update`` call per
iteration from Python (dispatch included).

    python benchmarks/psro.py                 # 100x100, 100 iterations
    python benchmarks/psro.py --iterations 50 --size 100
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np

from marljax.envs.matrix import games
from marljax.solvers import meta_solvers, nash, psro


def marljax_psro(payoffs, iterations: int, repeats: int = 3) -> dict:
    def public_call():
        result = psro.run(payoffs, "nash", iterations, symmetric=False)
        result.nash_conv.block_until_ready()
        return result

    tic = time.perf_counter()
    result = public_call()  # the first call compiles (once per shape and options)
    first = time.perf_counter() - tic
    best = float("inf")
    for _ in range(repeats):
        tic = time.perf_counter()
        result = public_call()
        best = min(best, time.perf_counter() - tic)

    solver = psro.psro_solver(meta_solvers.make_meta_solver("nash", payoffs), iterations + 1, symmetric=False)
    update = jax.jit(solver.update)
    state = solver.init(payoffs)
    jax.block_until_ready(update(state, payoffs))  # compile
    tic = time.perf_counter()
    for _ in range(iterations):
        state = update(state, payoffs)
    jax.block_until_ready(state)
    stepped = (time.perf_counter() - tic) / iterations
    return {
        "first_call_s": first,
        "ms_per_iteration_scan": 1e3 * best / iterations,
        "ms_per_iteration_stepped": 1e3 * stepped,
        "nash_conv": float(result.nash_conv),
        "population": np.asarray(result.state.sizes).tolist(),
    }


def openspiel_psro(payoffs, iterations: int) -> dict | None:
    try:
        import pyspiel
        from open_spiel.python import policy as os_policy
        from open_spiel.python.algorithms.psro_v2 import best_response_oracle, psro_v2, strategy_selectors
    except ImportError as err:
        print(f"OpenSpiel psro_v2 is not installed ({err}); pip install open_spiel cvxpy ecos")
        return None
    fallbacks = _ecos_with_fallback()
    u = np.asarray(payoffs, np.float64)
    actions = [f"a{i}" for i in range(u.shape[1])]
    matrix_game = pyspiel.create_matrix_game(
        "bench", "random symmetric zero-sum", actions, actions, u[0].tolist(), u[1].tolist()
    )
    game = pyspiel.convert_to_turn_based(matrix_game)
    random_policy = os_policy.TabularPolicy(game)
    oracle = best_response_oracle.BestResponseOracle(game=game, policy=random_policy)
    solver = psro_v2.PSROSolver(
        game,
        oracle,
        initial_policies=[random_policy.__copy__() for _ in range(2)],
        training_strategy_selector=strategy_selectors.probabilistic,
        sims_per_entry=1,
        meta_strategy_method="nash",
        sample_from_marginals=True,
        symmetric_game=False,
    )
    tic = time.perf_counter()
    for _ in range(iterations):
        solver.iteration()
    seconds = time.perf_counter() - tic

    # The mixture over actions that each player's meta-strategy induces (player 0 moves at the
    # root of the turn-based game, player 1 at any child: it cannot see player 0's move).
    root = game.new_initial_state()
    states = [root, root.child(0)]
    profile = []
    for player, (pols, sigma) in enumerate(zip(solver.get_policies(), solver.get_meta_strategies())):
        mix = np.zeros(u.shape[1 + player])
        for weight, pol in zip(sigma, pols):
            for action, p in pol.action_probabilities(states[player], player).items():
                mix[action] += weight * p
        profile.append(mix / mix.sum())
    return {
        "ms_per_iteration": 1e3 * seconds / iterations,
        "nash_conv": float(nash.nash_conv(np.asarray(payoffs), tuple(profile))),
        "population": [len(p) for p in solver.get_policies()],
        "lp_fallbacks": fallbacks[0],
    }


def _ecos_with_fallback() -> list:
    """OpenSpiel's meta-Nash LP uses CVXPY + ECOS with 1e-7 tolerances, which fails (returns
    None and crashes ``psro_v2``) on some of the degenerate meta-games PSRO builds (the
    population repeats best responses). Retry those LPs with CLARABEL; count the retries."""
    import cvxpy as cp
    from open_spiel.python.algorithms import lp_solver

    count = [0]
    original = lp_solver.LinearProgram.solve

    def solve(self, *args, **kwargs):
        value = original(self, *args, **kwargs)
        if value is None:
            count[0] += 1
            value = original(self, solver=cp.CLARABEL, solver_kwargs={})
        return value

    lp_solver.LinearProgram.solve = solve
    return count


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100, help="actions per player (default 100)")
    parser.add_argument("--iterations", type=int, default=100, help="PSRO iterations for both (default 100)")
    args = parser.parse_args(argv)
    with jax.enable_x64(True):  # both in float64, as OpenSpiel, so NashConv compares at 1e-15
        _compare(games.random_symmetric_zero_sum(jax.random.PRNGKey(0), args.size).astype(np.float64), args)


def _compare(payoffs, args) -> None:
    print(
        f"device: {jax.devices()[0]} (jax {jax.__version__}); {args.size}x{args.size} random symmetric zero-sum, "
        f"exact best-response oracle, Nash meta-solver, {args.iterations} iterations"
    )
    ours = marljax_psro(payoffs, args.iterations)
    print(
        f"marljax  psro.run (lax.scan):  {ours['ms_per_iteration_scan']:8.2f} ms/iteration   "
        f"NashConv {ours['nash_conv']:.2e}   population {ours['population']}   "
        f"(first call, compiling: {ours['first_call_s']:.2f} s)"
    )
    print(f"marljax  jitted update/step:   {ours['ms_per_iteration_stepped']:8.2f} ms/iteration")
    peer = openspiel_psro(payoffs, args.iterations)
    if peer is None:
        print("OpenSpiel: missing, no ratio")
        return
    print(
        f"OpenSpiel psro_v2:             {peer['ms_per_iteration']:8.2f} ms/iteration   "
        f"NashConv {peer['nash_conv']:.2e}   population {peer['population']}   "
        f"(ECOS failed on {peer['lp_fallbacks']} meta-game LPs, re-solved with CLARABEL)"
    )
    print(
        f"speed-up per iteration: {peer['ms_per_iteration'] / ours['ms_per_iteration_scan']:.0f}x (scan), "
        f"{peer['ms_per_iteration'] / ours['ms_per_iteration_stepped']:.0f}x (stepped); "
        f"NashConv marljax {ours['nash_conv']:.2e} vs OpenSpiel {peer['nash_conv']:.2e}"
    )


if __name__ == "__main__":
    main()
