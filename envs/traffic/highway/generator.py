"""Initial scenes of the heterogeneous highway: vehicles on a grid of slots, jittered.

The first ``spawn_length`` metres of every lane are cut into slots of ``slot_length`` m (a row
of slots across the lanes every ``slot_length`` m). Agent ``k`` takes a random lane in row ``2k``
(agents are spaced ``2 * slot_length`` apart along the road) and drives at 25 m/s; the NPCs take
distinct random free slots in the rows from 1 on (around and ahead of the agents), at U[21, 24]
m/s with driver types drawn from the traffic mix. Each vehicle is moved along the road by
U[-jitter, jitter] inside its slot (so no two share an ``x``), which keeps centres at least
``slot_length - 2 jitter`` apart: no initial overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

import chex
import jax
import jax.numpy as jnp

from marljax.envs.traffic.common.drivers import NORMAL, TRAFFIC_MIXES, sample_driver_types
from marljax.envs.traffic.common.kinematics import LENGTH
from marljax.envs.traffic.common.road import Road
from marljax.envs.traffic.common.traffic import Vehicles, init_vehicles

__all__ = ["HighwayGenerator"]

AGENT_SPEED = 25.0  # m/s
NPC_SPEED_RANGE = (21.0, 24.0)  # m/s


@dataclass(frozen=True)
class HighwayGenerator:
    """Draws the vehicles of a fresh episode.

    Attributes:
        road: the road.
        num_agents: learning vehicles (first in the arrays).
        num_npcs: IDM/MOBIL vehicles.
        traffic: key of :data:`~marljax.envs.traffic.common.drivers.TRAFFIC_MIXES`.
        spawn_length: metres of road the scene starts on.
        slot_length: spacing of the slots in m.
        jitter: half-width of the uniform shift of each vehicle inside its slot, m.
    """

    road: Road
    num_agents: int
    num_npcs: int
    traffic: str = "mild"
    spawn_length: float = 400.0
    slot_length: float = 20.0
    jitter: float = 3.0

    def __post_init__(self):
        if self.traffic not in TRAFFIC_MIXES:
            raise ValueError(f"unknown traffic mix {self.traffic!r}; known mixes: {sorted(TRAFFIC_MIXES)}")
        if self.num_agents < 1:
            raise ValueError(f"num_agents must be at least 1; got {self.num_agents}")
        if self.num_npcs < 0:
            raise ValueError(f"num_npcs must be non-negative; got {self.num_npcs}")
        if self.slot_length - 2 * self.jitter <= LENGTH:
            raise ValueError(f"slot_length - 2 jitter must exceed the vehicle length {LENGTH} m")
        if 2 * self.num_agents - 1 > self.num_rows:
            raise ValueError(
                f"{self.num_agents} agents need {2 * self.num_agents - 1} rows of {self.slot_length:g} m; "
                f"spawn_length {self.spawn_length:g} m holds {self.num_rows}"
            )
        if self.num_npcs > self.npc_capacity:
            raise ValueError(
                f"num_npcs={self.num_npcs} is more than the road holds: {self.road.num_lanes} lanes x "
                f"{self.spawn_length:g} m fit {self.npc_capacity} NPCs beside {self.num_agents} agents "
                f"(one per {self.slot_length:g} m slot); lower num_npcs or raise spawn_length"
            )

    @property
    def num_rows(self) -> int:
        return int(self.spawn_length // self.slot_length)

    @property
    def npc_capacity(self) -> int:
        """Free slots in rows 1.. after the agents took theirs."""
        return (self.num_rows - 1) * self.road.num_lanes - (self.num_agents - 1)

    def __call__(self, key: chex.PRNGKey) -> Vehicles:
        """A fresh scene (see the module docstring)."""
        n, lanes, rows = self.num_agents, self.road.num_lanes, self.num_rows
        k_agent_lane, k_slots, k_jitter, k_speed, k_type, k_init = jax.random.split(key, 6)
        agent_row = 2 * jnp.arange(n)
        agent_lane = jax.random.randint(k_agent_lane, (n,), 0, lanes)
        # NPC slots: the num_npcs smallest random priorities among free slots of rows >= 1.
        slot_row = jnp.repeat(jnp.arange(rows), lanes)
        slot_lane = jnp.tile(jnp.arange(lanes), rows)
        taken = jnp.zeros((rows, lanes), bool).at[agent_row, agent_lane].set(True).reshape(-1) | (slot_row == 0)
        priority = jnp.where(taken, 2.0, jax.random.uniform(k_slots, (rows * lanes,)))
        # = argsort(priority)[:num_npcs] (top_k is stable too), about 3x cheaper on CPU: reset runs on every step of
        # an auto-resetting batched rollout.
        npc_slot = jax.lax.top_k(-priority, self.num_npcs)[1]
        row = jnp.concatenate([agent_row, slot_row[npc_slot]])
        lane = jnp.concatenate([agent_lane, slot_lane[npc_slot]])
        m = n + self.num_npcs
        x = (row + 0.5) * self.slot_length + jax.random.uniform(k_jitter, (m,), jnp.float32, -self.jitter, self.jitter)
        position = jnp.stack([x, self.road.lane_centre(lane)], -1)
        npc_speed = jax.random.uniform(k_speed, (self.num_npcs,), jnp.float32, *NPC_SPEED_RANGE)
        speed = jnp.concatenate([jnp.full((n,), AGENT_SPEED, jnp.float32), npc_speed])
        driver_type = jnp.concatenate(
            [jnp.full((n,), NORMAL, jnp.int32), sample_driver_types(k_type, self.num_npcs, self.traffic)]
        )
        return init_vehicles(k_init, self.road, position, speed, driver_type)
