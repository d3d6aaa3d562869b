"""TwoWay: overtaking on a two-lane, two-way road -- the risk task of PSRO-RAE.

Source: highway-env's ``two-way-v0`` (Leurent 2018: "a risk management task: the agent is driving
on a two-way lane with incoming traffic; it must balance making progress by overtaking and
ensuring safety"), used by Slumbers et al. (2023), "A Game-Theoretic Framework for Managing Risk in
Multi-Agent Systems" (ICML), to compare risk-averse (RAE) and Nash PSRO on crash rates. Vehicles,
controller and IDM are :mod:`marljax.envs.traffic.common`'s; the scene and the frames of the two
directions are :mod:`.generator`'s.

- **Road**: two 4 m lanes, eastbound and westbound; ``num_slow`` slow IDM cars ahead of each
  learner in its lane, ``num_oncoming`` free westbound IDM cars (all normal drivers that keep their
  lane; they brake for whatever is ahead in their lane, head-on traffic included, as highway-env's
  IDM does). Positions and speeds: :mod:`.generator`.
- **Learners**: ``players=2`` (default, so that ``marljax psro traffic/TwoWay-v0 --oracle ppo``
  finds its two teams): agent 0 (team 0) drives east, agent 1 (team 1) drives west towards it
  with its own slow cars -- each is the other's oncoming traffic and each overtakes through the
  other's lane. ``players=1``: the eastbound overtaking driver alone (highway-env's task).
  Learners drive with adaptive cruise control: their speed-tracking acceleration never exceeds
  the normal driver's IDM acceleration behind the nearest *same-direction* vehicle in their
  current or target lane, so following is safe and head-on traffic is the only risk the driver
  must manage.
- **Observation** (each learner in its own frame: it drives towards +x, its lane is lane 1,
  the overtaking lane lane 0): ``agents_view [N, 6 + 6 (M - 1)]``: own ``[y / 4, v_x / 50,
  v_y / 50, heading, (target speed - 25) / 5, target lane]``, then every other vehicle, nearest
  first, ``[dx / 250, dy / 4, dv_x / 50, dv_y / 50, cos(heading difference), crashed]`` clipped to
  [-1, 1] (cos = -1: oncoming). ``global_state [N, 7 M]``: every vehicle in the world frame
  ``[(x - learners' mean x) / 250, y / 4, v_x / 50, v_y / 50, cos psi, sin psi, crashed]``.
  ``agent_type``: 0 eastbound, 1 westbound.
- **Action** ``[N]`` int32 meta-actions: 0 lane left (to the overtaking lane), 1 idle, 2 lane
  right (back to its lane), 3 faster, 4 slower; target speeds {20, 25, 30} m/s. Policy at 1 Hz,
  simulation at 5 Hz.
- **Reward** ``[N]``: ``0.8 clip((v_x - 20) / 10, 0, 1) + 0.2 [in the overtaking lane and clear]``,
  where clear means no vehicle in that lane within ``LENGTH + clear_time * closing speed`` ahead;
  -1 on the step a learner crashes, 0 afterwards.
- **Termination**: a crashed learner's discount is 0 from its crash on; the episode ends when
  every learner has crashed, or by truncation after ``max_steps`` = 30 policy steps.
- **Metrics** (``extras["metrics"]``): ``crashes`` (learners crashing this step, summed),
  ``crash_rate`` (share of learners crashed, final), ``overtakes`` (same-direction vehicles the
  learners passed this step, net of those that passed back, summed), ``mean_speed`` (learners'
  mean forward speed in m/s, averaged over the episode) and ``return`` (learners' mean reward,
  summed: the mean episode return).
"""

from __future__ import annotations

from functools import cached_property

import chex
import jax
import jax.numpy as jnp
import numpy as np
from jumanji import specs
from jumanji.types import StepType, TimeStep

from marljax.env import MultiAgentEnv, observation_spec
from marljax.envs.traffic.common import (
    LENGTH,
    TARGET_SPEEDS,
    apply_meta_action,
    bicycle_step,
    collisions,
    idm_acceleration,
    lane_neighbours,
    speed_control,
    steering_control,
)
from marljax.envs.traffic.common.road import ON_LANE_MARGIN
from marljax.envs.traffic.two_way.generator import EAST, OVERTAKING_LANE, ROAD, WEST, Scene, in_frame
from marljax.envs.traffic.two_way.types import TwoWayState

__all__ = ["TwoWay"]

NUM_META_ACTIONS = 5
SUBSTEPS, DT = 5, 0.2  # 5 Hz simulation under a 1 Hz policy
SPEED_REWARD, LANE_REWARD, CRASH_REWARD = 0.8, 0.2, -1.0
REWARD_SPEEDS = (20.0, 30.0)  # forward speed mapped to [0, 1] for the speed reward
OWN_FEATURES, OTHER_FEATURES, WORLD_FEATURES = 6, 6, 7
X_SCALE, V_SCALE = 250.0, 50.0  # 250 m: 5 s of head-on closing at 50 m/s
RENDER_WINDOW, RENDER_AHEAD = 240.0, 60.0  # m of road drawn; its centre this far ahead of learner 0


class TwoWay(MultiAgentEnv):
    """Overtake slower traffic through the oncoming lane, or not (see the module docstring)."""

    metrics = {"crashes": "sum", "crash_rate": "final", "overtakes": "sum", "mean_speed": "mean", "return": "sum"}

    def __init__(
        self, players: int = 2, num_slow: int = 3, num_oncoming: int = 3, max_steps: int = 30, clear_time: float = 3.0
    ):
        if players not in (1, 2):
            raise ValueError(
                f"players must be 1 (one overtaking driver) or 2 (overtaking vs oncoming); got {players!r}"
            )
        if num_slow < 0 or num_oncoming < 0:
            raise ValueError(f"num_slow and num_oncoming must be >= 0; got {num_slow}, {num_oncoming}")
        if max_steps < 1:
            raise ValueError(f"max_steps must be positive; got {max_steps}")
        if not clear_time >= 0:
            raise ValueError(f"clear_time must be >= 0 s; got {clear_time}")
        self.scene = Scene(int(players), int(num_slow), int(num_oncoming))
        self.num_agents = self.scene.players
        self.num_vehicles = self.scene.num_vehicles
        self.max_steps = int(max_steps)
        self.clear_time = float(clear_time)
        self._direction = self.scene.direction
        super().__init__()

    # ----- specs ---------------------------------------------------------------------------
    @cached_property
    def observation_spec(self) -> specs.Spec:
        return observation_spec(
            self.num_agents,
            (OWN_FEATURES + OTHER_FEATURES * (self.num_vehicles - 1),),
            NUM_META_ACTIONS,
            self.max_steps,
            WORLD_FEATURES * self.num_vehicles,
            num_agent_types=self.num_agents,
        )

    @cached_property
    def action_spec(self) -> specs.MultiDiscreteArray:
        return self.discrete_action_spec([NUM_META_ACTIONS] * self.num_agents)

    # ----- dynamics ------------------------------------------------------------------------
    def reset(self, key: chex.PRNGKey):
        key, scene_key = jax.random.split(key)
        vehicles = self.scene.sample(scene_key)
        state = TwoWayState(key=key, step_count=jnp.int32(0), vehicles=vehicles)
        n = self.num_agents
        zeros = jnp.zeros((n,), jnp.float32)
        metrics = self._metric_values(vehicles, vehicles, zeros)
        timestep = TimeStep(
            step_type=StepType.FIRST,
            reward=zeros,
            discount=jnp.ones((n,), jnp.float32),
            observation=self._observe(vehicles, 0),
            extras={"metrics": metrics},
        )
        return state, timestep

    def step(self, state: TwoWayState, action: chex.Array):
        n = self.num_agents
        before = state.vehicles
        action = jnp.clip(jnp.asarray(action, jnp.int32), 0, NUM_META_ACTIONS - 1)
        lane, speed = apply_meta_action(
            ROAD, action, before.speed[:n], before.target_lane[:n], before.target_speed[:n], TARGET_SPEEDS
        )
        vehicles = before.replace(
            target_lane=before.target_lane.at[:n].set(lane), target_speed=before.target_speed.at[:n].set(speed)
        )
        vehicles = jax.lax.fori_loop(0, SUBSTEPS, lambda _, v: self.simulate(v), vehicles)
        step_count = state.step_count + 1

        crashed_before, crashed = before.crashed[:n], vehicles.crashed[:n]
        reward = jnp.where(crashed, CRASH_REWARD, self._driving_reward(vehicles))
        reward = jnp.where(crashed_before, 0.0, reward).astype(jnp.float32)
        done = jnp.all(crashed) | (step_count >= self.max_steps)
        timestep = TimeStep(
            step_type=jnp.where(done, StepType.LAST, StepType.MID),
            reward=reward,
            discount=jnp.where(crashed, 0.0, 1.0).astype(jnp.float32),
            observation=self._observe(vehicles, step_count),
            extras={"metrics": self._metric_values(before, vehicles, reward)},
        )
        return TwoWayState(key=state.key, step_count=step_count, vehicles=vehicles), timestep

    def simulate(self, vehicles):
        """One 0.2 s simulation step of every vehicle (each in its own frame).

        NPCs take the IDM acceleration behind their leader as seen in their direction's frame (they
        keep their lane: no MOBIL); learners track their meta-action targets under adaptive cruise
        control; everybody moves by the bicycle model; overlapping boxes in the world frame crash
        both vehicles.

        Args:
            vehicles: every vehicle in its own frame.

        Returns:
            The vehicles 0.2 s later.
        """
        direction = jnp.asarray(self._direction)
        acceleration = jnp.zeros_like(vehicles.speed)
        for frame in (EAST, WEST):
            if np.any(self._direction == frame):
                frame_acceleration = self._lane_keeping_idm(in_frame(vehicles, direction, frame))
                acceleration = jnp.where(direction == frame, frame_acceleration, acceleration)
        acceleration = acceleration.at[: self.num_agents].set(self._cruise_control(vehicles))
        steering = steering_control(
            ROAD, vehicles.position[:, 1], vehicles.heading, vehicles.speed, vehicles.target_lane
        )
        position, heading, speed = bicycle_step(
            vehicles.position, vehicles.heading, vehicles.speed, steering, acceleration, vehicles.crashed, DT
        )
        moved = vehicles.replace(position=position, heading=heading, speed=speed)
        crashed = collisions(in_frame(moved, direction, EAST))
        return moved.replace(crashed=moved.crashed | crashed)

    @staticmethod
    def _lane_keeping_idm(seen) -> chex.Array:
        """``[M]`` IDM acceleration, clipped to ``+-a_max``, of every vehicle behind its leader on its
        lane, all seen in one frame: what :func:`~marljax.envs.traffic.common.npc_decisions` gives a
        vehicle that neither changes lane nor is due for MOBIL (its lane-change branches skipped)."""
        m = seen.speed.shape[0]
        front, _ = lane_neighbours(ROAD, seen.position)
        leader = front[jnp.arange(m), ROAD.closest_lane(seen.position[:, 1])]  # M: none
        has_leader = leader < m
        lead = jnp.minimum(leader, m - 1)
        idm = idm_acceleration(
            seen.driver,
            seen.speed,
            seen.heading,
            seen.target_speed,
            ROAD.speed_limit,
            has_leader,
            seen.position[lead, 0] - seen.position[:, 0],
            seen.speed[lead],
            seen.heading[lead],
        )
        return jnp.clip(idm, -seen.driver.acc_max, seen.driver.acc_max)

    def _cruise_control(self, vehicles) -> chex.Array:
        """``[N]`` learners' acceleration: speed tracking, capped by the IDM behind the nearest
        same-direction vehicle ahead on the current or the target lane."""
        n = self.num_agents
        x, y = vehicles.position[:, 0], vehicles.position[:, 1]
        same_direction = (self._direction[None, :] == self._direction[:n, None]) & ~np.eye(n, len(x), dtype=bool)
        me = jax.tree_util.tree_map(lambda p: p[:n], vehicles.driver)
        acceleration = speed_control(vehicles.speed[:n], vehicles.target_speed[:n])
        for lane in (ROAD.closest_lane(y[:n]), vehicles.target_lane[:n]):
            ahead = x[None, :] - x[:n, None]
            candidate = same_direction & ROAD.on_lane(y[None, :], lane[:, None], ON_LANE_MARGIN) & (ahead > 0)
            distance = jnp.where(candidate, ahead, jnp.inf)
            leader = jnp.argmin(distance, axis=1)
            has_leader = jnp.any(candidate, axis=1)
            idm = idm_acceleration(
                me,
                vehicles.speed[:n],
                vehicles.heading[:n],
                vehicles.target_speed[:n],
                ROAD.speed_limit,
                has_leader,
                jnp.where(has_leader, distance[jnp.arange(n), leader], 1.0),
                vehicles.speed[leader],
                vehicles.heading[leader],
            )
            idm = jnp.clip(idm, -me.acc_max, me.acc_max)
            acceleration = jnp.where(has_leader, jnp.minimum(acceleration, idm), acceleration)
        return acceleration

    # ----- task ----------------------------------------------------------------------------
    def _learner_frames(self, vehicles):
        """Every vehicle seen from each learner's frame: position ``[N, M, 2]``, heading ``[N, M]``."""
        direction = jnp.asarray(self._direction)
        frames = [in_frame(vehicles, direction, int(self._direction[i])) for i in range(self.num_agents)]
        return jnp.stack([f.position for f in frames]), jnp.stack([f.heading for f in frames])

    def _forward_speed(self, vehicles) -> chex.Array:
        return vehicles.speed * jnp.cos(vehicles.heading)

    def _driving_reward(self, vehicles) -> chex.Array:
        """``[N]`` reward of learners still driving: speed, plus the clear overtaking lane bonus."""
        n = self.num_agents
        position, heading = self._learner_frames(vehicles)
        velocity_x = vehicles.speed[None, :] * jnp.cos(heading)  # [N, M] along each learner's road
        me = jnp.arange(n)
        my_x, my_vx = position[me, me, 0], velocity_x[me, me]
        low, high = REWARD_SPEEDS
        speed_term = jnp.clip((my_vx - low) / (high - low), 0.0, 1.0)
        in_overtaking_lane = ROAD.closest_lane(position[me, me, 1]) == OVERTAKING_LANE
        ahead = position[:, :, 0] - my_x[:, None]
        closing = jnp.maximum(my_vx[:, None] - velocity_x, 0.0)
        others = ~np.eye(n, self.num_vehicles, dtype=bool)
        blocking = (
            others
            & ROAD.on_lane(position[:, :, 1], OVERTAKING_LANE, ON_LANE_MARGIN)
            & (ahead > -LENGTH)
            & (ahead < LENGTH + self.clear_time * closing)
        )
        clear = ~jnp.any(blocking, axis=1)
        return SPEED_REWARD * speed_term + LANE_REWARD * (in_overtaking_lane & clear)

    def _observe(self, vehicles, step_count):
        n, m = self.num_agents, self.num_vehicles
        position, heading = self._learner_frames(vehicles)
        velocity = vehicles.speed[None, :, None] * jnp.stack([jnp.cos(heading), jnp.sin(heading)], -1)  # [N, M, 2]
        me = jnp.arange(n)
        own = jnp.stack(
            [
                position[me, me, 1] / ROAD.lane_width,
                velocity[me, me, 0] / V_SCALE,
                velocity[me, me, 1] / V_SCALE,
                heading[me, me],
                (vehicles.target_speed[:n] - TARGET_SPEEDS[1]) / (TARGET_SPEEDS[2] - TARGET_SPEEDS[1]),
                vehicles.target_lane[:n].astype(jnp.float32),
            ],
            -1,
        )
        others = np.array([[j for j in range(m) if j != i] for i in range(n)], np.int32).reshape(n, m - 1)
        delta = position[me[:, None], others] - position[me, me][:, None, :]  # [N, M-1, 2]
        features = jnp.concatenate(
            [
                delta[..., :1] / X_SCALE,
                delta[..., 1:] / ROAD.lane_width,
                (velocity[me[:, None], others] - velocity[me, me][:, None, :]) / V_SCALE,
                jnp.cos(heading[me[:, None], others] - heading[me, me][:, None])[..., None],
                vehicles.crashed[others][..., None].astype(jnp.float32),
            ],
            -1,
        )
        nearest_first = jnp.argsort(jnp.sum(delta * delta, -1), axis=1, stable=True)
        features = jnp.take_along_axis(features, nearest_first[..., None], axis=1)
        view = jnp.concatenate([own, jnp.clip(features, -1.0, 1.0).reshape(n, -1)], -1)
        return self._observation(
            view,
            jnp.ones((n, NUM_META_ACTIONS), bool),
            step_count,
            global_state=self._global_state(vehicles),
            agent_type=jnp.arange(n, dtype=jnp.int32),
        )

    def _global_state(self, vehicles):
        world = in_frame(vehicles, jnp.asarray(self._direction), EAST)
        x, y = world.position[:, 0], world.position[:, 1]
        cos, sin = jnp.cos(world.heading), jnp.sin(world.heading)
        rows = jnp.stack(
            [
                (x - jnp.mean(x[: self.num_agents])) / X_SCALE,
                y / ROAD.lane_width,
                world.speed * cos / V_SCALE,
                world.speed * sin / V_SCALE,
                cos,
                sin,
                world.crashed.astype(jnp.float32),
            ],
            -1,
        )
        return jnp.broadcast_to(rows.reshape(1, -1), (self.num_agents, rows.size))

    def _metric_values(self, before, after, reward) -> dict:
        n = self.num_agents
        same_direction = (self._direction[None, :] == self._direction[:n, None]) & ~np.eye(
            n, self.num_vehicles, dtype=bool
        )

        def ahead(vehicles):  # [N, M] same-direction vehicles ahead of each learner (shared own frame)
            x = vehicles.position[:, 0]
            return same_direction & (x[None, :] > x[:n, None])

        was_ahead, is_ahead = ahead(before), ahead(after)
        passed = jnp.sum(was_ahead & ~is_ahead) - jnp.sum(~was_ahead & is_ahead)
        crashed = after.crashed[:n]
        return {
            "crashes": jnp.sum(crashed & ~before.crashed[:n]).astype(jnp.float32),
            "crash_rate": jnp.mean(crashed.astype(jnp.float32)),
            "overtakes": passed.astype(jnp.float32),
            "mean_speed": jnp.mean(self._forward_speed(after)[:n]),
            "return": jnp.mean(reward).astype(jnp.float32),
        }

    # ----- rendering -----------------------------------------------------------------------
    def world_vehicles(self, state: TwoWayState):
        """The state's vehicles in the world frame (eastbound towards +x, the eastbound lane at ``y = 4``)."""
        return in_frame(state.vehicles, jnp.asarray(self._direction), EAST)

    def render(self, state: TwoWayState):
        """A top-down figure of one state (the shared :func:`marljax.envs.traffic.viewer.draw_traffic`),
        following learner 0; westbound traffic uses the upper lane, as highway-env draws it."""
        from marljax.envs.traffic.viewer import draw_traffic

        world = self.world_vehicles(state)
        title = f"TwoWay {int(state.step_count)}/{self.max_steps}: east (0) lower lane, west upper"
        ahead_of_agent_0 = float(world.position[0, 0]) + RENDER_AHEAD
        return draw_traffic(ROAD, world, self.num_agents, title, window=RENDER_WINDOW, centre=ahead_of_agent_0)
