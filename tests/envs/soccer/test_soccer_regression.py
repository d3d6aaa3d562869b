"""Soccer-v0's batch-last kernel against trajectories recorded before it (2026-11-25).

The step was rewritten to run batch-last under ``vmap`` (:func:`marljax.physics.particles.batch_minor`);
these figures come from the previous (batch-first) implementation: 3v3 against the scripted
opponent (strength 0.5), two envs of 60 steps under fixed random discrete actions, vmapped
and one env alone, and an auto-reset step under vmap (the reset runs inside a batched lax.cond).
"""

import jax
import jax.numpy as jnp
import numpy as np

from marljax.envs.soccer import Soccer
from marljax.wrappers import AutoResetWrapper

POS_SUM, POS_ABS_SUM = [-2.1915586, -0.574857], [5.790469, 6.9178925]
RETURNS = [-0.0068849, -0.00226131]
VIEW_SUM, GLOBAL_SUM, FIRST_VIEW_SUM = [579.43884, 544.9605], [-427.6256, -279.45224], [10.57278, 15.474001]


def test_soccer_reproduces_the_recorded_trajectories_vmapped_and_alone():
    env = Soccer()
    actions = jnp.asarray(np.random.default_rng(0).integers(0, 17, (2, 60, 3)).astype(np.int32))

    def episode(key, acts):
        state, first = env.reset(key)

        def body(s, a):
            s, t = env.step(s, a)
            return s, (t.reward, t.observation.agents_view.sum(), t.observation.global_state.sum())

        state, (reward, view, global_state) = jax.lax.scan(body, state, acts)
        return state.pos, reward.sum(0), view.sum(), global_state.sum(), first.observation.agents_view.sum()

    keys = jax.random.split(jax.random.PRNGKey(3), 2)
    pos, returns, view, global_state, first = jax.jit(jax.vmap(episode))(keys, actions)
    np.testing.assert_allclose(pos.sum(axis=(1, 2)), POS_SUM, rtol=1e-4)
    np.testing.assert_allclose(np.abs(pos).sum(axis=(1, 2)), POS_ABS_SUM, rtol=1e-4)
    np.testing.assert_allclose(returns, np.repeat(np.asarray(RETURNS)[:, None], 3, 1), rtol=1e-4)
    np.testing.assert_allclose(view, VIEW_SUM, rtol=1e-4)
    np.testing.assert_allclose(global_state, GLOBAL_SUM, rtol=1e-4)
    np.testing.assert_allclose(first, FIRST_VIEW_SUM, rtol=1e-4)
    alone = jax.jit(episode)(keys[1], actions[1])
    np.testing.assert_allclose(alone[0], pos[1], atol=1e-5)
    np.testing.assert_allclose(alone[1], returns[1], atol=1e-6)


def test_auto_reset_under_vmap_resets_only_finished_envs():
    """Env 0 is one step from its time limit, env 1 is not: the batched auto-reset (a lax.cond
    with a batched predicate around the batch-last reset kernel) restarts env 0 only."""
    env = AutoResetWrapper(Soccer(team_size=1, max_steps=5))
    state, _ = jax.vmap(env.reset)(jax.random.split(jax.random.PRNGKey(0), 2))
    state = state.replace(step_count=jnp.array([4, 1], jnp.int32))
    next_state, ts = jax.jit(jax.vmap(env.step))(state, jnp.zeros((2, 1), jnp.int32))
    np.testing.assert_array_equal(next_state.step_count, [0, 2])
    np.testing.assert_array_equal(ts.last(), [True, False])
    np.testing.assert_allclose(next_state.pos[0, -1], [0.0, 0.0])  # the ball back on the centre spot
