"""Flocking-v0's batch-last kernel against trajectories recorded before it (2026-11-25).

The step was rewritten to run batch-last under ``vmap`` (:func:`marljax.physics.particles.batch_minor`);
these figures come from the previous (batch-first) implementation, two envs of 25 steps under
fixed random forces (some beyond the clip), vmapped and one env alone.
"""

import jax
import jax.numpy as jnp
import numpy as np

from marljax.envs.swarms import Flocking

POS_SUM = [1.2711895, 2.1063786]
POS_ABS_SUM = [11.979204, 9.00231]
RETURNS = [[0.19013345, 0.1166172, -0.31781912, 0.16061449], [-0.34796083, -0.11102813, 0.1780703, 0.18538296]]
VIEW_SUM, GLOBAL_SUM, FIRST_VIEW_SUM = [425.3388, 352.93442], [521.4862, 457.84976], [18.026243, 15.295968]


def test_flocking_reproduces_the_recorded_trajectories_vmapped_and_alone():
    env = Flocking()
    actions = jnp.asarray(np.random.default_rng(0).uniform(-1.2, 1.2, (2, 25, 4, 2)).astype(np.float32))

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
    np.testing.assert_allclose(returns, RETURNS, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(view, VIEW_SUM, rtol=1e-4)
    np.testing.assert_allclose(global_state, GLOBAL_SUM, rtol=1e-4)
    np.testing.assert_allclose(first, FIRST_VIEW_SUM, rtol=1e-4)
    # One env alone (the kernel's unbatched path) gives env 1's trajectory.
    alone = jax.jit(episode)(keys[1], actions[1])
    np.testing.assert_allclose(alone[0], pos[1], atol=1e-5)
    np.testing.assert_allclose(alone[1], returns[1], atol=1e-5)
