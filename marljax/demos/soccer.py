"""Demo section: a 3 v 3 soccer match (the scripted team at full strength, as the agents, against
the env's scripted opponent at strength 0.5), over 64 matches: the score, and a GIF and a
PNG (its final frame) of the shortest match the agents won."""

from __future__ import annotations

import time

import jax
import numpy as np

import marljax
from marljax.envs.soccer.scripted import scripted_policy
from marljax.evaluation import play_episodes
from marljax.viz import animate, save_figure

ENV = "soccer/Soccer-v0"
MATCHES = 64  # played (states kept) and scored
FRAME_EVERY = 5  # steps between GIF frames
MAX_FRAMES = 70


def run(out_dir, key) -> dict:
    tic = time.perf_counter()
    env = marljax.make(ENV, strength=0.5)
    policy = scripted_policy(env, strength=1.0)
    recorded = jax.jit(lambda k: play_episodes(env, policy, k, MATCHES, record_states=True))(key)
    lengths = np.asarray(recorded.length)
    # Show a goal: the shortest match the agents won, else the shortest with a goal, else the first.
    won, lost = np.asarray(recorded.metrics["win"]) > 0, np.asarray(recorded.metrics["loss"]) > 0
    pick = won if won.any() else lost if lost.any() else np.ones_like(won)
    match = int(np.argmin(np.where(pick, lengths, 10**6)))
    steps = np.arange(0, int(lengths[match]) + 1)
    steps = steps[-MAX_FRAMES * FRAME_EVERY :: FRAME_EVERY].tolist() + [int(lengths[match])] * 5  # hold the end
    states = [jax.tree_util.tree_map(lambda x, t=t: x[t, match], recorded.states) for t in steps]
    gif = animate(env, states, out_dir / "soccer_match.gif", fps=10)
    png = save_figure(env.render(states[-1]), out_dir / "soccer_match.png")
    metrics = {k: float(np.asarray(v).mean()) for k, v in recorded.metrics.items()}
    return {
        "summary": {
            "matches": MATCHES,
            "win_draw_loss": f"{metrics['win']:.2f}/{metrics['draw']:.2f}/{metrics['loss']:.2f}",
            "goals_for_against": f"{metrics['goals_for']:.2f}/{metrics['goals_against']:.2f}",
            "possession": round(metrics["possession"], 2),
            "gif_frames": len(states),
        },
        "env": ENV,
        "teams": "scripted (strength 1, discrete actions) vs scripted opponent (strength 0.5)",
        "metrics": metrics,
        "recorded_match": {"steps": int(lengths[match]), "score": np.asarray(states[-1].score).tolist()},
        "seconds": round(time.perf_counter() - tic, 2),
        "plots": [gif.name, png.name],
    }
