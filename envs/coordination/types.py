"""States of the coordination environments (all randomness lives in ``key``)."""

from __future__ import annotations

import chex

__all__ = ["CoordinationState", "AlohaState"]


@chex.dataclass
class CoordinationState:
    key: chex.PRNGKey
    step_count: chex.Array  # [] int32
    bits: chex.Array  # [N] int32 in {0, 1}: each agent's bit


@chex.dataclass
class AlohaState:
    key: chex.PRNGKey
    step_count: chex.Array  # [] int32
    backlog: chex.Array  # [N] int32 in 0..max_backlog: packets waiting at each island
