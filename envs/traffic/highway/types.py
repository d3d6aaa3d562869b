"""State of the heterogeneous highway."""

from __future__ import annotations

import chex

from marljax.envs.traffic.common.traffic import Vehicles

__all__ = ["HighwayState"]


@chex.dataclass
class HighwayState:
    """One highway episode.

    Attributes:
        key: PRNG key (the highway is deterministic after reset; kept for the API's contract).
        step_count: ``[]`` int32 policy steps taken.
        vehicles: :class:`~marljax.envs.traffic.common.traffic.Vehicles` of ``num_agents +
            num_npcs`` vehicles, learning agents first.
        survival: ``[N]`` int32 policy steps each agent has been driving uncrashed.
    """

    key: chex.PRNGKey
    step_count: chex.Array
    vehicles: Vehicles
    survival: chex.Array
