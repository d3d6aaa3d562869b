"""State of Kuhn poker (all randomness lives in ``key``)."""

from __future__ import annotations

import chex

__all__ = ["KuhnState"]


@chex.dataclass
class KuhnState:
    key: chex.PRNGKey
    step_count: chex.Array  # [] int32 decisions taken
    cards: chex.Array  # [2] int32 each player's card (0 Jack, 1 Queen, 2 King)
    history: chex.Array  # [3] int32 betting actions so far (0 pass, 1 bet), -1 where not yet played
    done: chex.Array  # [] bool, a terminal history was reached
