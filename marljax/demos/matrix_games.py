"""Demo section: a vectorised matrix-game rollout and NashConv in the stag hunt."""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp

import marljax
from marljax.envs.matrix import stag_hunt
from marljax.solvers import nash
from marljax.viz import save_figure

NUM_ENVS, NUM_STEPS = 4096, 100


def run(out_dir, key) -> dict:
    env = marljax.make("matrix/StagHunt-v0")
    policy = marljax.random_policy(env)
    marljax.rollout(env, policy, key, NUM_ENVS, NUM_STEPS)[1].reward.block_until_ready()  # compile
    tic = time.perf_counter()
    _, trajectory = marljax.rollout(env, policy, key, NUM_ENVS, NUM_STEPS)
    trajectory.reward.block_until_ready()
    steps_per_second = NUM_ENVS * NUM_STEPS / (time.perf_counter() - tic)

    game = stag_hunt()
    named = {
        "stag/stag": (1.0, 1.0),
        "hare/hare": (0.0, 0.0),
        "mixed 3/4 stag": (0.75, 0.75),
        "uniform": (0.5, 0.5),
        "stag/hare": (1.0, 0.0),
    }
    as_profile = lambda p, q: (jnp.array([p, 1 - p]), jnp.array([q, 1 - q]))  # noqa: E731
    nash_convs = {name: float(nash.nash_conv(game, as_profile(*pq))) for name, pq in named.items()}

    # NashConv over the whole square of profiles (P(stag) for each player), in one vmapped call.
    grid = jnp.linspace(0.0, 1.0, 101)
    p, q = jnp.meshgrid(grid, grid, indexing="ij")
    surface = jax.vmap(lambda a, b: nash.nash_conv(game, as_profile(a, b)))(p.ravel(), q.ravel())
    _plot(grid, surface.reshape(p.shape), named, out_dir / "stag_hunt_nash_conv.png")
    return {
        "summary": {"env_steps_per_s": f"{steps_per_second:,.0f}", "nash_conv(mixed)": nash_convs["mixed 3/4 stag"]},
        "rollout": {
            "env": "matrix/StagHunt-v0",
            "num_envs": NUM_ENVS,
            "num_steps": NUM_STEPS,
            "env_steps_per_s": steps_per_second,
            "mean_reward": trajectory.reward.mean(axis=(0, 1)).tolist(),
        },
        "stag_hunt_nash_conv": nash_convs,
        "plots": ["stag_hunt_nash_conv.png"],
    }


def _plot(grid, surface, named, path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    im = ax.imshow(surface.T, origin="lower", extent=(0, 1, 0, 1), cmap="magma_r")
    fig.colorbar(im, ax=ax, label="NashConv")
    for name, (p, q) in named.items():
        ax.plot(p, q, "o", ms=8, mec="k", label=name, clip_on=False, zorder=3)
    ax.set_xlabel("row player P(stag)")
    ax.set_ylabel("column player P(stag)")
    ax.set_title("Stag hunt: NashConv over mixed profiles\n(zero at the three Nash equilibria)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.3, 1.0))
    save_figure(fig, path)
