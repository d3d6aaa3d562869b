"""What every particle-world task shares: state, reset, action decoding, specs, rendering.

A task subclasses :class:`ParticleEnv`, builds its :class:`~marljax.physics.particles.ParticleWorld`
and implements ``_views(pos, vel)`` (each controlled agent's observation) and
``_rewards(pos, vel)``; optional ``_scripted_control`` moves world agents no learner controls, and
``_metric_values(pos, vel)`` reports the metrics the task declares in ``metrics`` (see
:mod:`marljax.metrics`) in ``timestep.extras["metrics"]``.
"""

from __future__ import annotations

import abc
from functools import cached_property

import chex
import jax
import jax.numpy as jnp
import numpy as np
from jumanji import specs
from jumanji.types import restart

from marljax.env import MultiAgentEnv, observation_spec
from marljax.physics.particles import NUM_DISCRETE_MOVES, ParticleWorld, continuous_control, discrete_control

__all__ = ["ParticleState", "ParticleEnv", "others", "ACTION_TYPES"]

ACTION_TYPES = ("discrete", "continuous")
ARENA = 1.0  # entities start uniformly in [-ARENA, ARENA]^2


@chex.dataclass
class ParticleState:
    key: chex.PRNGKey
    step_count: chex.Array  # [] int32
    pos: chex.Array  # [E, 2] agents first, then landmarks
    vel: chex.Array  # [E, 2]


def others(num: int) -> np.ndarray:
    """``[num, num-1]`` indices: row i lists every j != i in increasing order (MPE's order
    of "other agents" in observations)."""
    return np.array([[j for j in range(num) if j != i] for i in range(num)], np.int32).reshape(num, num - 1)


class ParticleEnv(MultiAgentEnv):
    """Base of the particle-world tasks: the first ``num_agents`` world agents are controlled.

    Episodes last ``max_steps`` steps and end by truncation (discount stays 1).
    """

    world: ParticleWorld
    num_world_agents: int  # controlled + scripted agents
    agent_colors: tuple = ()

    def __init__(
        self,
        num_agents: int,
        view_size: int,
        max_steps: int,
        action_type: str,
        agent_type=None,
        num_agent_types: int = 1,
    ):
        if action_type not in ACTION_TYPES:
            raise ValueError(f"action_type must be one of {ACTION_TYPES}; got {action_type!r}")
        if max_steps < 1:
            raise ValueError(f"max_steps must be positive; got {max_steps}")
        self.num_agents = int(num_agents)
        self.max_steps = int(max_steps)
        self.action_type = action_type
        self._view_size = int(view_size)
        self._agent_type = (
            jnp.zeros(num_agents, jnp.int32) if agent_type is None else jnp.asarray(agent_type, jnp.int32)
        )
        self._num_agent_types = num_agent_types
        mask_width = NUM_DISCRETE_MOVES if action_type == "discrete" else 1
        self._mask = jnp.ones((self.num_agents, mask_width), bool)
        super().__init__()

    # ----- specs -----------------------------------------------------------------------
    @cached_property
    def observation_spec(self) -> specs.Spec:
        return observation_spec(
            self.num_agents,
            (self._view_size,),
            self._mask.shape[1],
            self.max_steps,
            self._global_state_size,
            num_agent_types=self._num_agent_types,
        )

    @cached_property
    def action_spec(self):
        if self.action_type == "discrete":
            return self.discrete_action_spec([NUM_DISCRETE_MOVES] * self.num_agents)
        return specs.BoundedArray((self.num_agents, NUM_DISCRETE_MOVES), jnp.float32, 0.0, 1.0, "action")

    # ----- dynamics --------------------------------------------------------------------
    @abc.abstractmethod
    def _views(self, pos: chex.Array, vel: chex.Array) -> chex.Array:
        """Each controlled agent's observation vector ``[num_agents, view_size]``."""

    @abc.abstractmethod
    def _rewards(self, pos: chex.Array, vel: chex.Array) -> chex.Array:
        """Reward ``[num_agents]`` of the world after a step."""

    def _metric_values(self, pos: chex.Array, vel: chex.Array) -> dict:
        """``{name: float32 scalar}`` for every name in ``metrics``, measured on the world ``pos, vel``."""
        return {}

    def _extras(self, pos: chex.Array, vel: chex.Array) -> dict:
        values = self._metric_values(pos, vel)
        return {"metrics": {name: jnp.asarray(values[name], jnp.float32) for name in self.metrics}}

    def _scripted_control(self, pos: chex.Array, vel: chex.Array) -> chex.Array:
        """Control force ``[num_world_agents - num_agents, 2]`` of the agents no learner drives."""
        return jnp.zeros((self.num_world_agents - self.num_agents, 2), jnp.float32)

    def _control(self, action: chex.Array) -> chex.Array:
        accel = jnp.asarray(self.world.accel[: self.num_agents], jnp.float32)
        if self.action_type == "discrete":
            return discrete_control(jnp.clip(jnp.asarray(action, jnp.int32), 0, NUM_DISCRETE_MOVES - 1), accel)
        return continuous_control(jnp.asarray(action, jnp.float32), accel)

    @property
    def _global_state_size(self) -> int:
        return 2 * self.world.num_entities + 2 * self.num_world_agents

    def _global_state(self, pos, vel):
        """The world in absolute coordinates -- every position, every agent's velocity -- the same
        row for each agent (a centralised critic adds who is asking via ``agent_type``). Much
        smaller than all views concatenated, which keeps rollouts light on memory."""
        world = jnp.concatenate([pos.reshape(-1), vel[: self.num_world_agents].reshape(-1)])
        return jnp.broadcast_to(world, (self.num_agents, world.shape[0]))

    def _timestep_observation(self, pos, vel, step_count):
        return self._observation(
            self._views(pos, vel),
            self._mask,
            step_count,
            global_state=self._global_state(pos, vel),
            agent_type=self._agent_type,
        )

    def reset(self, key: chex.PRNGKey):
        key, key_pos = jax.random.split(key)
        pos = jax.random.uniform(key_pos, (self.world.num_entities, 2), jnp.float32, -ARENA, ARENA)
        vel = jnp.zeros_like(pos)
        state = ParticleState(key=key, step_count=jnp.int32(0), pos=pos, vel=vel)
        obs = self._timestep_observation(pos, vel, 0)
        return state, restart(obs, self._extras(pos, vel), shape=(self.num_agents,), dtype=jnp.float32)

    def step(self, state: ParticleState, action: chex.Array):
        control = jnp.concatenate([self._control(action), self._scripted_control(state.pos, state.vel)])
        pos, vel = self.world.step(state.pos, state.vel, control)
        step_count = state.step_count + 1
        state = ParticleState(key=state.key, step_count=step_count, pos=pos, vel=vel)
        obs = self._timestep_observation(pos, vel, step_count)
        reward = self._rewards(pos, vel).astype(jnp.float32)
        extras = self._extras(pos, vel)
        timestep = self._time_limited_timestep(step_count, reward, obs, extras)
        return state, timestep

    # ----- rendering -------------------------------------------------------------------
    def render(self, state: ParticleState):
        """Draw agents (coloured discs) and landmarks (grey) of one state."""
        import matplotlib.pyplot as plt

        pos = np.asarray(state.pos)
        radius = np.asarray(self.world.radius)
        fig, ax = plt.subplots(figsize=(4, 4))
        for e in range(self.world.num_entities):
            color = self.agent_colors[e] if e < self.num_world_agents else "0.35"
            ax.add_patch(plt.Circle(pos[e], radius[e], color=color, alpha=0.9 if e < self.num_world_agents else 0.6))
        lim = max(1.5, float(np.abs(pos).max()) + 0.3)  # fixed frame unless something leaves it
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{type(self).__name__}  step {int(state.step_count)}/{self.max_steps}")
        return fig
