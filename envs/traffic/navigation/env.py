"""NonCoopNavigation: iPLAN's non-cooperative navigation, a modified MPE spread with agent kinds.

Source: Wu et al. 2023, "iPLAN: Intent-Aware Planning in Heterogeneous Traffic via Distributed
Multi-Agent Reinforcement Learning" (CoRL), whose second benchmark modifies MPE's
``simple_spread`` (Lowe et al. 2017) into a self-interested task with heterogeneous agents.
Physics: :mod:`marljax.physics.particles` through :class:`marljax.envs.mpe.base.ParticleEnv`.

- **Agents**: 3 learners of three kinds ``(radius, action scale)``: normal (0.08, 1.0),
  small-fast (0.06, 1.1), large-slow (0.10, 0.9); mass 1, no speed cap, MPE contacts (dt 0.1,
  damping 0.25, force 100, margin 1e-3). ``variant="hard"`` adds a fourth, *normal* agent that
  moves uniformly at random each step (drawn from ``state.key``): part of the world, not a
  learner -- it has no action, no reward and no row in the observation.
- **Landmarks**: 3, at distinct points of the grid of multiples of 0.2 in [-0.8, 0.8]^2;
  agents start uniform in [-1, 1]^2 at rest.
- **Observation** ``agents_view [3, 4 + 4(W-1) + 6]`` (W world agents: 3 easy, 4 hard): own
  position (2) and velocity (2), the other world agents' positions and velocities relative to
  its own (2(W-1) each, in index order), the landmarks' positions relative to it (6).
  ``agent_type [3]``: 0 normal, 1 small-fast, 2 large-slow. ``global_state``: every entity's
  position and every world agent's velocity.
- **Action** ``[3]`` int32 in {0 stay, 1 -x, 2 +x, 3 -y, 4 +y}: force 5 x the agent's action
  scale (or ``action_type="continuous"``: ``[3, 5]`` MPE intensities in [0, 1]).
- **Reward** ``[3]``: with ``d_i`` agent i's distance to its nearest landmark and ``C`` the
  number of colliding *ordered* pairs of world agents (the random one included; discs overlap),

      r_i = -d_i - 5 C + [C = 0] (10 [d_i < 0.1] + 100 [d_k < 0.1 for every learner k]).

  "Every agent" of the +100 bonus means the learners: the random agent cannot be asked to help.
- **Termination**: none; truncation after ``max_steps`` = 50 steps.
- **Metrics** (``extras["metrics"]``): ``collisions`` (colliding unordered pairs this step,
  summed over an episode), ``occupied_landmarks`` (landmarks with a world agent within 0.1,
  final), ``success`` (1 when the +100 bonus is paid, final), ``landmark_distance`` (mean over
  learners of ``d_i``, averaged over the episode).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jumanji.types import restart, transition, truncation

from marljax.envs.mpe.base import ARENA, ParticleEnv, ParticleState, others
from marljax.physics.particles import NUM_DISCRETE_MOVES, ParticleWorld, discrete_control, pairwise_distance

__all__ = ["NonCoopNavigation", "AGENT_KINDS", "VARIANTS", "landmark_grid"]

#: ``name: (radius, action scale)`` of each learner kind, in ``agent_type`` order.
AGENT_KINDS = {"normal": (0.08, 1.0), "small-fast": (0.06, 1.1), "large-slow": (0.10, 0.9)}
VARIANTS = ("easy", "hard")
NUM_LANDMARKS = 3
BASE_FORCE = 5.0  # force of a discrete move at action scale 1
LANDMARK_RADIUS = 0.05  # drawing only: landmarks do not collide
NEAR = 0.1  # "on a landmark": the +10 / +100 bonuses and the occupied-landmark metric
COLLISION_PENALTY, NEAR_BONUS, ALL_NEAR_BONUS = 5.0, 10.0, 100.0


def landmark_grid(spacing: float = 0.2, extent: float = 0.8) -> np.ndarray:
    """``[G, 2]`` every point ``(i, j) * spacing`` with both coordinates in ``[-extent, extent]``."""
    ticks = np.arange(-round(extent / spacing), round(extent / spacing) + 1) * spacing
    return np.stack(np.meshgrid(ticks, ticks, indexing="ij"), -1).reshape(-1, 2).astype(np.float32)


class NonCoopNavigation(ParticleEnv):
    """Self-interested navigation of three heterogeneous agents (plus a random one when hard)."""

    metrics = {"collisions": "sum", "occupied_landmarks": "final", "success": "final", "landmark_distance": "mean"}

    def __init__(self, variant: str = "easy", max_steps: int = 50, action_type: str = "discrete"):
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}; got {variant!r}")
        self.variant = variant
        kinds = list(AGENT_KINDS.values())
        world_kinds = kinds + ([AGENT_KINDS["normal"]] if variant == "hard" else [])
        n, w, m = len(kinds), len(world_kinds), NUM_LANDMARKS
        self.num_world_agents = w
        self.num_landmarks = m
        radius = np.array([r for r, _ in world_kinds] + [LANDMARK_RADIUS] * m, np.float32)
        self.world = ParticleWorld(
            radius=radius,
            mass=np.ones(w + m, np.float32),
            movable=np.arange(w + m) < w,
            collide=np.arange(w + m) < w,
            max_speed=np.where(np.arange(w + m) < w, -1.0, 0.0).astype(np.float32),
            accel=np.array([BASE_FORCE * scale for _, scale in world_kinds], np.float32),
        )
        self.agent_colors = ("tab:blue", "tab:green", "tab:purple", "tab:red")[:w]
        self._others = others(w)
        self._grid = jnp.asarray(landmark_grid())
        super().__init__(
            n, 4 + 4 * (w - 1) + 2 * m, max_steps, action_type, agent_type=np.arange(n), num_agent_types=len(kinds)
        )

    # ----- world ---------------------------------------------------------------------------
    def reset(self, key):
        key, agent_key, landmark_key = jax.random.split(key, 3)
        agents = jax.random.uniform(agent_key, (self.num_world_agents, 2), jnp.float32, -ARENA, ARENA)
        cells = jax.random.choice(landmark_key, self._grid.shape[0], (self.num_landmarks,), replace=False)
        pos = jnp.concatenate([agents, self._grid[cells]])
        vel = jnp.zeros_like(pos)
        state = ParticleState(key=key, step_count=jnp.int32(0), pos=pos, vel=vel)
        obs = self._timestep_observation(pos, vel, 0)
        return state, restart(obs, self._extras(pos, vel), shape=(self.num_agents,), dtype=jnp.float32)

    def step(self, state: ParticleState, action):
        key, move_key = jax.random.split(state.key)
        num_random = self.num_world_agents - self.num_agents
        moves = jax.random.randint(move_key, (num_random,), 0, NUM_DISCRETE_MOVES)
        random_force = discrete_control(moves, jnp.asarray(self.world.accel[self.num_agents :]))
        pos, vel = self.world.step(state.pos, state.vel, jnp.concatenate([self._control(action), random_force]))
        step_count = state.step_count + 1
        state = ParticleState(key=key, step_count=step_count, pos=pos, vel=vel)
        obs = self._timestep_observation(pos, vel, step_count)
        reward = self._rewards(pos, vel)
        extras = self._extras(pos, vel)
        shape = (self.num_agents,)
        timestep = jax.lax.cond(
            step_count >= self.max_steps,
            lambda: truncation(reward, obs, extras=extras, shape=shape, dtype=jnp.float32),
            lambda: transition(reward, obs, extras=extras, shape=shape, dtype=jnp.float32),
        )
        return state, timestep

    # ----- task ----------------------------------------------------------------------------
    def _views(self, pos, vel):
        n, w = self.num_agents, self.num_world_agents
        me_pos, me_vel = pos[:n], vel[:n]
        other_pos = pos[:w][self._others[:n]] - me_pos[:, None, :]
        other_vel = vel[:w][self._others[:n]] - me_vel[:, None, :]
        landmarks = pos[w:][None, :, :] - me_pos[:, None, :]
        return jnp.concatenate(
            [me_pos, me_vel, other_pos.reshape(n, -1), other_vel.reshape(n, -1), landmarks.reshape(n, -1)], axis=1
        )

    def colliding_pairs(self, pos):
        """``[W, W]`` True where world agents i != j overlap (each pair appears twice)."""
        w = self.num_world_agents
        radius = jnp.asarray(self.world.radius[:w])
        dist = pairwise_distance(pos[:w], pos[:w])
        return (dist < radius[:, None] + radius[None, :]) & ~jnp.eye(w, dtype=bool)

    def landmark_distance(self, pos):
        """``[W]`` each world agent's distance to its nearest landmark."""
        w = self.num_world_agents
        return jnp.min(pairwise_distance(pos[:w], pos[w:]), axis=1)

    def _rewards(self, pos, vel):
        n = self.num_agents
        ordered_collisions = jnp.sum(self.colliding_pairs(pos)).astype(jnp.float32)
        dist = self.landmark_distance(pos)[:n]
        near = dist < NEAR
        bonus = NEAR_BONUS * near + ALL_NEAR_BONUS * jnp.all(near)
        return (-dist - COLLISION_PENALTY * ordered_collisions + jnp.where(ordered_collisions == 0, bonus, 0.0)).astype(
            jnp.float32
        )

    def _metric_values(self, pos, vel):
        w, n = self.num_world_agents, self.num_agents
        pairs = jnp.sum(self.colliding_pairs(pos)) / 2
        dist = self.landmark_distance(pos)
        occupied = jnp.any(pairwise_distance(pos[:w], pos[w:]) < NEAR, axis=0)
        return {
            "collisions": pairs,
            "occupied_landmarks": jnp.sum(occupied),
            "success": (pairs == 0) & jnp.all(dist[:n] < NEAR),
            "landmark_distance": jnp.mean(dist[:n]),
        }
