"""Flocking-v0's initial layouts: VMAS's rejection sampling of spawn positions, vectorised.

The target starts at ``(0, -1)``; then each obstacle and each agent in turn is placed
uniformly in ``[-1, 1]^2`` at least ``min_distance`` (centre to centre) from everything placed
before it (VMAS ``ScenarioUtils.spawn_entities_randomly``). VMAS retries until it succeeds;
here every entity draws ``tries`` candidates at once and takes the first that fits (the last
one if none does -- with the defaults, 10 entities in a 2 x 2 square, a miss is vanishingly rare).
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp

__all__ = ["spawn", "TARGET_START"]

TARGET_START = (0.0, -1.0)


def spawn(key: chex.PRNGKey, num_placed: int, min_distance: float, half_width: float = 1.0, tries: int = 32):
    """``[1 + num_placed, 2]``: the target's start, then ``num_placed`` positions spawned in order.

    Args:
        key: PRNG key.
        num_placed: entities to place after the target (VMAS: obstacles first, then agents).
        min_distance: smallest allowed centre distance to any earlier entity.
        half_width: positions lie in ``[-half_width, half_width]^2``.
        tries: candidates per entity.
    """
    total = 1 + num_placed
    placed = jnp.full((total, 2), jnp.inf, jnp.float32).at[0].set(jnp.array(TARGET_START, jnp.float32))

    def place(placed, inputs):
        index, entity_key = inputs
        candidates = jax.random.uniform(entity_key, (tries, 2), jnp.float32, -half_width, half_width)
        gap = jnp.sqrt(jnp.sum((candidates[:, None, :] - placed[None, :, :]) ** 2, -1))  # inf where unplaced
        fits = jnp.all(gap >= min_distance, axis=1)
        choice = jnp.where(jnp.any(fits), jnp.argmax(fits), tries - 1)
        return placed.at[index].set(candidates[choice]), None

    placed, _ = jax.lax.scan(place, placed, (jnp.arange(1, total), jax.random.split(key, num_placed)))
    return placed
