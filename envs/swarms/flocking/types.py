"""Flocking-v0's state."""

from __future__ import annotations

import chex

__all__ = ["FlockingState"]


@chex.dataclass
class FlockingState:
    """Entities in VMAS's order: the target, the agents, the obstacles.

    Attributes:
        key: PRNG key (unused by the deterministic dynamics; kept for wrappers).
        step_count: ``[]`` int32, steps so far (drives the target's circular motion).
        pos: ``[1 + N + M, 2]`` positions.
        vel: ``[1 + N + M, 2]`` velocities (obstacles stay at rest).
        shaping: ``[N]`` each agent's distance-shaping potential after the last step.
    """

    key: chex.PRNGKey
    step_count: chex.Array
    pos: chex.Array
    vel: chex.Array
    shaping: chex.Array
