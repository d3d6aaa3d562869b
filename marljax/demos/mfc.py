"""Demo section: mean-field control (Dec-POMFC) -- one decision rule trained on 20 Kuramoto
oscillators, then run agent by agent on 1,000 of them: the order parameter R(t) under the
trained rule at N = 20 and N = 1,000 against the uncontrolled swarm, and a GIF of the 1,000."""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

import marljax
from marljax.solvers import mfc
from marljax.viz import animate, plot_curves

ENV = "swarms/Kuramoto-v0"
TRAIN_N, EVAL_N, STEPS = 20, 1000, 50
CONFIG = mfc.MFCConfig(
    total_steps=8 * STEPS * 24, num_envs=8, num_steps=STEPS, num_minibatches=2, hidden_size=16, lr=3e-3
)
GIF_EVERY = 5


def _rollout(learner):
    """``play(params, key, gain) -> (states, R [STEPS])``: one episode of ``learner.env`` under the
    trained rule, its actions times ``gain`` (0: the uncontrolled swarm, same compilation)."""
    env = learner.env

    @jax.jit
    def play(params, key, gain):
        reset_key, run_key = jax.random.split(key)
        state, timestep = env.reset(reset_key)
        carry = learner.initial_carry(1)["actor"]

        def one_step(c, step_key):
            state, timestep, carry, first = c
            obs = jax.tree_util.tree_map(lambda x: x[None], timestep.observation)
            carry, action = learner.act(params, carry, obs, jnp.full((1, env.num_agents), first), step_key, True)
            state, timestep = env.step(state, gain * action[0])
            return (state, timestep, carry, False), (state, timestep.extras["order_parameter"])

        _, (states, order) = jax.lax.scan(one_step, (state, timestep, carry, True), jax.random.split(run_key, STEPS))
        return states, order

    return play


def run(out_dir, key) -> dict:
    tic = time.perf_counter()
    train_key, eval_key = jax.random.split(key)
    small = mfc.make_learner(CONFIG, marljax.make(ENV, num_agents=TRAIN_N, max_steps=STEPS))
    runner, metrics = jax.jit(lambda k: small.run(small.init(k), CONFIG.num_updates))(train_key)
    large = mfc.make_learner(CONFIG, marljax.make(ENV, num_agents=EVAL_N, max_steps=STEPS))
    _, order_small = _rollout(small)(runner.params, eval_key, 1.0)
    play_large = _rollout(large)
    states, order_large = play_large(runner.params, eval_key, 1.0)
    _, order_free = play_large(runner.params, eval_key, 0.0)
    t = np.arange(1, STEPS + 1)
    curves = {
        f"MFC rule, N = {TRAIN_N} (trained)": (t, np.asarray(order_small)),
        f"same rule, N = {EVAL_N}": (t, np.asarray(order_large)),
        f"uncontrolled, N = {EVAL_N}": (t, np.asarray(order_free)),
    }
    plot = plot_curves(
        curves,
        out_dir / "mfc_kuramoto.png",
        "step",
        "order parameter R",
        f"Dec-POMFC on Kuramoto: trained at N = {TRAIN_N}, run at N = {EVAL_N}",
    )
    frames = [jax.tree_util.tree_map(lambda x: x[i], states) for i in range(0, STEPS, GIF_EVERY)]
    gif = animate(large.env, frames, out_dir / "mfc_kuramoto.gif", fps=4)
    final = {name: float(np.asarray(curve[1])[-10:].mean()) for name, curve in curves.items()}
    return {
        "summary": {f"R ({name})": round(v, 3) for name, v in final.items()},
        "env": ENV,
        "train_return": float(np.asarray(metrics["episode_return"])[-3:].mean()),
        "final_order": final,
        "seconds": time.perf_counter() - tic,
        "plots": [plot.name, gif.name],
    }
