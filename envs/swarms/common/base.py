"""The swarm envs' base class and neighbourhood set-up.

Every swarm env has continuous actions ``[N, d]`` in ``[-1, 1]`` (scaled by the env to its
physical range, so a Gaussian policy's unit scale fits), a per-agent view of fixed size that
does not depend on ``N``, a shared (cooperative) reward, and a compact ``global_state``: each
agent's own view followed by a few swarm-level features (order parameters), so memory stays
``O(N)`` -- never every agent's view copied to every agent. Each env reports its order
parameter in ``extras["order_parameter"]`` and in the metrics, and exposes
:meth:`SwarmEnv.agent_states` (all agents' states ``[N, d]``, the input of a mean-field embedding).
"""

from __future__ import annotations

import abc
import math
from functools import cached_property

import chex
import jax
import jax.numpy as jnp
from jumanji import specs
from jumanji.types import restart, transition, truncation

from marljax.checks import integer, is_concrete
from marljax.env import MultiAgentEnv, observation_spec
from marljax.physics.neighbours import (
    METHODS,
    NeighbourFns,
    NeighbourList,
    cells_per_side,
    check_overflow,
    default_method,
    neighbour_list,
)

__all__ = ["SwarmEnv", "neighbourhood", "CAPACITY_FACTOR"]

#: The default cell capacity is this many times a uniform swarm's cell occupancy (and at least
#: 8): room for the clusters and bands the dynamics form. An overflow is reported, never
#: silent; pass a larger ``cell_capacity`` if it happens.
CAPACITY_FACTOR = 8.0


def neighbourhood(
    num_agents: int,
    box_size: float,
    radius: float,
    method: str | None,
    cell_capacity: int | None,
) -> tuple[NeighbourFns, NeighbourList]:
    """Unpacked neighbour functions and a template list (its capacities; ``update`` fills it in jit).

    The envs use unpacked rows (``packed=False``): every candidate kept, non-neighbours set
    to the sentinel, so only a cell can overflow, never an agent's row. ``method=None`` picks
    by ``num_agents`` (:func:`~marljax.physics.neighbours.default_method`); ``cell_capacity=None``
    defaults to :data:`CAPACITY_FACTOR` times a uniform swarm's occupancy ``N / M^2`` (at least 8).

    Raises:
        ValueError: bad method or capacity, or a box too small for the cell list.
    """
    if method is None:
        method = default_method(num_agents)
    if method not in METHODS:
        raise ValueError(f"neighbour_method must be one of {METHODS} or None (by N); got {method!r}")
    fns = neighbour_list(box_size, radius, method, packed=False)
    if method == "cell_list":
        if cell_capacity is None:
            occupancy = num_agents / cells_per_side(box_size, radius) ** 2
            cell_capacity = max(8, math.ceil(CAPACITY_FACTOR * occupancy))
        cell_capacity = integer(1)("cell_capacity", cell_capacity)
        width = 9 * cell_capacity
    else:
        cell_capacity, width = 0, num_agents
    template = NeighbourList(
        idx=jnp.full((num_agents, width), num_agents, jnp.int32),
        overflow=jnp.bool_(False),
        count=jnp.zeros((num_agents,), jnp.int32),
        method=method,
        cell_capacity=cell_capacity,
    )
    return fns, template


class SwarmEnv(MultiAgentEnv):
    """Base of the swarm envs: continuous ``[N, action_dim]`` actions in ``[-1, 1]``, shared reward.

    Subclasses set :attr:`agent_state_names` and implement ``reset``/``step`` with
    :meth:`_timestep`, plus :meth:`agent_states` and ``render``.
    """

    action_type = "continuous"
    #: Names of the columns of :meth:`agent_states`.
    agent_state_names: tuple = ()
    #: Names of the swarm-level features appended to each agent's view in ``global_state``.
    global_feature_names: tuple = ()

    def __init__(self, num_agents: int, max_steps: int, view_size: int, action_dim: int):
        self.num_agents = integer(1)("num_agents", num_agents)
        self.max_steps = integer(1)("max_steps", max_steps)
        self.view_size = int(view_size)
        self.action_dim = int(action_dim)
        self._mask = jnp.ones((self.num_agents, 1), bool)
        super().__init__()

    @cached_property
    def observation_spec(self) -> specs.Spec:
        return observation_spec(
            self.num_agents,
            (self.view_size,),
            1,
            self.max_steps,
            self.view_size + len(self.global_feature_names),
        )

    @cached_property
    def action_spec(self) -> specs.BoundedArray:
        return specs.BoundedArray((self.num_agents, self.action_dim), jnp.float32, -1.0, 1.0, "action")

    @property
    def agent_state_size(self) -> int:
        """``d``, the width of :meth:`agent_states`."""
        return len(self.agent_state_names)

    @abc.abstractmethod
    def agent_states(self, state) -> chex.Array:
        """Every agent's state ``[N, d]`` (columns :attr:`agent_state_names`, each scaled to
        about ``[-1, 1]``): the empirical distribution a mean-field embedding summarises.
        Permuting agents permutes the rows; nothing else depends on the agents' order."""

    def _timestep(self, views, global_features, reward, metric_values: dict, step_count, first: bool):
        """Assemble the observation (global state = own view + swarm features) and the timestep.

        ``reward`` is the shared scalar; ``metric_values`` has every declared metric (the
        ``order_parameter`` among them, which also goes to ``extras["order_parameter"]``).
        """
        n = self.num_agents
        swarm = jnp.broadcast_to(jnp.asarray(global_features, jnp.float32), (n, len(self.global_feature_names)))
        obs = self._observation(views.astype(jnp.float32), self._mask, step_count, jnp.concatenate([views, swarm], 1))
        metrics = {name: jnp.asarray(metric_values[name], jnp.float32) for name in self.metrics}
        extras = {"metrics": metrics, "order_parameter": metrics["order_parameter"]}
        if first:
            return restart(obs, extras, shape=(n,), dtype=jnp.float32)
        rewards = jnp.full((n,), reward, jnp.float32)
        return jax.lax.cond(
            step_count >= self.max_steps,
            lambda: truncation(rewards, obs, extras=extras, shape=(n,), dtype=jnp.float32),
            lambda: transition(rewards, obs, extras=extras, shape=(n,), dtype=jnp.float32),
        )

    @abc.abstractmethod
    def _reset(self, key: chex.PRNGKey):
        """``reset`` without the overflow check (jit-able)."""

    @abc.abstractmethod
    def _step(self, state, action: chex.Array):
        """``step`` without the overflow check (jit-able)."""

    def reset(self, key: chex.PRNGKey):
        if is_concrete(key):
            return self._checked(self._jitted_reset(key))
        return self._reset(key)

    def step(self, state, action: chex.Array):
        """One step. Called outside jit it runs compiled and raises
        :class:`~marljax.physics.neighbours.NeighbourOverflowError` if the neighbour list
        overflowed; under jit the overflow is reported in ``extras["metrics"]["neighbour_overflow"]``."""
        if is_concrete(state, action):
            return self._checked(self._jitted_step(state, jnp.asarray(action, jnp.float32)))
        return self._step(state, action)

    @cached_property
    def _jitted_reset(self):
        return jax.jit(self._reset)

    @cached_property
    def _jitted_step(self):
        return jax.jit(self._step)

    def _checked(self, result):
        overflow = result[1].extras["metrics"].get("neighbour_overflow")
        if overflow is not None:
            check_overflow(overflow, f"{type(self).__name__}'s neighbour list (raise cell_capacity)")
        return result
