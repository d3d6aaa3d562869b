"""Demo section: equilibrium solvers on batches of games, and learning-dynamics NashConv curves."""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from marljax.envs.matrix import games
from marljax.solvers import correlated, dynamics, nash
from marljax.viz import plot_curves

NUM_GAMES, GAME_SIZE, ZERO_SUM_SIZE, STEPS = 256, 20, 200, 2000


def _timed(fn, *args):
    jax.block_until_ready(fn(*args))  # compile
    tic = time.perf_counter()
    out = jax.block_until_ready(fn(*args))
    return out, time.perf_counter() - tic


def run(out_dir, key) -> dict:
    general_key, zero_sum_key = jax.random.split(key)

    # Lemke-Howson on a batch of random general-sum games, one vmapped call.
    keys = jax.random.split(general_key, NUM_GAMES)
    batch = jax.vmap(lambda k: games.random_general_sum(k, (GAME_SIZE, GAME_SIZE)))(keys)
    lh, lh_seconds = _timed(jax.jit(jax.vmap(nash.lemke_howson)), batch)

    # Zero-sum LP on one large random game.
    big = games.random_zero_sum(zero_sum_key, (ZERO_SUM_SIZE, ZERO_SUM_SIZE))
    zs, zs_seconds = _timed(jax.jit(nash.zero_sum), big)
    biased = nash.zero_sum(games.biased_rps())

    # Learning dynamics on biased RPS: NashConv of the reported iterate over the steps.
    game = games.biased_rps()
    makers = {
        "fictitious play": dynamics.fictitious_play(),
        "regret matching": dynamics.regret_matching(),
        "regret matching+": dynamics.regret_matching(plus=True),
        "projected replicator (avg)": dynamics.projected_replicator_dynamics(),
        "optimistic MWU (last)": dynamics.optimistic_mwu(step_size=1.0),
        "replicator (last)": dynamics.replicator_dynamics(),
    }
    steps = np.arange(1, STEPS + 1)
    curves = {
        name: (steps, np.maximum(np.asarray(d.solve(game, STEPS).nash_conv_curve), 1e-12)) for name, d in makers.items()
    }
    plot_curves(
        curves,
        out_dir / "solvers_dynamics_nash_conv.png",
        "iteration",
        "NashConv",
        "Learning dynamics on biased RPS (NE = (1, 10, 5)/16)",
        logy=True,
    )
    chicken_ce = correlated.ce(games.bimatrix([[6.0, 2.0], [7.0, 0.0]], [[6.0, 7.0], [2.0, 0.0]]))

    final = {name: float(c[1][-1]) for name, c in curves.items()}
    return {
        "summary": {
            "lh_success": f"{float(jnp.mean(lh.success)):.0%}",
            "lh_games_per_s": f"{NUM_GAMES / lh_seconds:,.0f}",
            "zero_sum_200x200_s": round(zs_seconds, 3),
            "biased_rps": [round(float(p), 4) for p in biased.profile[0]],
        },
        "lemke_howson": {
            "games": NUM_GAMES,
            "size": GAME_SIZE,
            "success_rate": float(jnp.mean(lh.success)),
            "max_nash_conv": float(jnp.max(lh.nash_conv)),
            "seconds": lh_seconds,
            "median_pivots": float(jnp.median(lh.pivots)),
        },
        "zero_sum": {
            "size": ZERO_SUM_SIZE,
            "value": float(zs.value),
            "nash_conv": float(zs.nash_conv),
            "success": bool(zs.success),
            "seconds": zs_seconds,
        },
        "biased_rps_nash": [float(p) for p in biased.profile[0]],
        "dynamics_final_nash_conv": final,
        "aumann_chicken_max_welfare_ce": {
            "joint": np.asarray(chicken_ce.joint).tolist(),
            "welfare": float(chicken_ce.objective),
        },
        "plots": ["solvers_dynamics_nash_conv.png"],
    }
