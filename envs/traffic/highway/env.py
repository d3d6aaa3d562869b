"""HeterogeneousHighway: learning vehicles among IDM/MOBIL traffic of normal, aggressive and defensive drivers.

Source: Wu et al. (2023), "Intent-aware planning in heterogeneous traffic via distributed
multi-agent reinforcement learning" (iPLAN, CoRL), heterogeneous highway; vehicle models from
Leurent (2018), highway-env.
"""

from __future__ import annotations

from functools import cached_property

import chex
import jax
import jax.numpy as jnp
import numpy as np
from jumanji import specs
from jumanji.types import StepType, TimeStep, restart

from marljax.env import MultiAgentEnv, observation_spec
from marljax.envs.traffic.common.drivers import TRAFFIC_MIXES
from marljax.envs.traffic.common.kinematics import LENGTH, MAX_SPEED, META_ACTIONS, TARGET_SPEEDS, apply_meta_action
from marljax.envs.traffic.common.road import Road
from marljax.envs.traffic.common.traffic import Vehicles, traffic_steps
from marljax.envs.traffic.highway.generator import HighwayGenerator
from marljax.envs.traffic.highway.types import HighwayState

__all__ = ["HeterogeneousHighway"]

NUM_FEATURES = 5  # presence, x, y, vx, vy
POSITION_SCALE, VELOCITY_SCALE = 100.0, 20.0  # m, m/s
SEE_BEHIND = -2 * LENGTH  # vehicles further behind than this (m, along the heading) are not observed
COLLISION_REWARD, RIGHT_LANE_REWARD, HIGH_SPEED_REWARD = -1.0, 0.1, 0.4
REWARD_SPEED_RANGE = (20.0, 30.0)  # m/s mapped to [0, 1] for the speed reward


class HeterogeneousHighway(MultiAgentEnv):
    """``num_agents`` learning vehicles on an ``num_lanes``-lane highway among ``num_npcs`` IDM/MOBIL drivers.

    - **Scene**: straight road, lanes of 4 m, speed limit 30 m/s; agents start at 25 m/s spaced
      along the road, NPCs at U[21, 24] m/s around and ahead of them
      (:class:`~marljax.envs.traffic.highway.generator.HighwayGenerator`). NPC driver types follow
      the traffic mix: ``"mild"`` 80/10/10 % normal/aggressive/defensive, ``"chaotic"`` 40/30/30 %.
    - **Action** ``[N]`` int32 meta-actions: 0 lane left, 1 idle, 2 lane right, 3 faster, 4 slower
      (target speeds 20, 25, 30 m/s), tracked by highway-env's low-level controller. Policy at
      ``policy_frequency`` Hz (1), simulation at ``simulation_frequency`` Hz (5): one step is 5
      bicycle-model sub-steps of 0.2 s.
    - **Observation** ``agents_view [N, 15 * 5 + 2]`` in [-1, 1]: the ``observed_vehicles`` = 15
      vehicles nearest to the agent among those ahead of -10 m along its heading, nearest first,
      each ``[presence, dx / 100, dy / 100, dvx / 20, dvy / 20]`` relative to the agent (clipped; zero
      rows when fewer are visible), then the agent's lane index / (lanes - 1) and speed / 40.
      ``global_state [N, 77 + 4 N]``: the agent's own view, then for every agent
      ``[(x - mean agents' x) / 100, lane / (lanes - 1), speed / 40, crashed]`` -- compact, not
      every vehicle copied per agent. ``agent_type`` is 0 for all.
    - **Reward** ``[N]`` per agent: ``(-1 * crashed + 0.1 * lane / (lanes - 1) + 0.4 * clip((v cos psi
      - 20) / 10, 0, 1) + 1) / 1.5`` with ``lane`` the target lane (highway-env's ``HighwayEnv``
      reward), 0 off-road and 0 after the agent has crashed.
    - **Termination**: an agent is done when it crashes (its discount drops to 0; it stays on the
      road as an obstacle); the episode terminates when all agents have crashed and is truncated
      after ``max_steps`` = 90 steps.
    - **Metrics** (``extras["metrics"]``): ``crashes`` (agents crashing this step; the episode sums
      them), ``success`` (share of agents not crashed; final), ``survival_time`` (mean seconds the
      agents have driven uncrashed; final), ``mean_speed`` (mean speed of uncrashed agents, m/s;
      mean over steps), ``episodic_reward`` (sum of the agents' rewards; the episode sums it).
    """

    metrics = {
        "crashes": "sum",
        "success": "final",
        "survival_time": "final",
        "mean_speed": "mean",
        "episodic_reward": "sum",
    }

    def __init__(
        self,
        traffic: str = "mild",
        num_agents: int = 5,
        num_npcs: int = 50,
        num_lanes: int = 8,
        lane_width: float = 4.0,
        speed_limit: float = 30.0,
        max_steps: int = 90,
        policy_frequency: int = 1,
        simulation_frequency: int = 5,
        spawn_length: float = 400.0,
        observed_vehicles: int = 15,
    ):
        if traffic not in TRAFFIC_MIXES:
            raise ValueError(f"unknown traffic mix {traffic!r}; known mixes: {sorted(TRAFFIC_MIXES)}")
        for name, value in (("num_agents", num_agents), ("num_lanes", num_lanes), ("max_steps", max_steps)):
            if int(value) < 1:
                raise ValueError(f"{name} must be at least 1; got {value}")
        if int(num_npcs) < 0:
            raise ValueError(f"num_npcs must be non-negative; got {num_npcs}")
        if policy_frequency < 1 or simulation_frequency % policy_frequency:
            raise ValueError(
                f"simulation_frequency ({simulation_frequency}) must be a positive multiple of "
                f"policy_frequency ({policy_frequency})"
            )
        if observed_vehicles < 1:
            raise ValueError(f"observed_vehicles must be at least 1; got {observed_vehicles}")
        self.traffic = traffic
        self.num_agents = int(num_agents)
        self.num_npcs = int(num_npcs)
        self.num_vehicles = self.num_agents + self.num_npcs
        self.max_steps = int(max_steps)
        self.road = Road(int(num_lanes), float(lane_width), float(speed_limit))
        self.generator = HighwayGenerator(self.road, self.num_agents, self.num_npcs, traffic, float(spawn_length))
        self.dt = 1.0 / simulation_frequency
        self.substeps = simulation_frequency // policy_frequency
        self.observed_vehicles = int(min(observed_vehicles, self.num_vehicles - 1)) or 1
        self._view_size = NUM_FEATURES * self.observed_vehicles + 2
        self._mask = jnp.ones((self.num_agents, len(META_ACTIONS)), bool)
        super().__init__()

    # ----- specs -----------------------------------------------------------------------------
    @cached_property
    def observation_spec(self) -> specs.Spec:
        return observation_spec(
            self.num_agents,
            (self._view_size,),
            len(META_ACTIONS),
            self.max_steps,
            self._view_size + 4 * self.num_agents,
            view_bounds=(-1.0, 1.0),
        )

    @cached_property
    def action_spec(self) -> specs.MultiDiscreteArray:
        return self.discrete_action_spec([len(META_ACTIONS)] * self.num_agents)

    # ----- observation, reward, metrics -----------------------------------------------------------
    def _lane_fraction(self, lane: chex.Array) -> chex.Array:
        return lane / max(self.road.num_lanes - 1, 1)

    def _views(self, vehicles: Vehicles) -> chex.Array:
        n, m, k = self.num_agents, self.num_vehicles, self.observed_vehicles
        velocity = vehicles.speed[:, None] * jnp.stack([jnp.cos(vehicles.heading), jnp.sin(vehicles.heading)], -1)
        rel_pos = vehicles.position[None, :, :] - vehicles.position[:n, None, :]  # [N, M, 2]
        rel_vel = velocity[None, :, :] - velocity[:n, None, :]
        # Written out per component: as sum/norm over the last axis XLA makes [N, M, 2] x [2] dot products of them,
        # which cost several times more on CPU.
        dx, dy = rel_pos[..., 0], rel_pos[..., 1]
        ahead = dx * jnp.cos(vehicles.heading[:n, None]) + dy * jnp.sin(vehicles.heading[:n, None]) > SEE_BEHIND
        visible = ahead & (jnp.arange(m)[None, :] != jnp.arange(n)[:, None])
        distance = jnp.where(visible, jnp.sqrt(dx * dx + dy * dy), jnp.inf)
        neg_distance, nearest = jax.lax.top_k(-distance, k)  # [N, k], nearest first
        present = jnp.isfinite(neg_distance)
        take = lambda x: jnp.take_along_axis(x, nearest[..., None], axis=1)  # noqa: E731
        rows = jnp.concatenate(
            [
                present[..., None].astype(jnp.float32),
                jnp.clip(take(rel_pos) / POSITION_SCALE, -1.0, 1.0),
                jnp.clip(take(rel_vel) / VELOCITY_SCALE, -1.0, 1.0),
            ],
            -1,
        )
        rows = jnp.where(present[..., None], rows, 0.0)
        own_lane = self._lane_fraction(self.road.closest_lane(vehicles.position[:n, 1]))
        own_speed = jnp.clip(vehicles.speed[:n] / MAX_SPEED, -1.0, 1.0)
        return jnp.concatenate([rows.reshape(n, -1), own_lane[:, None], own_speed[:, None]], 1)

    def _global_state(self, views: chex.Array, vehicles: Vehicles) -> chex.Array:
        n = self.num_agents
        x = vehicles.position[:n, 0]
        agents = jnp.stack(
            [
                jnp.clip((x - x.mean()) / POSITION_SCALE, -1.0, 1.0),
                self._lane_fraction(self.road.closest_lane(vehicles.position[:n, 1])),
                jnp.clip(vehicles.speed[:n] / MAX_SPEED, -1.0, 1.0),
                vehicles.crashed[:n].astype(jnp.float32),
            ],
            -1,
        ).reshape(-1)
        return jnp.concatenate([views, jnp.broadcast_to(agents, (n, agents.shape[0]))], 1)

    def _observation_of(self, vehicles: Vehicles, step_count: chex.Array):
        views = self._views(vehicles)
        return self._observation(views, self._mask, step_count, global_state=self._global_state(views, vehicles))

    def _rewards(self, vehicles: Vehicles, was_crashed: chex.Array) -> chex.Array:
        n = self.num_agents
        crashed = vehicles.crashed[:n]
        forward_speed = vehicles.speed[:n] * jnp.cos(vehicles.heading[:n])
        low, high = REWARD_SPEED_RANGE
        speed_term = jnp.clip((forward_speed - low) / (high - low), 0.0, 1.0)
        raw = (
            COLLISION_REWARD * crashed
            + RIGHT_LANE_REWARD * self._lane_fraction(vehicles.target_lane[:n])
            + HIGH_SPEED_REWARD * speed_term
        )
        normalised = (raw - COLLISION_REWARD) / (HIGH_SPEED_REWARD + RIGHT_LANE_REWARD - COLLISION_REWARD)
        on_road = self.road.on_road(vehicles.position[:n, 1])
        return jnp.where(on_road & ~was_crashed, normalised, 0.0).astype(jnp.float32)

    def _metrics(self, vehicles: Vehicles, was_crashed: chex.Array, survival: chex.Array, reward: chex.Array):
        n = self.num_agents
        alive = ~vehicles.crashed[:n]
        speed = jnp.where(alive, vehicles.speed[:n], 0.0).sum() / jnp.maximum(alive.sum(), 1)
        values = {
            "crashes": jnp.sum(vehicles.crashed[:n] & ~was_crashed),
            "success": jnp.mean(alive),
            "survival_time": jnp.mean(survival) * self.substeps * self.dt,
            "mean_speed": speed,
            "episodic_reward": jnp.sum(reward),
        }
        return {"metrics": {name: jnp.asarray(values[name], jnp.float32) for name in self.metrics}}

    # ----- dynamics --------------------------------------------------------------------------
    def reset(self, key: chex.PRNGKey) -> tuple[HighwayState, TimeStep]:
        key, key_scene = jax.random.split(key)
        vehicles = self.generator(key_scene)
        n = self.num_agents
        survival = jnp.zeros((n,), jnp.int32)
        state = HighwayState(key=key, step_count=jnp.int32(0), vehicles=vehicles, survival=survival)
        extras = self._metrics(vehicles, vehicles.crashed[:n], survival, jnp.zeros((n,), jnp.float32))
        obs = self._observation_of(vehicles, 0)
        return state, restart(obs, extras, shape=(n,), dtype=jnp.float32)

    def step(self, state: HighwayState, action: chex.Array) -> tuple[HighwayState, TimeStep]:
        n = self.num_agents
        vehicles = state.vehicles
        action = jnp.clip(jnp.asarray(action, jnp.int32), 0, len(META_ACTIONS) - 1)
        target_lane, target_speed = apply_meta_action(
            self.road, action, vehicles.speed[:n], vehicles.target_lane[:n], vehicles.target_speed[:n], TARGET_SPEEDS
        )
        vehicles = vehicles.replace(
            target_lane=vehicles.target_lane.at[:n].set(target_lane),
            target_speed=vehicles.target_speed.at[:n].set(target_speed),
        )
        was_crashed = state.vehicles.crashed[:n]
        vehicles = traffic_steps(self.road, vehicles, n, self.dt, self.substeps)
        crashed = vehicles.crashed[:n]
        survival = state.survival + (~crashed).astype(jnp.int32)
        step_count = state.step_count + 1
        reward = self._rewards(vehicles, was_crashed)
        extras = self._metrics(vehicles, was_crashed, survival, reward)
        all_crashed = jnp.all(crashed)
        last = all_crashed | (step_count >= self.max_steps)
        timestep = TimeStep(
            step_type=jnp.where(last, StepType.LAST, StepType.MID).astype(jnp.int8),
            reward=reward,
            discount=(~crashed).astype(jnp.float32),
            observation=self._observation_of(vehicles, step_count),
            extras=extras,
        )
        state = HighwayState(key=state.key, step_count=step_count, vehicles=vehicles, survival=survival)
        return state, timestep

    # ----- rendering ---------------------------------------------------------------------------
    def render(self, state: HighwayState):
        """A top-down matplotlib figure of the road around the agents (what ``marljax.viz.animate``
        draws); :meth:`render_rgb` gives the same as an ``[H, W, 3]`` uint8 array."""
        from marljax.envs.traffic.viewer import draw_traffic

        title = f"HeterogeneousHighway ({self.traffic})  step {int(state.step_count)}/{self.max_steps}"
        return draw_traffic(self.road, state.vehicles, self.num_agents, title=title)

    def render_rgb(self, state: HighwayState) -> np.ndarray:
        from marljax.envs.traffic.viewer import figure_to_rgb

        return figure_to_rgb(self.render(state))

    def __repr__(self) -> str:
        return (
            f"HeterogeneousHighway(traffic={self.traffic!r}, num_agents={self.num_agents}, "
            f"num_npcs={self.num_npcs}, num_lanes={self.road.num_lanes}, max_steps={self.max_steps})"
        )
