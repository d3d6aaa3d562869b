"""Demo section: a short IPPO run on SimpleSpread (2 seeds vmapped), its learning curve and the
env's metrics (collisions, occupied landmarks) at the start and end of training."""

from __future__ import annotations

import time

import jax
import numpy as np

import marljax
from marljax.solvers import ippo
from marljax.viz import plot_curves

ENV = "mpe/SimpleSpread-v0"
SEEDS = 2
CONFIG = ippo.PPOConfig(total_steps=200_000, num_envs=32, num_steps=50, lr=1e-3, num_minibatches=2)


def _random_return(env, key) -> float:
    """Mean per-agent episode return of uniform random play (episodes of max_steps)."""
    _, traj = marljax.rollout(env, marljax.random_policy(env), key, 256, env.max_steps)
    return float(traj.reward.sum(0).mean())


def run(out_dir, key) -> dict:
    env = marljax.make(ENV)
    train_key, random_key = jax.random.split(key)
    train = jax.jit(jax.vmap(ippo.make_train(CONFIG, env)))
    keys = jax.random.split(train_key, SEEDS)
    tic = time.perf_counter()
    compiled = train.lower(keys).compile()
    compile_s = time.perf_counter() - tic
    tic = time.perf_counter()
    _, metrics = jax.block_until_ready(compiled(keys))
    run_s = time.perf_counter() - tic
    returns = np.asarray(metrics["episode_return"]).mean(-1)  # [seeds, updates]
    steps = np.asarray(metrics["env_steps"][0])
    baseline = _random_return(env, random_key)
    path = out_dir / "ippo_simple_spread.png"
    plot_curves(
        {
            "IPPO (2 seeds)": (steps[1:], returns[:, 1:]),
            "random policy": (steps[1:], np.full(len(steps) - 1, baseline)),
        },
        path,
        "env steps",
        "mean episode return per agent",
        "IPPO on mpe/SimpleSpread-v0",
    )
    final = float(returns[:, -5:].mean())
    # The env's metrics per update (mean over the rollout of the last finished episode's value);
    # update 0 has seen no finished episode yet, so "start" is update 1.
    env_metrics = {k: np.asarray(v).mean(0) for k, v in metrics["env_metrics"].items()}  # [updates]
    start_end = {k: (round(float(v[1]), 3), round(float(v[-5:].mean()), 3)) for k, v in env_metrics.items()}
    return {
        "summary": {
            "final_return": round(final, 2),
            "random_return": round(baseline, 2),
            "train_env_steps_per_s": f"{SEEDS * CONFIG.num_updates * CONFIG.steps_per_update / run_s:,.0f}",
            "occupied_landmarks": "{} -> {}".format(*start_end["occupied_landmarks"]),
            "collisions": "{} -> {}".format(*start_end["collisions"]),
        },
        "env_metrics_start_end": start_end,
        "env": ENV,
        "seeds": SEEDS,
        "config": {k: v for k, v in CONFIG.__dict__.items()},
        "compile_s": compile_s,
        "run_s": run_s,
        "final_return_per_seed": returns[:, -5:].mean(-1).tolist(),
        "plots": [path.name],
    }
