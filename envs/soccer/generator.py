"""Kick-off positions: the ball on the centre spot, each team uniformly in its own half."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp

from marljax.envs.soccer.types import Pitch, SoccerState

__all__ = ["UniformGenerator"]


class UniformGenerator:
    """Ball at rest on the centre spot; team 0's players uniform in the left half
    ``x in [-length/2 + r, -r]``, ``|y| <= width/2 - r``, team 1's the same in the right half
    (as VMAS ``football``'s random spawn). Overlapping players are pushed apart by the contacts
    in the first steps.

    Args:
        pitch: the pitch.
        team_size: players per team ``n``.
    """

    def __init__(self, pitch: Pitch, team_size: int):
        self.pitch = pitch
        self.team_size = team_size

    def __call__(self, key: chex.PRNGKey) -> SoccerState:
        """A fresh state (``step_count`` 0, score 0-0, everything at rest); ``key`` seeds both the
        positions and the state's own key."""
        p, n = self.pitch, self.team_size
        key, key_pos = jax.random.split(key)
        low = jnp.array([-p.length / 2 + p.player_radius, -p.width / 2 + p.player_radius], jnp.float32)
        high = jnp.array([-p.player_radius, p.width / 2 - p.player_radius], jnp.float32)
        left = jax.random.uniform(key_pos, (2, n, 2), jnp.float32, low, high)
        players = jnp.concatenate([left[0], -left[1]])  # team 1: a mirror draw, in its own half
        pos = jnp.concatenate([players, jnp.zeros((1, 2), jnp.float32)])
        return SoccerState(
            key=key,
            step_count=jnp.int32(0),
            pos=pos,
            vel=jnp.zeros_like(pos),
            score=jnp.zeros((2,), jnp.int32),
            possession=jnp.int32(0),
        )
