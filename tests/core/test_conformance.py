"""API conformance of every registered env: specs, jit + vmap, determinism, masks."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import marljax
from marljax.types import StepType

NUM_ENVS = 3


def _at(tree, t, b):
    return jax.tree_util.tree_map(lambda x: x[t, b], tree)


def _policy(key, obs):
    return marljax.sample_valid_actions(key, obs.action_mask)


@pytest.mark.parametrize("name", marljax.registered())
def test_env_conforms_to_api(name):
    env = marljax.make(name)
    assert isinstance(env, marljax.MultiAgentEnv)
    n = env.num_agents
    num_steps = min(env.max_steps, 50) + 2  # cross an episode boundary when episodes are short
    policy = _policy if env.action_type == "discrete" else marljax.random_policy(env)

    key = jax.random.PRNGKey(7)
    _, traj = marljax.rollout(env, policy, key, NUM_ENVS, num_steps)
    _, again = marljax.rollout(env, policy, key, NUM_ENVS, num_steps)
    _, other = marljax.rollout(env, policy, jax.random.PRNGKey(8), NUM_ENVS, num_steps)

    # Every leaf has the [T, num_envs] prefix, and each element matches the env's specs exactly.
    for t in (0, num_steps - 1):
        for b in range(NUM_ENVS):
            env.observation_spec.validate(_at(traj.observation, t, b))
            env.reward_spec.validate(traj.reward[t, b])
            env.discount_spec.validate(traj.discount[t, b])
            env.action_spec.validate(traj.action[t, b])
    assert traj.reward.shape == (num_steps, NUM_ENVS, n)
    assert traj.reward.dtype == jnp.float32 and traj.discount.dtype == jnp.float32

    # Same key, same trajectory; another key, another one.
    jax.tree_util.tree_map(np.testing.assert_array_equal, traj, again)
    assert not np.array_equal(traj.action, other.action)

    assert np.all(np.isfinite(traj.reward))
    assert np.all(np.isfinite(traj.observation.agents_view))
    assert np.all(np.isfinite(traj.observation.global_state))

    if env.action_type == "discrete":
        mask = np.asarray(traj.observation.action_mask)
        chosen = np.take_along_axis(mask, np.asarray(traj.action)[..., None], axis=-1)
        assert chosen.all(), "a sampled action was masked out"
        # The mask never offers an action the spec rules out (a >= num_values[i]).
        num_values = np.asarray(env.action_spec.num_values)
        allowed_by_spec = np.arange(mask.shape[-1])[None, :] < num_values[:, None]
        assert not (mask & ~allowed_by_spec).any(), "mask allows an action outside the action spec"

    # Episodes end within max_steps (some end sooner: all agents crashed, a goal) and auto-reset starts afresh.
    if num_steps > env.max_steps:
        assert (traj.step_type == StepType.LAST).any()
    assert int(traj.observation.step_count.max()) <= env.max_steps


@pytest.mark.parametrize("name", marljax.registered())
def test_reset_and_step_jit_and_vmap_directly(name):
    """``jit(vmap(reset))`` and ``jit(vmap(step))`` work for every env, and the vmapped step equals
    the env's step applied to each env in turn (one compile per env: both run in one jit)."""
    env = marljax.make(name)
    policy = marljax.random_policy(env)
    batch = 3

    @jax.jit
    def reset_then_step(key):
        reset_keys, policy_keys = jax.random.split(key, (2, batch))
        state, first = jax.vmap(env.reset)(reset_keys)
        action = jax.vmap(policy)(policy_keys, first.observation)
        vmapped = jax.vmap(env.step)(state, action)
        one_at_a_time = jax.lax.map(lambda state_action: env.step(*state_action), (state, action))
        return first, action, vmapped, one_at_a_time

    first, action, vmapped, one_at_a_time = reset_then_step(jax.random.PRNGKey(0))
    assert first.reward.shape == (batch, env.num_agents)
    np.testing.assert_array_equal(first.observation.step_count, 0)
    _, ts = vmapped
    assert ts.observation.agents_view.shape[:2] == (batch, env.num_agents)
    np.testing.assert_array_equal(ts.observation.step_count, 1)
    jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6), vmapped, one_at_a_time)
    # The base class's action check (outside jit) accepts every action a valid policy samples.
    for b in range(batch):
        env.check_action(action[b])
