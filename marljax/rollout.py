"""Vectorised rollouts: ``lax.scan`` over time, ``vmap`` over environments, one jit."""

from __future__ import annotations

from functools import partial
from typing import Callable

import chex
import jax
import jax.numpy as jnp

from marljax.sharding import check_batch_divides, constrain_batch
from marljax.types import Observation, Trajectory
from marljax.wrappers import AutoResetWrapper

__all__ = ["rollout", "random_policy", "sample_valid_actions"]

Policy = Callable[[chex.PRNGKey, Observation], chex.Array]


def sample_valid_actions(key: chex.PRNGKey, action_mask: chex.Array) -> chex.Array:
    """Uniform random action per agent among those its ``action_mask [N, A]`` allows."""
    logits = jnp.where(action_mask, 0.0, -jnp.inf)
    return jax.random.categorical(key, logits, axis=-1).astype(jnp.int32)


def random_policy(env) -> Policy:
    """A policy that acts uniformly at random: masked-uniform for discrete action spaces,
    uniform in the action bounds for continuous ones."""
    if env.action_type == "discrete":
        return lambda key, obs: sample_valid_actions(key, obs.action_mask)
    spec = env.action_spec

    def continuous(key, obs):
        return jax.random.uniform(key, spec.shape, jnp.float32, jnp.asarray(spec.minimum), jnp.asarray(spec.maximum))

    return continuous


@partial(jax.jit, static_argnames=("env", "policy", "num_envs", "num_steps", "mesh"))
def rollout(env, policy: Policy, key: chex.PRNGKey, num_envs: int, num_steps: int, mesh=None):
    """Run ``num_envs`` copies of ``env`` for ``num_steps`` steps under ``policy``.

    Args:
        env: a marljax env (it is wrapped in auto-reset here; pass it unwrapped).
        policy: ``policy(key, observation) -> action`` for *one* env (leading agent axis);
            it is vmapped over envs. Must be hashable (a function, not a lambda made per call,
            if you want jit to reuse the compilation).
        key: PRNG key; the same key gives the same trajectory.
        num_envs, num_steps: batch size and horizon (static).
        mesh: optional ``jax.sharding.Mesh`` (see :func:`marljax.sharding.batch_mesh`): the
            env axis is split over its devices; ``num_envs`` must be a multiple of its size
            (else a ``ValueError``).

    Returns:
        ``(final_state, trajectory)`` where every leaf of the :class:`Trajectory` is
        ``[num_steps, num_envs, ...]``.
    """
    check_batch_divides(num_envs, mesh, "num_envs")  # at trace time: num_envs and mesh are static
    env = AutoResetWrapper(env)
    reset_key, run_key = jax.random.split(key)
    state, timestep = jax.vmap(env.reset)(jax.random.split(reset_key, num_envs))
    state, timestep = constrain_batch((state, timestep), mesh)

    def one_step(carry, step_key):
        state, timestep = carry
        obs = timestep.observation
        action = jax.vmap(policy)(jax.random.split(step_key, num_envs), obs)
        state, timestep = jax.vmap(env.step)(state, action)
        transition = Trajectory(
            observation=obs,
            action=action,
            reward=timestep.reward,
            discount=timestep.discount,
            step_type=timestep.step_type,
            extras=timestep.extras,
        )
        return (state, timestep), transition

    (state, _), trajectory = jax.lax.scan(one_step, (state, timestep), jax.random.split(run_key, num_steps))
    return state, constrain_batch(trajectory, mesh, batch_dim=1)
