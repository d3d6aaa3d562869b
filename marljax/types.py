"""Pytrees shared by every environment and learner.

Per-agent data always carries a leading agent axis of size ``num_agents``; heterogeneous
agents share that padded axis and are told apart by ``agent_type`` and ``action_mask``.
"""

from __future__ import annotations

from typing import NamedTuple

import chex
from jumanji.types import StepType, TimeStep

__all__ = ["Observation", "StepType", "TimeStep", "Trajectory"]


class Observation(NamedTuple):
    """What each agent sees, stacked along a leading agent axis.

    Attributes:
        agents_view: ``[N, ...]`` each agent's local observation.
        action_mask: ``[N, A]`` bool, ``True`` where the action is available to that agent
            (discrete envs); continuous envs give ``[N, 1]`` of ``True``.
        step_count: ``[]`` int32, steps taken in the current episode.
        global_state: ``[N, G]`` input for a centralised critic (the same row for every agent
            unless an env says otherwise).
        agent_type: ``[N]`` int32 kind of each agent (0 when all agents are alike).
    """

    agents_view: chex.Array
    action_mask: chex.Array
    step_count: chex.Array
    global_state: chex.Array
    agent_type: chex.Array


class Trajectory(NamedTuple):
    """A rollout, time-major: every leaf is ``[T, num_envs, ...]``.

    ``observation`` is what the policy saw before acting; ``reward``/``discount``/``step_type``
    come from the transition the action caused. With auto-reset, a ``LAST`` step's
    observation of the *next* row is already the first observation of a fresh episode.
    """

    observation: Observation
    action: chex.Array
    reward: chex.Array
    discount: chex.Array
    step_type: chex.Array
    extras: dict
