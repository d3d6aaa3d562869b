"""Flocking-v0: holonomic agents flock around a moving target among obstacles (VMAS ``flocking``).

Source: Bettini, Kortvelesy, Blumenkamp and Prorok 2022, "VMAS: A Vectorized Multi-Agent
Simulator for Collective Robot Learning" (DARS), scenario ``flocking``. The parameters and the
task equal VMAS's defaults so that the throughput benchmark compares the same work; the
dynamics are re-implemented here (VMAS's contact law, which cuts off at contact, unlike MPE's).

- **World** (unbounded plane): a scripted target (radius 0.05) pushed by the unit force
  ``(cos(t/30), sin(t/30))`` at step t (a circle), ``num_agents`` agents (radius 0.05, mass 1,
  default 4) and ``num_obstacles`` fixed obstacles (radius 0.1, default 5). Target at (0, -1),
  everything else spawned in ``[-1, 1]^2`` at least 0.15 apart (:mod:`.generator`).
- **Physics** (VMAS's integrator): drag 0.25 once per step, then 5 substeps of ``dt / 5``
  (dt = 0.1): soft contacts between all colliding entities (force 400, margin 1e-3),
  ``v += F / m * dt/5``, ``x += v * dt/5``.
- **Observation** ``agents_view [N, 6 + num_lidar_rays]``: own position, own velocity, position
  relative to the target (own minus target), and a lidar of ``num_lidar_rays`` = 12 rays
  (angles ``2 pi k / 12``, range 0.2) that sees obstacles only: distance to the first hit, 0.2 if
  none. ``global_state [N, 6 + rays + 4]``: own view + the flock's ``(polarisation, mean
  distance to the target, target position)``.
- **Action** ``[N, 2]`` in ``[-1, 1]``: the force (VMAS ``u_range`` 1), clipped.
- **Reward** ``[N]`` per agent (VMAS's): ``collision_reward`` (-0.1) per other agent or the
  target closer than 0.005 surface to surface, plus the decrease of the shaping potential
  ``mean_{j != i} (|p_i - p_j| - 0.1)^2`` over the target and the other agents.
- **Termination**: none; truncation after ``max_steps`` (100).
- **Metrics / extras**: ``order_parameter`` (velocity polarisation ``|sum v| / sum |v|`` of the
  agents; episode mean), ``collisions`` (colliding pairs among target and agents; sum),
  ``target_distance`` (agents' mean distance to the target; mean).
- :meth:`Flocking.agent_states` gives ``[N, 4]``: position and velocity relative to the target.
"""

from __future__ import annotations

import math
from functools import cached_property

import chex
import jax
import jax.numpy as jnp
import numpy as np
from jumanji.types import restart, transition, truncation

from marljax.checks import integer, number
from marljax.envs.swarms.common.base import SwarmEnv
from marljax.envs.swarms.flocking.generator import spawn
from marljax.envs.swarms.flocking.types import FlockingState
from marljax.physics.order import velocity_polarisation
from marljax.physics.space import distance

__all__ = ["Flocking", "classic_policy", "lidar"]

AGENT_RADIUS, OBSTACLE_RADIUS = 0.05, 0.1
DESIRED_DISTANCE = 0.1
MIN_COLLISION_DISTANCE = 0.005
LIDAR_RANGE = 0.2
SPAWN_DISTANCE = 0.15
DT, DRAG, SUBSTEPS, COLLISION_FORCE, CONTACT_MARGIN = 0.1, 0.25, 5, 400.0, 1e-3
STANDOFF = 0.15  # the classic policy's distance to the target
TARGET_PERIOD = 30.0  # the target's force turns by 1/30 rad per step


def lidar(origin: chex.Array, centres: chex.Array, radii: chex.Array, num_rays: int, max_range: float) -> chex.Array:
    """Distances ``[N, num_rays]`` along rays at angles ``2 pi k / num_rays`` from each origin
    ``[N, 2]`` to the first of the discs ``(centres [M, 2], radii [M])``; ``max_range`` when no
    disc is hit within range, 0 from inside a disc.

    A ray ``p + t d`` meets the disc ``|x - c| = R`` at ``t = b - sqrt(R^2 - q^2)`` with
    ``b = d . (c - p)`` and ``q^2 = |c - p|^2 - b^2`` (when ``q < R``).
    """
    angles = 2.0 * jnp.pi * jnp.arange(num_rays) / num_rays
    direction = jnp.stack([jnp.cos(angles), jnp.sin(angles)], -1)  # [R, 2]
    to_centre = centres[None, :, :] - origin[:, None, :]  # [N, M, 2]
    along = jnp.einsum("nmd,rd->nrm", to_centre, direction)  # b, [N, R, M]
    square = jnp.sum(to_centre * to_centre, -1)[:, None, :]  # |c - p|^2
    half_chord = radii[None, None, :] ** 2 - (square - along**2)
    entry = along - jnp.sqrt(jnp.maximum(half_chord, 0.0))
    exit_ = along + jnp.sqrt(jnp.maximum(half_chord, 0.0))
    hit = (half_chord > 0) & (exit_ >= 0)
    t = jnp.where(hit, jnp.maximum(entry, 0.0), max_range)
    return jnp.minimum(jnp.min(t, axis=-1), max_range)


class Flocking(SwarmEnv):
    """VMAS ``flocking`` in JAX (see the module docstring)."""

    metrics = {"order_parameter": "mean", "collisions": "sum", "target_distance": "mean"}
    agent_state_names = ("x_from_target", "y_from_target", "vx", "vy")
    global_feature_names = ("polarisation", "target_distance", "target_x", "target_y")

    def __init__(
        self,
        num_agents: int = 4,
        num_obstacles: int = 5,
        num_lidar_rays: int = 12,
        collision_reward: float = -0.1,
        dist_shaping_factor: float = 1.0,
        max_steps: int = 100,
    ):
        num_agents = integer(1)("num_agents", num_agents)
        self.num_obstacles = integer(0)("num_obstacles", num_obstacles)
        self.num_lidar_rays = integer(1)("num_lidar_rays", num_lidar_rays)
        self.collision_reward = number()("collision_reward", collision_reward)
        self.dist_shaping_factor = number()("dist_shaping_factor", dist_shaping_factor)
        n, m = num_agents, self.num_obstacles
        self.num_entities = 1 + n + m
        free_area = 4.0 - (n + m) * math.pi * (SPAWN_DISTANCE / 2) ** 2
        if free_area <= 0:
            raise ValueError(f"{n} agents and {m} obstacles do not fit 0.15 apart in VMAS's [-1, 1]^2 spawn square")
        is_obstacle = np.arange(self.num_entities) > n
        self._radius = jnp.asarray(np.where(is_obstacle, OBSTACLE_RADIUS, AGENT_RADIUS), jnp.float32)
        super().__init__(num_agents, max_steps, 6 + self.num_lidar_rays, 2)

    @cached_property
    def _others(self) -> np.ndarray:
        """``[N, N]`` for agent i (world index i + 1): the world indices of the target and the other agents."""
        n = self.num_agents
        return np.array([[j for j in range(n + 1) if j != i + 1] for i in range(n)], np.int32).reshape(n, n)

    def _shaping(self, pos: chex.Array) -> chex.Array:
        agents = pos[1 : self.num_agents + 1]
        gap = distance(agents[:, None, :] - pos[self._others]) - DESIRED_DISTANCE
        return jnp.mean(gap * gap, axis=1) * self.dist_shaping_factor

    def _reset(self, key: chex.PRNGKey):
        key, spawn_key = jax.random.split(key)
        n, m = self.num_agents, self.num_obstacles
        placed = spawn(spawn_key, m + n, SPAWN_DISTANCE)  # target, obstacles, agents (VMAS's spawn order)
        pos = jnp.concatenate([placed[:1], placed[1 + m :], placed[1 : 1 + m]])  # target, agents, obstacles
        vel = jnp.zeros_like(pos)
        state = FlockingState(key=key, step_count=jnp.int32(0), pos=pos, vel=vel, shaping=self._shaping(pos))
        return state, self._observe(state, jnp.zeros((n,), jnp.float32), first=True)

    def _step(self, state: FlockingState, action: chex.Array):
        movers = self.num_agents + 1  # the target and the agents; obstacles never move
        t = state.step_count.astype(jnp.float32) / TARGET_PERIOD
        control = jnp.concatenate([jnp.stack([jnp.cos(t), jnp.sin(t)])[None, :], jnp.clip(action, -1.0, 1.0)])
        pos, vel = state.pos[:movers], state.vel[:movers] * (1.0 - DRAG)
        obstacles = state.pos[movers:]
        sub_dt = DT / SUBSTEPS
        for _ in range(SUBSTEPS):  # unrolled: five tiny steps
            vel = vel + (control + self._contact_forces(pos, obstacles)) * sub_dt
            pos = pos + vel * sub_dt
        pos = jnp.concatenate([pos, obstacles])
        vel = jnp.concatenate([vel, jnp.zeros_like(obstacles)])
        shaping = self._shaping(pos)
        reward = self._collision_penalty(pos) + state.shaping - shaping
        state = FlockingState(key=state.key, step_count=state.step_count + 1, pos=pos, vel=vel, shaping=shaping)
        return state, self._observe(state, reward, first=False)

    def _contact_forces(self, movers: chex.Array, obstacles: chex.Array) -> chex.Array:
        """``[1 + N, 2]`` soft contact forces on the target and the agents from every other entity.

        VMAS's contact: ``400 * k log(1 + exp((r_a + r_b - d) / k)) * (x_a - x_b) / d`` (margin
        k = 1e-3) while the discs are within ``r_a + r_b``, zero beyond. Only rows of movable
        entities are computed: the obstacles' rows would be multiplied by zero.
        """
        everyone = jnp.concatenate([movers, obstacles])
        delta = movers[:, None, :] - everyone[None, :, :]  # [1 + N, E, 2]
        num = movers.shape[0]
        other = ~jnp.eye(num, self.num_entities, dtype=bool)
        dist = jnp.where(other, jnp.sqrt(jnp.sum(delta * delta, -1)), 1.0)
        reach = self._radius[:num, None] + self._radius[None, :]
        penetration = jnp.logaddexp(0.0, (reach - dist) / CONTACT_MARGIN) * CONTACT_MARGIN
        magnitude = jnp.where(other & (dist <= reach), COLLISION_FORCE * penetration / dist, 0.0)
        return jnp.sum(magnitude[..., None] * delta, axis=1)

    def _contacts(self, pos: chex.Array) -> chex.Array:
        """``[N + 1, N + 1]`` True where two of (target, agents) are within 0.005 surface to surface."""
        movers = pos[: self.num_agents + 1]
        gap = distance(movers[:, None, :] - movers[None, :, :]) - 2 * AGENT_RADIUS
        return (gap <= MIN_COLLISION_DISTANCE) & ~jnp.eye(self.num_agents + 1, dtype=bool)

    def _collision_penalty(self, pos: chex.Array) -> chex.Array:
        return self.collision_reward * jnp.sum(self._contacts(pos)[1:], axis=1)

    def _observe(self, state: FlockingState, reward: chex.Array, first: bool):
        n = self.num_agents
        pos, vel = state.pos[1 : n + 1], state.vel[1 : n + 1]
        target = state.pos[0]
        obstacles = state.pos[n + 1 :]
        rays = lidar(pos, obstacles, self._radius[n + 1 :], self.num_lidar_rays, LIDAR_RANGE)
        views = jnp.concatenate([pos, vel, pos - target, rays], axis=1)
        order = velocity_polarisation(vel)
        target_distance = jnp.mean(distance(pos - target))
        metrics = {
            "order_parameter": order,
            "collisions": jnp.sum(self._contacts(state.pos)) / 2,
            "target_distance": target_distance,
        }
        swarm = jnp.broadcast_to(jnp.stack([order, target_distance, target[0], target[1]]), (n, 4))
        obs = self._observation(views, self._mask, state.step_count, jnp.concatenate([views, swarm], 1))
        extras = {"metrics": metrics, "order_parameter": order}
        if first:
            return restart(obs, extras, shape=(n,), dtype=jnp.float32)
        reward = reward.astype(jnp.float32)
        return jax.lax.cond(
            state.step_count >= self.max_steps,
            lambda: truncation(reward, obs, extras=extras, shape=(n,), dtype=jnp.float32),
            lambda: transition(reward, obs, extras=extras, shape=(n,), dtype=jnp.float32),
        )

    def agent_states(self, state: FlockingState) -> chex.Array:
        """``[N, 4]``: each agent's position relative to the target and its velocity."""
        n = self.num_agents
        return jnp.concatenate([state.pos[1 : n + 1] - state.pos[0], state.vel[1 : n + 1]], axis=1)

    def render(self, state: FlockingState):
        """Agents (blue), the target (green) and obstacles (red), framed around the action."""
        from marljax.envs.swarms.common.viewer import draw_points

        n = self.num_agents
        pos = np.asarray(state.pos)
        obstacles = [(x, y, OBSTACLE_RADIUS) for x, y in pos[n + 1 :]]
        lim = max(1.3, float(np.abs(pos).max()) + 0.2)
        title = f"Flocking  N={n}  step {int(state.step_count)}/{self.max_steps}"
        target = (pos[0, 0], pos[0, 1], AGENT_RADIUS)
        return draw_points(pos[1 : n + 1], 2 * lim, title, lim=(-lim, lim), obstacles=obstacles, target=target)

    def __repr__(self) -> str:
        return f"Flocking(num_agents={self.num_agents}, num_obstacles={self.num_obstacles}, max_steps={self.max_steps})"


def classic_policy(env: Flocking):
    """Follow the target: a PD controller to the point ``STANDOFF`` (0.15) from the target on the
    agent's side -- the reward's ideal spacing is 0.1 centre to centre, but closer than 0.105
    is a collision -- plus a push away from the nearest obstacle the lidar sees within 0.1
    (VMAS's heuristic's avoidance rule)."""
    rays = env.num_lidar_rays
    angles = 2.0 * jnp.pi * jnp.arange(rays) / rays
    ray_direction = jnp.stack([jnp.cos(angles), jnp.sin(angles)], -1)

    def policy(key, observation):
        view = observation.agents_view
        vel, offset, scan = view[:, 2:4], view[:, 4:6], view[:, 6:]
        gap = jnp.sqrt(jnp.sum(offset * offset, -1, keepdims=True))
        error = -offset * (1.0 - STANDOFF / jnp.maximum(gap, 1e-6))
        force = 4.0 * error - 2.0 * vel
        nearest = jnp.argmin(scan, axis=1)
        close = jnp.min(scan, axis=1, keepdims=True) < 0.1
        force = jnp.where(close, force - 2.0 * ray_direction[nearest], force)
        return jnp.clip(force, -1.0, 1.0)

    return policy
