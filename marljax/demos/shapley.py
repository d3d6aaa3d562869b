"""Demo section: Shapley values of agents. A textbook game (the glove game), then predators of
different speeds on SimpleTag chasing a scripted prey with a hand-written pursuit policy, explained
from rollouts: every coalition's episodes in one vmapped batch, non-members idle (noop)."""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

import marljax
from marljax.physics.particles import NUM_DISCRETE_MOVES, discrete_control
from marljax.solvers import shapley

PREDATOR_SPEEDS = (0.3, 0.8, 1.5)
EPISODES = 256


def glove(mask):
    """Player 0 holds a left glove, players 1 and 2 a right one; a pair is worth 1."""
    s = mask.astype(jnp.float32)
    return jnp.minimum(s[0], s[1] + s[2])


def pursuit_policy(env):
    """Each predator takes the move that best points at the prey (the last of its "other agents")."""
    prey = slice(env._view_size - 2 * env.num_prey - 2, env._view_size - 2 * env.num_prey)
    moves = discrete_control(jnp.arange(NUM_DISCRETE_MOVES), jnp.ones(NUM_DISCRETE_MOVES))  # [5, 2] directions

    def policy(carry, observation, first, key):
        toward = observation.agents_view[..., prey]  # [E, N, 2] prey position relative to the predator
        return carry, jnp.argmax(toward @ moves.T, axis=-1).astype(jnp.int32)

    return policy


def run(out_dir, key) -> dict:
    # accel = 3 x speed: MPE's damping caps an agent at 0.4 x its acceleration, so with the default
    # acceleration (3) no predator would pass 1.2 whatever its max speed.
    accels = [3.0 * s for s in PREDATOR_SPEEDS] + [4.0]
    env = marljax.make("mpe/SimpleTag-v0", prey="scripted", speeds=[*PREDATOR_SPEEDS, 1.3], accels=accels)
    game_key, order_key = jax.random.split(key)
    glove_values = shapley.exact(glove, 3).values
    tic = time.perf_counter()
    game = shapley.rollout_game(env, pursuit_policy(env), game_key, EPISODES, "noop")
    exact = shapley.exact(game, 3)
    sampled = shapley.permutation(game, 3, order_key, 32)
    explain_s = time.perf_counter() - tic
    labels = [f"predator {i}\n(speed {s})" for i, s in enumerate(PREDATOR_SPEEDS)]
    path = shapley.plot_values(
        {"exact": exact.values, "permutation (32 orders)": sampled.values},
        {"exact": exact.stderr, "permutation (32 orders)": sampled.stderr},
        out_dir / "shapley_pursuit.png",
        labels,
        f"SimpleTag pursuit: Shapley values, noop replacement ({EPISODES} episodes per coalition)",
    )
    relative = np.abs(sampled.values - exact.values) / np.abs(exact.values)
    return {
        "summary": {
            "glove_game": np.round(glove_values, 3).tolist(),
            "predator_values": np.round(exact.values, 2).tolist(),
            "faster_gets_more": bool(np.all(np.diff(exact.values) > 0)),
            "permutation_max_rel_error": f"{100 * relative.max():.1f}%",
        },
        "glove_game": glove_values.tolist(),
        "predator_speeds": list(PREDATOR_SPEEDS),
        "exact": {"values": exact.values.tolist(), "stderr": exact.stderr.tolist()},
        "permutation": {"values": sampled.values.tolist(), "stderr": sampled.stderr.tolist()},
        "grand": exact.grand,
        "empty": exact.empty,
        "explain_s": explain_s,
        "plots": [path.name],
    }
