"""Demo section: the Vicsek model at Vicsek et al.'s density (N = 300, L = 7) -- a GIF of a
swarm ordering from random headings, and the polarisation over time at low, middle and high
noise (the ordering transition)."""

from __future__ import annotations

import time

import jax
import numpy as np

import marljax
from marljax.envs.swarms import classic_policy
from marljax.envs.swarms.vicsek import VicsekState
from marljax.viz import animate, plot_curves

ENV = "swarms/Vicsek-v0"
NUM_AGENTS = 300
NOISES = (1.0, 3.0, 5.0)
STEPS = 300
GIF_NOISE, GIF_EVERY = 1.0, 10  # the GIF shows every 10th step of the low-noise run


def _uncontrolled(env, key):
    """``(states, polarisation [STEPS])`` of one episode under the Vicsek rule."""
    policy = classic_policy(env)

    @jax.jit
    def run(key):
        reset_key, run_key = jax.random.split(key)
        state, timestep = env.reset(reset_key)

        def one_step(carry, step_key):
            state, timestep = carry
            state, timestep = env.step(state, policy(step_key, timestep.observation))
            return (state, timestep), (state.pos, state.heading, timestep.extras["order_parameter"])

        _, (pos, heading, order) = jax.lax.scan(one_step, (state, timestep), jax.random.split(run_key, STEPS))
        return pos, heading, order

    return run(key)


def run(out_dir, key) -> dict:
    tic = time.perf_counter()
    curves, final = {}, {}
    gif_states = None
    for noise, noise_key in zip(NOISES, jax.random.split(key, len(NOISES))):
        env = marljax.make(ENV, num_agents=NUM_AGENTS, noise=noise, max_steps=STEPS)
        pos, heading, order = _uncontrolled(env, noise_key)
        order = np.asarray(order)
        curves[f"noise eta = {noise:g}"] = (np.arange(1, STEPS + 1), order)
        final[noise] = float(order[-50:].mean())
        if noise == GIF_NOISE:
            gif_env = env
            gif_states = [
                VicsekState(key=None, step_count=np.int32(t + 1), pos=pos[t], heading=heading[t])
                for t in range(0, STEPS, GIF_EVERY)
            ]
    gif = animate(gif_env, gif_states, out_dir / "vicsek.gif", fps=8)
    plot = plot_curves(
        curves,
        out_dir / "vicsek_polarisation.png",
        "step",
        "polarisation |mean e^{i theta}|",
        f"Vicsek model, N = {NUM_AGENTS}, L = 7 (density 6.1), r = 1, v0 = 0.03",
    )
    return {
        "summary": {f"polarisation (eta={k:g})": round(v, 3) for k, v in final.items()},
        "env": ENV,
        "num_agents": NUM_AGENTS,
        "final_polarisation": final,
        "seconds": time.perf_counter() - tic,
        "plots": [gif.name, plot.name],
    }
