"""SimpleSpread: cooperative navigation -- N agents cover N landmarks without colliding.

Source: Lowe et al. 2017, "Multi-Agent Actor-Critic for Mixed Cooperative-Competitive
Environments" (OpenAI multiagent-particle-envs ``simple_spread``); layout, rewards and
constants follow JaxMARL's ``MPE_simple_spread_v3`` so that transitions match it to 1e-4.

- **Agents**: ``num_agents`` (default 3) discs of radius 0.15, acceleration 5, no speed cap;
  ``num_landmarks`` (default 3) fixed landmarks of radius 0.05. All start uniform in [-1, 1]^2.
- **Observation** ``agents_view [N, 4 + 2L + 4(N-1)]``: own velocity (2), own position (2),
  each landmark's position relative to the agent (2L), each other agent's relative position
  (2(N-1), in index order), and the (always silent) communication of the others (2(N-1)
  zeros, kept so the layout is MPE's). ``global_state``: every entity's position and every agent's velocity.
- **Action**: discrete ``[N]`` in {0 stay, 1 -x, 2 +x, 3 -y, 4 +y}, or with
  ``action_type="continuous"`` ``[N, 5]`` in [0, 1] (force = (a2 - a1, a4 - a3) * accel).
- **Reward** ``[N]``: ``local_ratio * (-#collisions of agent i) + (1 - local_ratio) *
  (-sum over landmarks of the distance to its nearest agent)``; default local_ratio 0.5.
- **Termination**: none; truncation after ``max_steps`` = 25 steps.
- **Metrics** (``extras["metrics"]``, see :mod:`marljax.metrics`): ``collisions`` (colliding
  agent pairs this step; an episode sums them), ``occupied_landmarks`` (landmarks with an agent
  within ``OCCUPIED_DISTANCE`` = 0.1 of their centre, MPE's ``benchmark_data`` criterion; an
  episode reports the final value: how many are covered when it ends, the task's outcome) and
  ``landmark_distance`` (sum over landmarks of the nearest agent's distance; an episode reports
  the mean over its steps, the quantity the shared reward integrates).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from marljax.envs.mpe.base import ParticleEnv, others
from marljax.physics.particles import ParticleWorld, pairwise_distance, pairwise_overlap

__all__ = ["SimpleSpread"]

AGENT_RADIUS, LANDMARK_RADIUS, ACCEL = 0.15, 0.05, 5.0
OCCUPIED_DISTANCE = 0.1  # MPE's benchmark_data: a landmark is occupied by an agent this close


class SimpleSpread(ParticleEnv):
    """Cooperative navigation: cover every landmark, avoid each other."""

    metrics = {"collisions": "sum", "occupied_landmarks": "final", "landmark_distance": "mean"}

    def __init__(
        self,
        num_agents: int = 3,
        num_landmarks: int = 3,
        local_ratio: float = 0.5,
        max_steps: int = 25,
        action_type: str = "discrete",
    ):
        if num_agents < 1 or num_landmarks < 1:
            raise ValueError(f"need at least one agent and one landmark; got {num_agents}, {num_landmarks}")
        if not 0.0 <= local_ratio <= 1.0:
            raise ValueError(f"local_ratio must lie in [0, 1]; got {local_ratio}")
        n, m = num_agents, num_landmarks
        self.num_world_agents = n
        self.num_landmarks = m
        self.local_ratio = float(local_ratio)
        is_agent = np.arange(n + m) < n
        self.world = ParticleWorld(
            radius=np.where(is_agent, AGENT_RADIUS, LANDMARK_RADIUS).astype(np.float32),
            mass=np.ones(n + m, np.float32),
            movable=is_agent,
            collide=is_agent,
            max_speed=np.where(is_agent, -1.0, 0.0).astype(np.float32),
            accel=np.full(n, ACCEL, np.float32),
        )
        self.agent_colors = ("tab:blue",) * n
        self._others = others(n)
        super().__init__(n, 4 + 2 * m + 4 * (n - 1), max_steps, action_type)

    def _views(self, pos, vel):
        n = self.num_agents
        agents = pos[:n]
        landmarks = pos[n:][None, :, :] - agents[:, None, :]
        other_pos = agents[self._others] - agents[:, None, :]
        silent_comm = jnp.zeros((n, 2 * (n - 1)), jnp.float32)
        return jnp.concatenate(
            [vel[:n], agents, landmarks.reshape(n, -1), other_pos.reshape(n, -1), silent_comm], axis=1
        )

    def _collisions(self, pos):
        n = self.num_agents
        radius = jnp.asarray(self.world.radius[:n])
        return pairwise_overlap(pos[:n], pos[:n], radius, radius) & ~jnp.eye(n, dtype=bool)

    def _nearest_agent_distance(self, pos):
        """``[L]`` each landmark's distance to its nearest agent."""
        return jnp.min(pairwise_distance(pos[: self.num_agents], pos[self.num_agents :]), axis=0)

    def _rewards(self, pos, vel):
        local = -jnp.sum(self._collisions(pos), axis=1).astype(jnp.float32)
        return self.local_ratio * local + (1.0 - self.local_ratio) * -jnp.sum(self._nearest_agent_distance(pos))

    def _metric_values(self, pos, vel):
        nearest = self._nearest_agent_distance(pos)
        return {
            "collisions": jnp.sum(self._collisions(pos)) / 2,  # each pair is counted from both sides
            "occupied_landmarks": jnp.sum(nearest < OCCUPIED_DISTANCE),
            "landmark_distance": jnp.sum(nearest),
        }
