r"""Aloha: islands share a radio channel on an interference graph (Hansen et al. 2004's
multi-access broadcast channel, as used by Wang et al. 2022 (CASEC) and Chen & Zhang 2023).

``N`` islands (default 10) sit on a ``2 x N/2`` grid; two islands interfere when they are
grid neighbours (up, down, left, right). Each island holds a backlog of packets (at most
``max_backlog`` = 5). Every step each island decides whether to transmit its first packet:
a transmission succeeds when no interfering island transmits in the same step (+0.1, the
packet leaves the backlog) and collides otherwise (-10, the packet stays). An island with an
empty backlog that "transmits" sends nothing (it neither scores nor collides). Then each
island receives a new packet with probability ``arrival_prob`` = 0.6 (capped). The rewards of
all islands are summed into one team reward, shared by every agent.

- **Observation** ``agents_view [N, 1]`` float32: the island's own backlog; ``global_state
  [N, N]`` every backlog (the same row for each agent); ``agent_type [N]`` the island's index.
- **Action** ``[N]`` int32: 0 wait, 1 transmit.
- **Reward** ``[N]`` float32, the team reward :math:`\sum_i (0.1\,\text{success}_i - 10\,\text{collision}_i)`.
- **Termination**: none; truncation after ``max_steps`` = 20 steps.
- **Metrics** (summed over an episode): ``transmissions`` (successful transmissions) and
  ``collisions`` (transmissions that collided).

Initial backlogs: each island holds one packet with probability ``arrival_prob``.

References:
    Wang et al. 2022, "Context-Aware Sparse Deep Coordination Graphs", ICLR,
    https://arxiv.org/abs/2106.02886; Chen & Zhang 2023 (ICML), Sec. 6.
"""

from __future__ import annotations

from functools import cached_property

import chex
import jax
import jax.numpy as jnp
import numpy as np
from jumanji import specs
from jumanji.types import restart

from marljax.env import MultiAgentEnv, observation_spec
from marljax.envs.coordination.types import AlohaState

__all__ = ["Aloha", "grid_interference"]

SUCCESS_REWARD, COLLISION_REWARD = 0.1, -10.0


def grid_interference(num_agents: int) -> np.ndarray:
    """``[N, N]`` bool adjacency of a ``2 x N/2`` grid (4-neighbourhood), islands numbered row by row."""
    cols = num_agents // 2
    row, col = np.divmod(np.arange(num_agents), cols)
    manhattan = np.abs(row[:, None] - row[None, :]) + np.abs(col[:, None] - col[None, :])
    return manhattan == 1


class Aloha(MultiAgentEnv):
    """Islands on a grid decide when to transmit; neighbours transmitting together collide.

    Observation ``agents_view [N, 1]`` (own backlog), action ``[N]`` in {0 wait, 1 transmit},
    reward ``[N]`` (team reward), truncation after ``max_steps`` (see the module docstring).
    """

    metrics = {"transmissions": "sum", "collisions": "sum"}

    def __init__(self, num_agents: int = 10, arrival_prob: float = 0.6, max_backlog: int = 5, max_steps: int = 20):
        if num_agents < 2 or num_agents % 2:
            raise ValueError(f"num_agents must be even and >= 2 (a 2 x N/2 grid of islands); got {num_agents}")
        if not 0.0 <= float(arrival_prob) <= 1.0:
            raise ValueError(f"arrival_prob must lie in [0, 1]; got {arrival_prob}")
        if max_backlog < 1 or max_steps < 1:
            raise ValueError(f"max_backlog and max_steps must be positive; got {max_backlog}, {max_steps}")
        self.num_agents = int(num_agents)
        self.arrival_prob = float(arrival_prob)
        self.max_backlog = int(max_backlog)
        self.max_steps = int(max_steps)
        self.interference = grid_interference(self.num_agents)
        self._mask = jnp.ones((self.num_agents, 2), bool)
        super().__init__()

    @cached_property
    def observation_spec(self) -> specs.Spec:
        n = self.num_agents
        return observation_spec(n, (1,), 2, self.max_steps, n, num_agent_types=n, view_bounds=(0.0, self.max_backlog))

    @cached_property
    def action_spec(self) -> specs.MultiDiscreteArray:
        return self.discrete_action_spec([2] * self.num_agents)

    def _obs(self, backlog, step_count):
        n = self.num_agents
        level = backlog.astype(jnp.float32)
        world = jnp.broadcast_to(level, (n, n))
        return self._observation(level[:, None], self._mask, step_count, global_state=world, agent_type=jnp.arange(n))

    def _arrivals(self, key, backlog):
        new = jax.random.bernoulli(key, self.arrival_prob, (self.num_agents,)).astype(jnp.int32)
        return jnp.minimum(backlog + new, self.max_backlog)

    def outcomes(self, backlog: chex.Array, action: chex.Array) -> tuple[chex.Array, chex.Array]:
        """``(success [N], collision [N])`` bool of the joint ``action`` at ``backlog``."""
        sends = (jnp.asarray(action) == 1) & (backlog > 0)
        jammed = jnp.any(jnp.asarray(self.interference) & sends[None, :], axis=1)
        return sends & ~jammed, sends & jammed

    def reset(self, key: chex.PRNGKey):
        key, key_arrive = jax.random.split(key)
        backlog = self._arrivals(key_arrive, jnp.zeros(self.num_agents, jnp.int32))
        state = AlohaState(key=key, step_count=jnp.int32(0), backlog=backlog)
        zero = jnp.float32(0.0)
        extras = {"metrics": {"transmissions": zero, "collisions": zero}}
        return state, restart(self._obs(backlog, 0), extras, shape=(self.num_agents,), dtype=jnp.float32)

    def step(self, state: AlohaState, action: chex.Array):
        key, key_arrive = jax.random.split(state.key)
        success, collision = self.outcomes(state.backlog, jnp.clip(jnp.asarray(action, jnp.int32), 0, 1))
        team = SUCCESS_REWARD * jnp.sum(success) + COLLISION_REWARD * jnp.sum(collision)
        backlog = self._arrivals(key_arrive, state.backlog - success.astype(jnp.int32))
        step_count = state.step_count + 1
        state = AlohaState(key=key, step_count=step_count, backlog=backlog)
        reward = jnp.full((self.num_agents,), team, jnp.float32)
        metrics = {
            "transmissions": jnp.sum(success, dtype=jnp.float32),
            "collisions": jnp.sum(collision, dtype=jnp.float32),
        }
        obs, extras = self._obs(backlog, step_count), {"metrics": metrics}
        timestep = self._time_limited_timestep(step_count, reward, obs, extras)
        return state, timestep

    def render(self, state: AlohaState):
        """Draw the islands on their grid, shaded by backlog."""
        from marljax.envs.coordination.viewer import draw_agents

        backlog = np.asarray(state.backlog)
        shade = [str(0.95 - 0.8 * b / self.max_backlog) for b in backlog]
        title = f"Aloha step {int(state.step_count)}/{self.max_steps}"
        return draw_agents(backlog, shade, [str(b) for b in backlog], title, rows=2)
