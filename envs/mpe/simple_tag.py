"""SimpleTag: predator-prey -- slower predators chase faster prey among obstacles.

Source: Lowe et al. 2017, "Multi-Agent Actor-Critic for Mixed Cooperative-Competitive
Environments" (OpenAI multiagent-particle-envs ``simple_tag``); layout, rewards and constants
follow JaxMARL's ``MPE_simple_tag_v3`` so that transitions match it to 1e-4.

- **Agents**: ``num_predators`` (default 3; radius 0.075, acceleration 3, speed 1.0) then
  ``num_prey`` (default 1; radius 0.05, acceleration 4, speed 1.3) and ``num_obstacles``
  (default 2) fixed obstacles of radius 0.2; everything collides. Speeds (and accelerations)
  are per-agent parameters: ``speeds=(...)`` overrides the defaults agent by agent.
- **Prey**: with ``prey="learn"`` (default) the prey are agents of the env (``agent_type`` 1);
  with ``prey="scripted"`` only the predators are agents and each prey flees its predators
  (the move that best follows the sum of inverse-square repulsions, pulled back in near the
  arena's edge).
- **Observation** ``agents_view [N, 4 + 2O + 2(P+Y-1) + 2Y]``: own velocity, own position,
  obstacles relative (2O), other agents relative (index order), then the velocities of the
  prey other than oneself (a prey's row is zero-padded at the end). ``agent_type``: 0
  predator, 1 prey. ``global_state``: every entity's position and every agent's velocity.
- **Action**: discrete ``[N]`` in {0 stay, 1 -x, 2 +x, 3 -y, 4 +y} or ``[N, 5]`` continuous.
- **Reward** ``[N]``: every predator gets +10 per predator-prey contact (shared); each prey
  gets -10 per contact with a predator minus a boundary penalty per coordinate
  (0 below 0.9, 10 (|x| - 0.9) below 1, min(exp(2|x| - 2), 10) beyond).
- **Termination**: none; truncation after ``max_steps`` = 25 steps.
- **Metrics** (``extras["metrics"]``, see :mod:`marljax.metrics`): ``catches``, the
  predator-prey contacts this step; an episode sums them.
"""

from __future__ import annotations

from typing import Optional, Sequence

import jax.numpy as jnp
import numpy as np

from marljax.envs.mpe.base import ParticleEnv, others
from marljax.physics.particles import NUM_DISCRETE_MOVES, ParticleWorld, discrete_control, pairwise_overlap

__all__ = ["SimpleTag", "boundary_penalty"]

PREDATOR, PREY = 0, 1
PREY_MODES = ("learn", "scripted")


def boundary_penalty(pos):
    """MPE's soft arena wall: penalty per coordinate of ``|pos|``, summed over the last axis."""
    x = jnp.abs(pos)
    inside_margin = (x - 0.9) * 10.0
    outside = jnp.minimum(jnp.exp(2.0 * x - 2.0), 10.0)
    return jnp.sum(jnp.where(x < 0.9, 0.0, jnp.where(x < 1.0, inside_margin, outside)), -1)


class SimpleTag(ParticleEnv):
    """Predator-prey with per-agent speeds and learning or scripted prey."""

    metrics = {"catches": "sum"}

    def __init__(
        self,
        num_predators: int = 3,
        num_prey: int = 1,
        num_obstacles: int = 2,
        predator_speed: float = 1.0,
        prey_speed: float = 1.3,
        speeds: Optional[Sequence[float]] = None,
        accels: Optional[Sequence[float]] = None,
        prey: str = "learn",
        max_steps: int = 25,
        action_type: str = "discrete",
    ):
        if num_predators < 1 or num_prey < 1 or num_obstacles < 0:
            raise ValueError(
                f"need >= 1 predator and prey, >= 0 obstacles; got {num_predators}, {num_prey}, {num_obstacles}"
            )
        if prey not in PREY_MODES:
            raise ValueError(f"prey must be one of {PREY_MODES}; got {prey!r}")
        p, y, o = num_predators, num_prey, num_obstacles
        a = p + y
        kind = np.array([PREDATOR] * p + [PREY] * y)
        speeds = (
            np.where(kind == PREDATOR, predator_speed, prey_speed) if speeds is None else np.asarray(speeds, np.float32)
        )
        accels = np.where(kind == PREDATOR, 3.0, 4.0) if accels is None else np.asarray(accels, np.float32)
        if speeds.shape != (a,) or accels.shape != (a,):
            raise ValueError(f"speeds and accels need one entry per agent ({a}); got {speeds.shape}, {accels.shape}")
        if np.any(speeds <= 0) or np.any(accels <= 0):
            raise ValueError(f"speeds and accels must be positive; got {speeds.tolist()}, {accels.tolist()}")
        self.num_predators, self.num_prey, self.num_obstacles = p, y, o
        self.num_world_agents = a
        self.prey_mode = prey
        self.world = ParticleWorld(
            radius=np.concatenate([np.where(kind == PREDATOR, 0.075, 0.05), np.full(o, 0.2)]).astype(np.float32),
            mass=np.ones(a + o, np.float32),
            movable=np.arange(a + o) < a,
            collide=np.ones(a + o, bool),
            max_speed=np.concatenate([speeds, np.zeros(o)]).astype(np.float32),
            accel=accels.astype(np.float32),
        )
        self.agent_colors = ("tab:red",) * p + ("tab:green",) * y
        self._others = others(a)
        self._kind = kind
        num_agents = a if prey == "learn" else p
        view = 4 + 2 * o + 2 * (a - 1) + 2 * y
        super().__init__(
            num_agents,
            view,
            max_steps,
            action_type,
            agent_type=kind[:num_agents],
            num_agent_types=2 if prey == "learn" else 1,
        )

    def _catches(self, pos):
        """``[Y, P]`` True where prey y touches predator p."""
        p, a = self.num_predators, self.num_world_agents
        radius = jnp.asarray(self.world.radius)
        return pairwise_overlap(pos[p:a], pos[:p], radius[p:a], radius[:p])

    def _views(self, pos, vel):
        p, a = self.num_predators, self.num_world_agents
        agents = pos[:a]
        obstacles = (pos[a:][None, :, :] - agents[:, None, :]).reshape(a, -1)
        other_pos = (agents[self._others] - agents[:, None, :]).reshape(a, -1)
        # Velocities of the prey among each agent's others, padded to num_prey entries.
        prey_vel = vel[p:a]
        predator_rows = jnp.broadcast_to(prey_vel.reshape(1, -1), (p, 2 * self.num_prey))
        prey_others = others(self.num_prey)
        prey_rows = jnp.concatenate(
            [prey_vel[prey_others].reshape(self.num_prey, -1), jnp.zeros((self.num_prey, 2), jnp.float32)], 1
        )
        views = jnp.concatenate(
            [vel[:a], agents, obstacles, other_pos, jnp.concatenate([predator_rows, prey_rows])], axis=1
        )
        return views[: self.num_agents]

    def _rewards(self, pos, vel):
        catches = self._catches(pos)
        predator = jnp.full((self.num_predators,), 10.0 * jnp.sum(catches))
        prey = -10.0 * jnp.sum(catches, axis=1) - boundary_penalty(pos[self.num_predators : self.num_world_agents])
        return jnp.concatenate([predator, prey])[: self.num_agents]

    def _metric_values(self, pos, vel):
        return {"catches": jnp.sum(self._catches(pos))}

    def _scripted_control(self, pos, vel):
        if self.prey_mode == "learn":
            return jnp.zeros((0, 2), jnp.float32)
        p, a = self.num_predators, self.num_world_agents
        away = pos[p:a][:, None, :] - pos[:p][None, :, :]  # [Y, P, 2]
        flee = jnp.sum(away / (jnp.sum(away * away, -1, keepdims=True) + 1e-3), axis=1)
        edge = jnp.clip(jnp.abs(pos[p:a]) - 0.8, 0.0) * jnp.sign(pos[p:a]) * 20.0
        direction = flee - edge
        moves = discrete_control(jnp.arange(NUM_DISCRETE_MOVES), jnp.ones(NUM_DISCRETE_MOVES))
        best = jnp.argmax(direction @ moves.T, axis=-1)
        return discrete_control(best, jnp.asarray(self.world.accel[p:a]))
