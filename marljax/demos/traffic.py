"""Demo section: the heterogeneous highway -- a short GIF, and IPPO against always-idle and random driving.

A small highway (2 agents, 12 NPCs, 4 lanes, 30 steps, chaotic traffic) keeps the section short:
IPPO trains for a fixed budget, then the trained policy (sampled), the always-idle policy (action
1: keep lane and target speed) and the uniform random policy each play the same fresh episodes;
the table reports the env's metrics (episodic reward, success rate, survival time, crashes).
:func:`fixed_policy_metrics` is what the README's full-size table uses for its baselines.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp

import marljax
from marljax.envs.traffic.common.kinematics import IDLE
from marljax.evaluation import play_episodes, summarise
from marljax.solvers import ippo

ENV = "traffic/HeterogeneousHighway-v0"
ENV_KWARGS = dict(traffic="chaotic", num_agents=2, num_npcs=12, num_lanes=4, max_steps=30, spawn_length=160.0)
CONFIG = ippo.PPOConfig(total_steps=14_400, num_envs=16, num_steps=30, lr=2e-3, num_minibatches=2, update_epochs=4)
EVAL_EPISODES = 64
GIF_STEPS = 12


def _fixed(action_fn):
    def policy(carry, observation, first, key):
        return carry, action_fn(key, observation)

    return policy


IDLE_POLICY = _fixed(lambda key, obs: jnp.full(obs.action_mask.shape[:-1], IDLE, jnp.int32))
RANDOM_POLICY = _fixed(lambda key, obs: marljax.sample_valid_actions(key, obs.action_mask))


def fixed_policy_metrics(env, key, episodes: int) -> dict:
    """``{"idle": summary, "random": summary}`` (:func:`marljax.evaluation.summarise`) of the
    always-idle and the uniform random policy on ``episodes`` fresh episodes of ``env``."""
    return {
        name: summarise(play_episodes(env, policy, key, episodes))
        for name, policy in (("idle", IDLE_POLICY), ("random", RANDOM_POLICY))
    }


def _row(summary: dict) -> dict:
    m = summary["metrics"]
    return {
        "episodic_reward": round(m["episodic_reward"], 2),
        "success": round(m["success"], 3),
        "survival_time_s": round(m["survival_time"], 1),
        "crashes": round(m["crashes"], 2),
    }


def run(out_dir, key) -> dict:
    from marljax.viz import animate

    env = marljax.make(ENV, **ENV_KWARGS)
    k_train, k_eval = jax.random.split(key)
    learner = ippo.make_learner(CONFIG, env)
    tic = time.perf_counter()
    runner, _ = jax.jit(lambda k: learner.run(learner.init(k), CONFIG.num_updates))(k_train)
    train_s = time.perf_counter() - tic

    # One policy for all three drivers, picked by an integer in the carry: play_episodes compiles once.
    def driver(carry, observation, first, key):
        which, actor = carry
        actor, learned = learner.act(runner.params, actor, observation, first, key)
        idle = jnp.full_like(learned, IDLE)
        random = marljax.sample_valid_actions(key, observation.action_mask).astype(learned.dtype)
        return (which, actor), jnp.select([which == 0, which == 1], [learned, idle], random)

    actor = learner.initial_carry(EVAL_EPISODES)["actor"]
    table, states = {}, None
    for which, name in enumerate(("ippo", "idle", "random")):
        batch = play_episodes(
            env, driver, k_eval, EVAL_EPISODES, initial_carry=(jnp.int32(which), actor), record_states=True
        )
        table[name] = _row(summarise(batch))
        if name == "ippo":
            frames = min(int(batch.length[0]), GIF_STEPS) + 1
            states = [jax.tree_util.tree_map(lambda x: x[t, 0], batch.states) for t in range(frames)]
    gif = animate(env, states, out_dir / "traffic_highway.gif", fps=4)
    frame = out_dir / "traffic_highway_frame.png"
    env.render(states[-1]).savefig(frame, dpi=90)
    return {
        "summary": {
            "ippo_reward": table["ippo"]["episodic_reward"],
            "idle_reward": table["idle"]["episodic_reward"],
            "random_reward": table["random"]["episodic_reward"],
            "ippo_success": table["ippo"]["success"],
            "idle_success": table["idle"]["success"],
            "random_success": table["random"]["success"],
        },
        "table": table,
        "env": ENV,
        "env_kwargs": ENV_KWARGS,
        "config": {k: v for k, v in CONFIG.__dict__.items()},
        "train_s": round(train_s, 2),
        "eval_episodes": EVAL_EPISODES,
        "plots": [gif.name, frame.name],
        "trained_beats_baselines": bool(
            all(table["ippo"][k] > max(table["idle"][k], table["random"][k]) for k in ("episodic_reward", "success"))
        ),
    }


if __name__ == "__main__":  # python -m marljax.demos.traffic [out_dir]
    import pathlib
    import sys

    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "results/demo_traffic")
    out.mkdir(parents=True, exist_ok=True)
    tic, cpu = time.perf_counter(), time.process_time()
    result = run(out, jax.random.PRNGKey(0))
    print({k: v for k, v in result.items() if k in ("summary", "table", "train_s", "trained_beats_baselines")})
    print(f"{time.perf_counter() - tic:.1f} s wall, {time.process_time() - cpu:.1f} s CPU")
