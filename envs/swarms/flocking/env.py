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

Under ``vmap`` the step and the reset's observation run batch-last
(:func:`~marljax.physics.particles.batch_minor`): coordinates ``[E, B]`` with the envs on the
minor axis, where XLA vectorises the pairwise contacts and the lidar (an order of magnitude
faster on a CPU than ``vmap``'s batch-first layout of a 10-entity world).
"""

from __future__ import annotations

import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
from jumanji.types import StepType, TimeStep, restart

from marljax.checks import integer, number
from marljax.envs.swarms.common.base import SwarmEnv
from marljax.envs.swarms.flocking.generator import spawn
from marljax.envs.swarms.flocking.types import FlockingState
from marljax.physics.particles import batch_minor

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
    ox, oy, cx, cy = (a[..., None] for a in (origin[:, 0], origin[:, 1], centres[:, 0], centres[:, 1]))
    return _lidar(ox, oy, cx, cy, np.asarray(radii), num_rays, max_range)[..., 0]


def _lidar(ox, oy, cx, cy, radii, num_rays: int, max_range: float) -> chex.Array:
    """:func:`lidar` on coordinates with a trailing batch axis: origins ``ox, oy [N, B]``, disc
    centres ``cx, cy [M, B]``, static ``radii [M]``; returns ``[N, num_rays, B]``. The ray
    directions are constants and ``|c - p|^2`` is computed once per origin and disc."""
    angles = 2.0 * np.pi * np.arange(num_rays) / num_rays
    cos, sin = (jnp.asarray(f(angles), jnp.float32)[None, :, None, None] for f in (np.cos, np.sin))
    to_x, to_y = cx[None, :] - ox[:, None], cy[None, :] - oy[:, None]  # [N, M, B]
    square = (to_x * to_x + to_y * to_y)[:, None]  # |c - p|^2, [N, 1, M, B]
    along = to_x[:, None] * cos + to_y[:, None] * sin  # b, [N, R, M, B]
    half_chord = jnp.asarray(radii, jnp.float32)[:, None] ** 2 - (square - along**2)
    root = jnp.sqrt(jnp.maximum(half_chord, 0.0))
    hit = (half_chord > 0) & (along + root >= 0)
    t = jnp.where(hit, jnp.maximum(along - root, 0.0), max_range)
    return jnp.minimum(jnp.min(t, axis=2), max_range)


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
        self._radius = np.where(is_obstacle, OBSTACLE_RADIUS, AGENT_RADIUS).astype(np.float32)
        super().__init__(num_agents, max_steps, 6 + self.num_lidar_rays, 2)
        # The physics and observations run batch-last under vmap (see marljax.physics.particles.batch_minor).
        self._step_kernel = batch_minor(self._advance_and_observe)
        self._reset_kernel = batch_minor(self._observe_layout)

    # Kernels: coordinates carry one trailing batch axis B (world layout [E, 2, B]); entities in
    # VMAS's order: the target (0), the agents (1..N), the obstacles (N + 1..).
    def _mover_distances(self, x, y):
        """``[M, M, B]`` centre distances among the M = N + 1 movers (target and agents)."""
        dx, dy = x[:, None] - x[None, :], y[:, None] - y[None, :]
        return jnp.sqrt(dx * dx + dy * dy)

    def _shaping(self, mover_dist):
        """``[N, B]``: each agent's potential ``mean_{j != i} (|p_i - p_j| - 0.1)^2`` over the target
        and the other agents (the diagonal is masked out)."""
        n = self.num_agents
        gap = mover_dist[1:] - DESIRED_DISTANCE
        others = jnp.asarray(~np.eye(n, n + 1, 1, dtype=bool))[..., None]
        return jnp.sum(jnp.where(others, gap * gap, 0.0), axis=1) / n * self.dist_shaping_factor

    def _contacts(self, mover_dist):
        """``[M, M, B]`` True where two movers are within 0.005 surface to surface."""
        close = mover_dist - 2 * AGENT_RADIUS <= MIN_COLLISION_DISTANCE
        return close & jnp.asarray(~np.eye(self.num_agents + 1, dtype=bool))[..., None]

    def _contact_forces(self, x, y, obstacle_x, obstacle_y):
        """``([M, B], [M, B])`` soft contact forces on the target and the agents from every other entity.

        VMAS's contact: ``400 * k log(1 + exp((r_a + r_b - d) / k)) * (x_a - x_b) / d`` (margin
        k = 1e-3) while the discs are within ``r_a + r_b``, zero beyond. Only rows of movable
        entities are computed: the obstacles' rows would be multiplied by zero.
        """
        num = x.shape[0]
        dx = x[:, None] - jnp.concatenate([x, obstacle_x])[None]  # [M, E, B]
        dy = y[:, None] - jnp.concatenate([y, obstacle_y])[None]
        other = jnp.asarray(~np.eye(num, self.num_entities, dtype=bool))[..., None]
        dist = jnp.where(other, jnp.sqrt(dx * dx + dy * dy), 1.0)
        reach = jnp.asarray(self._radius[:num, None] + self._radius[None, :])[..., None]
        penetration = jnp.logaddexp(0.0, (reach - dist) / CONTACT_MARGIN) * CONTACT_MARGIN
        magnitude = jnp.where(other & (dist <= reach), COLLISION_FORCE * penetration / dist, 0.0)
        return jnp.sum(magnitude * dx, axis=1), jnp.sum(magnitude * dy, axis=1)

    def _advance_and_observe(self, pos, vel, shaping, step_count, action):
        """One step of every env: ``pos, vel [E, 2, B]``, ``shaping [N, B]``, ``step_count [B]``,
        ``action [N, 2, B]`` -> the new ``(pos, vel, shaping)``, the reward ``[N, B]`` and
        :meth:`_observe_layout`'s observation parts."""
        movers = self.num_agents + 1  # the target and the agents; obstacles never move
        t = step_count.astype(jnp.float32) / TARGET_PERIOD
        control_x = jnp.concatenate([jnp.cos(t)[None], jnp.clip(action[:, 0], -1.0, 1.0)])
        control_y = jnp.concatenate([jnp.sin(t)[None], jnp.clip(action[:, 1], -1.0, 1.0)])
        x, y = pos[:movers, 0], pos[:movers, 1]
        vx, vy = vel[:movers, 0] * (1.0 - DRAG), vel[:movers, 1] * (1.0 - DRAG)
        obstacle_x, obstacle_y = pos[movers:, 0], pos[movers:, 1]
        sub_dt = DT / SUBSTEPS
        for _ in range(SUBSTEPS):  # unrolled: five tiny steps
            fx, fy = self._contact_forces(x, y, obstacle_x, obstacle_y)
            vx, vy = vx + (control_x + fx) * sub_dt, vy + (control_y + fy) * sub_dt
            x, y = x + vx * sub_dt, y + vy * sub_dt
        pos = jnp.concatenate([jnp.stack([x, y], 1), pos[movers:]])
        vel = jnp.concatenate([jnp.stack([vx, vy], 1), jnp.zeros_like(pos[movers:])])
        new_shaping, views, global_state, metrics = self._observe_layout(pos, vel)
        contacts = self._contacts(self._mover_distances(x, y))
        reward = self.collision_reward * jnp.sum(contacts[1:], axis=1) + shaping - new_shaping
        return pos, vel, new_shaping, reward, views, global_state, metrics

    def _observe_layout(self, pos, vel):
        """``pos, vel [E, 2, B]`` -> ``(shaping [N, B], views [N, V, B], global_state [N, V + 4, B],
        metrics)``: own position, velocity, position minus the target's and the obstacle lidar;
        the global state appends the flock's polarisation, mean target distance and the target."""
        n = self.num_agents
        x, y = pos[: n + 1, 0], pos[: n + 1, 1]
        vx, vy = vel[1 : n + 1, 0], vel[1 : n + 1, 1]
        mover_dist = self._mover_distances(x, y)
        rays = _lidar(
            x[1:], y[1:], pos[n + 1 :, 0], pos[n + 1 :, 1], self._radius[n + 1 :], self.num_lidar_rays, LIDAR_RANGE
        )
        own = jnp.stack([x[1:], y[1:], vx, vy, x[1:] - x[0], y[1:] - y[0]], 1)
        views = jnp.concatenate([own, rays], 1)  # [N, V, B]
        # velocity polarisation |sum v| / sum |v| (marljax.physics.order), written for the batch axis
        sum_x, sum_y = jnp.sum(vx, 0), jnp.sum(vy, 0)
        order = jnp.sqrt(sum_x * sum_x + sum_y * sum_y) / (jnp.sum(jnp.sqrt(vx * vx + vy * vy), 0) + 1e-9)
        target_distance = jnp.mean(mover_dist[0, 1:], axis=0)
        swarm = jnp.stack([order, target_distance, x[0], y[0]])  # [4, B]
        global_state = jnp.concatenate([views, jnp.broadcast_to(swarm[None], (n,) + swarm.shape)], 1)
        metrics = {
            "order_parameter": order,
            "collisions": jnp.sum(self._contacts(mover_dist), axis=(0, 1)) / 2,
            "target_distance": target_distance,
        }
        return self._shaping(mover_dist), views, global_state, metrics

    def _reset(self, key: chex.PRNGKey):
        key, spawn_key = jax.random.split(key)
        n, m = self.num_agents, self.num_obstacles
        placed = spawn(spawn_key, m + n, SPAWN_DISTANCE)  # target, obstacles, agents (VMAS's spawn order)
        pos = jnp.concatenate([placed[:1], placed[1 + m :], placed[1 : 1 + m]])  # target, agents, obstacles
        vel = jnp.zeros_like(pos)
        shaping, views, global_state, metrics = self._reset_kernel(pos, vel)
        state = FlockingState(key=key, step_count=jnp.int32(0), pos=pos, vel=vel, shaping=shaping)
        obs = self._observation(views, self._mask, state.step_count, global_state)
        extras = {"metrics": metrics, "order_parameter": metrics["order_parameter"]}
        return state, restart(obs, extras, shape=(n,), dtype=jnp.float32)

    def _step(self, state: FlockingState, action: chex.Array):
        n = self.num_agents
        pos, vel, shaping, reward, views, global_state, metrics = self._step_kernel(
            state.pos, state.vel, state.shaping, state.step_count, action
        )
        state = FlockingState(key=state.key, step_count=state.step_count + 1, pos=pos, vel=vel, shaping=shaping)
        obs = self._observation(views, self._mask, state.step_count, global_state)
        extras = {"metrics": metrics, "order_parameter": metrics["order_parameter"]}
        # A truncation at the time limit, a transition before (discount 1 either way): one
        # timestep built arithmetically, not a lax.cond, which vmap turns into both branches.
        last = state.step_count >= self.max_steps
        step_type = jnp.where(last, StepType.LAST, StepType.MID).astype(jnp.int8)
        ones = jnp.ones((n,), jnp.float32)
        return state, TimeStep(step_type=step_type, reward=reward, discount=ones, observation=obs, extras=extras)

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
