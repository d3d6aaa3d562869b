"""The multi-agent environment base: Jumanji's ``Environment`` with a leading agent axis.

Subclasses implement ``reset``/``step`` and the two abstract specs; this base adds the
specs every multi-agent env shares (``[N]`` rewards and discounts), helpers that build an
:class:`~marljax.types.Observation` and its spec, the bookkeeping a registry, a CLI and
generic tests need (``num_agents``, ``action_type``, ``num_actions``, ``metrics``), and the
action check every ``step`` gets without asking for it (:meth:`MultiAgentEnv.check_action`).
"""

from __future__ import annotations

import functools
from functools import cached_property
from typing import Optional

import chex
import jax
import jax.numpy as jnp
import numpy as np
from jumanji import specs
from jumanji.env import Environment

from marljax.checks import is_concrete
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

    **Actions are checked.** Every subclass's ``step`` is wrapped when the class is defined,
    so that a concrete action (outside ``jit``/``vmap``) goes through :meth:`check_action`
    before the env sees it: a wrong shape, a wrong dtype (a float or bool for discrete
    actions, an integer for continuous ones), an out-of-range discrete action or a NaN/inf
    continuous one raises ``ValueError`` naming the problem. Under ``jit``/``vmap`` the
    action is a tracer and the check is skipped at trace time, so the compiled step is
    exactly the subclass's own (nothing is added to the graph); what an env does there with
    an out-of-range action is its own affair (the built-in envs clip). Only the outermost
    ``step`` of a class hierarchy checks, so ``super().step(...)`` costs nothing extra.

    **Metrics.** An env that reports scalar metrics declares them in the class attribute
    :attr:`metrics`, ``{name: "sum" | "mean" | "final"}``, and returns
    ``timestep.extras["metrics"] = {name: float32 scalar}`` with exactly those keys from both
    ``reset`` and ``step``. The declaration says how an episode aggregates the per-step
    values: ``"sum"`` over the episode's steps (counts such as crashes or catches),
    ``"mean"`` over them (levels such as an order parameter or a distance) or the
    ``"final"`` step's value (outcomes such as success). The values ``reset`` returns are not
    aggregated. :mod:`marljax.metrics` holds the aggregation; ``EpisodeStatistics``,
    training's ``metrics.csv`` and evaluation report the aggregated values by name.
    """

    #: Number of agents (the size of the leading axis).
    num_agents: int
    #: Episode length after which the env truncates.
    max_steps: int
    #: ``"discrete"`` or ``"continuous"``.
    action_type: str = "discrete"
    #: The scalar metrics the env reports, ``{name: "sum" | "mean" | "final"}`` (see above).
    metrics: dict = {}
    #: Continuous actions outside the action spec's bounds are clipped by the env, so the
    #: check accepts them (the particle worlds clip MPE's [0, 1] intensities: a Gaussian
    #: policy's samples are valid input). An env that needs in-bounds actions sets this to
    #: ``False`` and the check rejects them outside jit.
    clips_continuous_actions: bool = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _checking_actions(cls.__dict__["step"])

    def check_action(self, action) -> None:
        """Raise ``ValueError`` unless ``action`` is a valid joint action for this env.

        Discrete envs (a ``MultiDiscreteArray`` action spec) take ``[N]`` integers with
        ``0 <= action[i] < num_values[i]``; continuous envs take ``[N, d]`` finite floats
        (within the spec's bounds unless :attr:`clips_continuous_actions`). Any other action
        spec is validated by its own ``validate``. Called by ``step`` on concrete actions;
        call it directly to validate a policy's output. Action masks that change with the
        state are not checked (the state does not carry the observation's mask).
        """
        spec = self.action_spec
        env = type(self).__name__
        if isinstance(spec, (specs.DiscreteArray, specs.MultiDiscreteArray)):
            _check_discrete(np.asarray(action), spec, env)
        elif isinstance(spec, specs.BoundedArray) and jnp.issubdtype(spec.dtype, jnp.floating):
            _check_continuous(np.asarray(action), spec, env, enforce_bounds=not self.clips_continuous_actions)
        else:
            try:
                spec.validate(action)
            except (ValueError, TypeError) as err:
                raise ValueError(f"action does not match {env}'s action spec {spec}: {err}") from None

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

    def _time_limited_timestep(self, step_count, reward: chex.Array, observation: Observation, extras: dict):
        """The step's ``TimeStep`` for an env whose episodes end only at ``max_steps``: a
        truncation there (discount 1, so learners bootstrap), a transition before."""
        from jumanji.types import transition, truncation

        n = (self.num_agents,)
        return jax.lax.cond(
            step_count >= self.max_steps,
            lambda: truncation(reward, observation, extras=extras, shape=n, dtype=jnp.float32),
            lambda: transition(reward, observation, extras=extras, shape=n, dtype=jnp.float32),
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_agents={self.num_agents}, max_steps={self.max_steps})"


def _checking_actions(step):
    """Wrap a subclass's ``step`` so that concrete actions are checked before it runs."""

    @functools.wraps(step)
    def checked_step(self, state, action, *args, **kwargs):
        # Only the step that the caller reached checks: a super().step(...) call inside an
        # overriding step is the env talking to itself. Tracers (jit/vmap) skip the check.
        if type(self).step is checked_step and is_concrete(action):
            self.check_action(action)
        return step(self, state, action, *args, **kwargs)

    return checked_step


def _expected(spec, env: str, what: str) -> str:
    shape = ", ".join(str(d) for d in spec.shape)
    return f"{env} expects [{shape}] {np.dtype(spec.dtype).name} actions{what}"


def _check_shape_and_kind(action: np.ndarray, spec, env: str, kind, what: str) -> None:
    if action.shape != tuple(spec.shape):
        raise ValueError(f"action has shape {action.shape}; {_expected(spec, env, what)}")
    if action.dtype == np.bool_ or not jnp.issubdtype(action.dtype, kind):  # jnp knows bfloat16
        noun = "an integer" if kind is jnp.integer else "a floating-point"
        raise ValueError(f"action has dtype {action.dtype}, not {noun} type; {_expected(spec, env, what)}")


def _check_discrete(action: np.ndarray, spec, env: str) -> None:
    num_values = np.broadcast_to(np.asarray(spec.num_values), spec.shape)
    if num_values.size and num_values.min() == num_values.max():
        what = f", each in 0..{int(num_values.max()) - 1}"
    else:
        what = f", action[i] in 0..num_values[i]-1 (num_values {num_values.tolist()})"
    if len(spec.shape) == 1:
        what = ", one per agent" + what
    _check_shape_and_kind(action, spec, env, jnp.integer, what)
    bad = np.argwhere((action < 0) | (action >= num_values))
    if bad.size:
        i = tuple(int(j) for j in bad[0]) if action.ndim else ()
        count = int(num_values[i])
        where = f"[{', '.join(map(str, i))}]" if i else ""
        agent = f"agent {', '.join(map(str, i))} of " if i else ""
        raise ValueError(
            f"action{where} = {int(action[i])} is out of range: {agent}{env} has {count} actions (0..{count - 1})"
        )


def _bounds(spec) -> str:
    low, high = np.asarray(spec.minimum), np.asarray(spec.maximum)
    if np.all(low == low.flat[0]) and np.all(high == high.flat[0]):
        return f"[{low.flat[0]:g}, {high.flat[0]:g}]"
    return "the action spec's bounds"


def _check_continuous(action: np.ndarray, spec, env: str, enforce_bounds: bool) -> None:
    what = f" in {_bounds(spec)}" + (", one row per agent" if len(spec.shape) == 2 else "")
    _check_shape_and_kind(action, spec, env, jnp.floating, what)
    bad = np.argwhere(~np.isfinite(action))
    if bad.size:
        i = tuple(int(j) for j in bad[0])
        raise ValueError(f"action[{', '.join(map(str, i))}] is {action[i]}; {env} needs finite actions")
    if enforce_bounds:
        low = np.broadcast_to(spec.minimum, spec.shape)
        high = np.broadcast_to(spec.maximum, spec.shape)
        bad = np.argwhere((action < low) | (action > high))
        if bad.size:
            i = tuple(int(j) for j in bad[0])
            raise ValueError(
                f"action[{', '.join(map(str, i))}] = {action[i]:g} is outside [{low[i]:g}, {high[i]:g}]; "
                f"{_expected(spec, env, what)}"
            )
