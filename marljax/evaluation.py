"""Play whole episodes under a policy: the one evaluation loop (runs, PSRO, the RL oracle, the CLI).

    batch = play_episodes(env, policy, key, num_episodes=64)
    summarise(batch)  # {"mean_return": ..., "return_per_agent": [...], "metrics": {...}, ...}

``num_episodes`` copies of the env are reset once and stepped in parallel (``vmap`` over
episodes, ``lax.scan`` over time), without auto-reset: an episode that has ended stays ended,
and its later steps count for nothing (returns, length, metrics and tallies are masked; its
state stays frozen at the final one). Returns are undiscounted sums of rewards; the env's
metrics are aggregated as it declares (:mod:`marljax.metrics`).
"""

from __future__ import annotations

from functools import partial
from typing import Callable, Optional

import chex
import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from marljax import metrics as env_metrics

__all__ = ["EpisodeBatch", "play_episodes", "summarise"]

#: ``policy(carry, observation, first, key) -> (carry, action)``: observation leaves ``[E, N, ...]``,
#: ``first [E, N]`` bool (True on an episode's first step, where recurrent policies restart),
#: action ``[E, N, ...]``; ``carry`` is whatever the policy keeps between steps (``initial_carry``).
Policy = Callable


@struct.dataclass
class EpisodeBatch:
    """What :func:`play_episodes` saw, one entry per episode.

    Attributes:
        returns: ``[E, N]`` undiscounted return of each agent.
        length: ``[E]`` int32 steps each episode lasted (``max_steps`` if it had not ended).
        metrics: ``{name: [E]}`` the env's metrics aggregated per its declaration.
        states: env states ``[T+1, E, ...]`` (the reset's, then after each step; frozen once the
            episode ended) when ``record_states``, else ``None``.
        tally: ``tally(action, timestep)`` summed over each episode's live steps (``[E, ...]``), or ``None``.
    """

    returns: chex.Array
    length: chex.Array
    metrics: dict
    states: Optional[chex.ArrayTree] = None
    tally: Optional[chex.ArrayTree] = None


def play_episodes(
    env,
    policy: Policy,
    key: chex.PRNGKey,
    num_episodes: int,
    *,
    initial_carry: Optional[chex.ArrayTree] = None,
    max_steps: Optional[int] = None,
    record_states: bool = False,
    tally: Optional[Callable] = None,
) -> EpisodeBatch:
    """Play ``num_episodes`` episodes of ``env`` in parallel under ``policy``.

    Args:
        env: a marljax env, unwrapped (no auto-reset: each episode is played once).
        policy: ``policy(carry, observation, first, key) -> (carry, action)`` for the whole batch:
            observation leaves ``[E, N, ...]``, ``first [E, N]`` bool (True on the first step),
            ``action [E, N, ...]``. It gets a fresh ``key`` every step. Jit reuses a compilation
            only for the same ``policy`` object, so build it once, not per call.
        key: PRNG key (the same key gives the same episodes).
        num_episodes: ``E``, the number of episodes (and parallel envs).
        initial_carry: the policy's carry at the first step (``None`` for stateless policies).
        max_steps: steps to play at most (default ``env.max_steps``); an episode still running
            then is cut there.
        record_states: keep every visited env state (memory ``T+1`` states per episode).
        tally: optional ``tally(action, timestep) -> pytree`` of ``[E, ...]`` leaves, with
            ``timestep`` the one the action led to; summed over each episode's live steps
            (e.g. one-hot actions give action counts).

    Returns:
        An :class:`EpisodeBatch`. Jittable: every argument but ``env``, ``policy``,
        ``num_episodes``, ``max_steps``, ``record_states`` and ``tally`` is an array.

    Raises:
        ValueError: ``num_episodes`` or ``max_steps`` is not a positive integer, or the env's
            metric declaration is invalid.
    """
    max_steps = env.max_steps if max_steps is None else max_steps
    for name, value in (("num_episodes", num_episodes), ("max_steps", max_steps)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    env_metrics.declared_metrics(env)  # a clear error before tracing
    return _play(
        env,
        policy,
        key,
        initial_carry,
        num_episodes=int(num_episodes),
        max_steps=int(max_steps),
        record_states=bool(record_states),
        tally=tally,
    )


@partial(jax.jit, static_argnames=("env", "policy", "num_episodes", "max_steps", "record_states", "tally"))
def _play(env, policy, key, initial_carry, *, num_episodes, max_steps, record_states, tally):
    declaration = env_metrics.declared_metrics(env)
    reset_key, run_key = jax.random.split(key)
    start, timestep = jax.vmap(env.reset)(jax.random.split(reset_key, num_episodes))
    env_metrics.step_metrics(timestep.extras, declaration)  # the reset reports the declared keys too
    first = jnp.ones((num_episodes, env.num_agents), bool)

    def live_only(live, new, old):  # per episode: the new value while it runs, the old one after
        expand = lambda x: live.reshape(live.shape + (1,) * (x.ndim - 1))  # noqa: E731
        return jax.tree_util.tree_map(lambda a, b: jnp.where(expand(a), a, b), new, old)

    def play_step(carry, step_key):
        state, observation, policy_carry, first, alive, returns, length, totals, counts = carry
        policy_carry, action = policy(policy_carry, observation, first, step_key)
        next_state, timestep = jax.vmap(env.step)(state, action)
        returns = returns + jnp.where(alive[:, None], timestep.reward, 0.0)
        length = length + alive.astype(jnp.int32)
        values = env_metrics.step_metrics(timestep.extras, declaration)
        totals = env_metrics.accumulate(totals, values, declaration, alive)
        if tally is not None:
            counts = live_only(alive, jax.tree_util.tree_map(jnp.add, counts, tally(action, timestep)), counts)
        state = live_only(alive, next_state, state)
        alive = alive & ~timestep.last()
        carry = (
            state,
            timestep.observation,
            policy_carry,
            jnp.zeros_like(first),
            alive,
            returns,
            length,
            totals,
            counts,
        )
        return carry, (state if record_states else None)

    counts = None
    if tally is not None:  # zeros shaped like the tally of a first step (traced abstractly, not run)

        def first_tally():
            _, action = policy(initial_carry, timestep.observation, first, run_key)
            return tally(action, jax.vmap(env.step)(start, action)[1])

        counts = jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), jax.eval_shape(first_tally))
    carry = (
        start,
        timestep.observation,
        initial_carry,
        first,
        jnp.ones((num_episodes,), bool),
        jnp.zeros((num_episodes, env.num_agents), jnp.float32),
        jnp.zeros((num_episodes,), jnp.int32),
        env_metrics.zeros(declaration, (num_episodes,)),
        counts,
    )
    carry, visited = jax.lax.scan(play_step, carry, jax.random.split(run_key, max_steps))
    returns, length, totals, counts = carry[5:]
    states = None
    if record_states:
        states = jax.tree_util.tree_map(lambda s0, rest: jnp.concatenate([s0[None], rest]), start, visited)
    return EpisodeBatch(
        returns=returns,
        length=length,
        metrics=env_metrics.finish(totals, length, declaration),
        states=states,
        tally=counts,
    )


def summarise(batch: EpisodeBatch) -> dict:
    """Host-side summary of an :class:`EpisodeBatch` (plain floats, JSON-ready).

    Returns:
        ``episodes`` (E), ``mean_return`` (mean over episodes and agents), ``return_per_agent``
        (list of N means over episodes), ``std_return`` (standard deviation over episodes of the
        agents' mean return), ``mean_length`` and ``metrics`` (name -> mean over episodes).
    """
    returns = np.asarray(batch.returns, np.float64)
    team = returns.mean(axis=1)
    return {
        "episodes": int(returns.shape[0]),
        "mean_return": float(team.mean()),
        "return_per_agent": returns.mean(axis=0).tolist(),
        "std_return": float(team.std()),
        "mean_length": float(np.asarray(batch.length, np.float64).mean()),
        "metrics": {name: float(np.asarray(value, np.float64).mean()) for name, value in batch.metrics.items()},
    }
