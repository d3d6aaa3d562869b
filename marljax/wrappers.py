"""Wrappers that are not env code: auto-reset, vmap over envs, per-agent episode statistics.

Auto-reset and vmap are Jumanji's own (they only touch ``step_type`` and ``state.key``, so a
leading agent axis passes through untouched); ``EpisodeStatistics`` is ours because Jumanji
has no per-agent return tracking, nor env metrics (see :mod:`marljax.metrics`).
"""

from __future__ import annotations

from typing import Tuple

import chex
import jax.numpy as jnp
from jumanji.wrappers import AutoResetWrapper, VmapAutoResetWrapper, VmapWrapper, Wrapper

from marljax import metrics as env_metrics
from marljax.types import TimeStep

__all__ = [
    "AutoResetWrapper",
    "VmapWrapper",
    "VmapAutoResetWrapper",
    "EpisodeStatistics",
    "EpisodeStatsState",
]


@chex.dataclass
class EpisodeStatsState:
    """The wrapped env's state plus running and last-completed per-agent episode stats."""

    env_state: chex.ArrayTree
    key: chex.PRNGKey
    episode_return: chex.Array  # [N] return of the episode in progress
    episode_length: chex.Array  # [] steps of the episode in progress
    returned_episode_return: chex.Array  # [N] return of the last finished episode
    returned_episode_length: chex.Array  # [] length of the last finished episode
    returned_episode: chex.Array  # [] bool, True on the step an episode ends
    episode_metrics: dict  # {name: []} running totals of the episode in progress (marljax.metrics)
    returned_episode_metrics: dict  # {name: []} aggregated metrics of the last finished episode


class EpisodeStatistics(Wrapper):
    """Track undiscounted per-agent returns, episode lengths and the env's metrics.

    Put it *inside* an auto-reset wrapper's view of the world by wrapping the auto-reset env:
    ``EpisodeStatistics(AutoResetWrapper(env))``. On the step an episode ends,
    ``timestep.extras`` carries ``episode_return [N]``, ``episode_length``,
    ``episode_metrics`` (``{name: []}``, the env's declared metrics aggregated over the episode
    by :mod:`marljax.metrics`; ``{}`` for an env without metrics) and ``returned_episode = True``;
    on other steps it repeats the last finished episode's values (zeros before the first).

    Raises:
        ValueError: the env declares a metric with an unknown aggregation.
    """

    def __init__(self, env):
        super().__init__(env)
        self._metrics = env_metrics.declared_metrics(env)

    def reset(self, key: chex.PRNGKey) -> Tuple[EpisodeStatsState, TimeStep]:
        env_state, timestep = self._env.reset(key)
        env_metrics.step_metrics(timestep.extras, self._metrics)  # the reset reports the declared keys too
        n = self._env.num_agents
        zeros = jnp.zeros((n,), jnp.float32)
        no_metrics = env_metrics.zeros(self._metrics)
        state = EpisodeStatsState(
            env_state=env_state,
            key=env_state.key,
            episode_return=zeros,
            episode_length=jnp.int32(0),
            returned_episode_return=zeros,
            returned_episode_length=jnp.int32(0),
            returned_episode=jnp.bool_(False),
            episode_metrics=no_metrics,
            returned_episode_metrics=no_metrics,
        )
        return state, self._with_stats(timestep, state)

    def step(self, state: EpisodeStatsState, action: chex.Array):
        env_state, timestep = self._env.step(state.env_state, action)
        done = timestep.last()
        ret = state.episode_return + timestep.reward
        length = state.episode_length + 1
        totals = env_metrics.accumulate(
            state.episode_metrics, env_metrics.step_metrics(timestep.extras, self._metrics), self._metrics
        )
        finished = env_metrics.finish(totals, length, self._metrics)
        state = EpisodeStatsState(
            env_state=env_state,
            key=env_state.key,
            episode_return=jnp.where(done, 0.0, ret),
            episode_length=jnp.where(done, 0, length),
            returned_episode_return=jnp.where(done, ret, state.returned_episode_return),
            returned_episode_length=jnp.where(done, length, state.returned_episode_length),
            returned_episode=done,
            episode_metrics={name: jnp.where(done, 0.0, total) for name, total in totals.items()},
            returned_episode_metrics={
                name: jnp.where(done, finished[name], state.returned_episode_metrics[name]) for name in finished
            },
        )
        return state, self._with_stats(timestep, state)

    @staticmethod
    def _with_stats(timestep: TimeStep, state: EpisodeStatsState) -> TimeStep:
        extras = dict(timestep.extras or {})
        extras.update(
            episode_return=state.returned_episode_return,
            episode_length=state.returned_episode_length,
            returned_episode=state.returned_episode,
            episode_metrics=state.returned_episode_metrics,
        )
        return timestep.replace(extras=extras)

    def render(self, state: EpisodeStatsState):
        return self._env.render(state.env_state)


def unwrap_state(state):
    """Strip ``EpisodeStatsState`` layers to reach the base env's state."""
    while isinstance(state, EpisodeStatsState):
        state = state.env_state
    return state
