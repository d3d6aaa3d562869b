"""The multi-agent environment base: Jumanji's ``Environment`` with a leading agent axis.

Subclasses implement ``reset``/``step`` and the two abstract specs; this base adds the
specs every multi-agent env shares (``[N]`` rewards and discounts), helpers that build an
:class:`~marljax.types.Observation` and its spec, and the bookkeeping a registry, a CLI and
generic tests need (``num_agents``, ``action_type``, ``num_actions``).
"""

from __future__ import annotations

from functools import cached_property
from typing import Optional

import chex
import jax.numpy as jnp
from jumanji import specs
from jumanji.env import Environment

from marljax.types import Observation

__all__ = ["MultiAgentEnv", "observation_spec"]


def observation_spec(
    num_agents: int,
    view_shape: tuple[int, ...],
    num_actions: int,
    max_steps: int,
    global_state_dim: int,
    num_agent_types: int = 1,
    view_bounds: Optional[tuple[float, float]] = None,
    view_dtype=jnp.float32,
) -> specs.Spec:
    """The exact spec of an :class:`Observation` with the given sizes."""
    if view_bounds is None:
        agents_view = specs.Array((num_agents, *view_shape), view_dtype, "agents_view")
    else:
        agents_view = specs.BoundedArray(
            (num_agents, *view_shape), view_dtype, view_bounds[0], view_bounds[1], "agents_view"
        )
    return specs.Spec(
        Observation,
        "ObservationSpec",
        agents_view=agents_view,
        action_mask=specs.BoundedArray((num_agents, num_actions), bool, False, True, "action_mask"),
        step_count=specs.BoundedArray((), jnp.int32, 0, max_steps, "step_count"),
        global_state=specs.Array((num_agents, global_state_dim), jnp.float32, "global_state"),
        agent_type=specs.BoundedArray((num_agents,), jnp.int32, 0, num_agent_types - 1, "agent_type"),
    )


class MultiAgentEnv(Environment):
    """Base of every marljax environment.

    Contract (checked for every registered env by ``tests/core/test_conformance.py``):
    ``timestep.reward`` and ``timestep.discount`` are ``[num_agents]`` float32, the
    observation is an :class:`Observation`, discrete actions are ``[num_agents]`` int32 and
    continuous ones ``[num_agents, d]`` float32, and all randomness lives in ``state.key``.
    """

    #: Number of agents (the size of the leading axis).
    num_agents: int
    #: Episode length after which the env truncates.
    max_steps: int
    #: ``"discrete"`` or ``"continuous"``.
    action_type: str = "discrete"
    #: The scalar metrics the env reports each step in ``timestep.extras["metrics"]`` (on reset
    #: too, with the same keys), and how an episode aggregates each: ``"sum"`` (e.g. crashes),
    #: ``"mean"`` (e.g. an order parameter) or ``"final"`` (e.g. success at the end).
    metrics: dict = {}

    @property
    def num_actions(self) -> int:
        """Size of the (padded) discrete action set, or the action dimension if continuous."""
        spec = self.action_spec
        if self.action_type == "discrete":
            return int(spec.num_values.max())
        return int(spec.shape[-1])

    @cached_property
    def reward_spec(self) -> specs.Array:
        return specs.Array((self.num_agents,), jnp.float32, "reward")

    @cached_property
    def discount_spec(self) -> specs.BoundedArray:
        return specs.BoundedArray((self.num_agents,), jnp.float32, 0.0, 1.0, "discount")

    def discrete_action_spec(self, actions_per_agent) -> specs.MultiDiscreteArray:
        """``[N]`` int32 actions, agent ``i`` choosing among ``actions_per_agent[i]``."""
        return specs.MultiDiscreteArray(num_values=jnp.asarray(actions_per_agent, jnp.int32), name="action")

    def _observation(
        self,
        agents_view: chex.Array,
        action_mask: chex.Array,
        step_count: chex.Array,
        global_state: Optional[chex.Array] = None,
        agent_type: Optional[chex.Array] = None,
    ) -> Observation:
        """Assemble an Observation, filling the optional fields with their defaults:
        the global state is every agent's view concatenated, the agent type is 0."""
        n = self.num_agents
        if global_state is None:
            global_state = jnp.broadcast_to(agents_view.reshape(1, -1), (n, agents_view.size))
        if agent_type is None:
            agent_type = jnp.zeros((n,), jnp.int32)
        return Observation(
            agents_view=agents_view,
            action_mask=action_mask,
            step_count=jnp.asarray(step_count, jnp.int32),
            global_state=global_state.astype(jnp.float32),
            agent_type=agent_type.astype(jnp.int32),
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_agents={self.num_agents}, max_steps={self.max_steps})"
