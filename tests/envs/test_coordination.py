"""The coordination game and Aloha: rewards and transitions on hand-built states, metrics, bad values."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import marljax
from marljax.envs.coordination import Aloha, CoordinationGame, grid_interference, reward_table, transition_matrix
from marljax.envs.coordination.coordination_game import bits_reward
from marljax.envs.coordination.types import AlohaState, CoordinationState

# (bits, reward) with the tolerance l = 1, 1, 2, 3 for n = 2, 3, 5, 10 (zeros z, ones o).
REWARDS = [
    ([0, 0], 3.0),  # z - o = 2 > 1: the optimum
    ([0, 1], 0.0),  # balanced, no majority of ones
    ([1, 1], 2.0),  # o - z = 2 > 1: the trap
    ([0, 0, 0], 3.0),
    ([0, 0, 1], 0.0),  # |z - o| = 1 <= 1, ones not the majority
    ([1, 0, 1], 1.0),  # |z - o| = 1 <= 1, ones the majority
    ([1, 1, 1], 2.0),
    ([0, 0, 0, 0, 1], 3.0),  # z - o = 3 > 2
    ([0, 0, 1, 0, 1], 0.0),
    ([1, 0, 1, 0, 1], 1.0),
    ([1, 1, 1, 1, 0], 2.0),  # o - z = 3 > 2
    ([0] * 7 + [1] * 3, 3.0),  # z - o = 4 > 3
    ([0] * 6 + [1] * 4, 0.0),  # 2 <= 3
    ([0] * 5 + [1] * 5, 0.0),
    ([0] * 4 + [1] * 6, 1.0),
    ([0] * 3 + [1] * 7, 2.0),
]


@pytest.mark.parametrize("bits,reward", REWARDS)
def test_coordination_reward_of_hand_built_states(bits, reward):
    env = CoordinationGame(num_agents=len(bits))
    assert float(bits_reward(jnp.asarray(bits), env.tolerance)) == reward


def test_reward_table_indexes_agent_i_by_bit_i():
    table = reward_table(3)
    # index 0 = all zeros, 7 = all ones, 4 = only agent 2 plays 1, 6 = agents 1 and 2.
    np.testing.assert_array_equal(table[[0, 7, 4, 6]], [3.0, 2.0, 0.0, 1.0])


def _step(env, bits, action, key=0):
    state = CoordinationState(key=jax.random.PRNGKey(key), step_count=jnp.int32(3), bits=jnp.asarray(bits, jnp.int32))
    return env.step(state, jnp.asarray(action, jnp.int32))


def test_coordination_step_follows_the_action_without_noise_and_flips_with_eps_one():
    exact = CoordinationGame(num_agents=3, eps=0.0)
    state, ts = _step(exact, [1, 1, 1], [0, 0, 1])
    np.testing.assert_array_equal(state.bits, [0, 0, 1])
    np.testing.assert_array_equal(ts.reward, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(ts.observation.agents_view, np.tile([0.0, 0.0, 1.0], (3, 1)))
    assert int(ts.observation.step_count) == 4
    state, ts = _step(exact, [1, 0, 1], [0, 0, 0])
    np.testing.assert_array_equal(ts.reward, [3.0] * 3)
    assert float(ts.extras["metrics"]["optimal_state"]) == 1.0 and float(ts.extras["metrics"]["trap_state"]) == 0.0

    flipping = CoordinationGame(num_agents=3, eps=1.0)
    state, ts = _step(flipping, [0, 0, 0], [0, 0, 0])
    np.testing.assert_array_equal(state.bits, [1, 1, 1])
    np.testing.assert_array_equal(ts.reward, [2.0] * 3)
    assert float(ts.extras["metrics"]["trap_state"]) == 1.0


def test_coordination_flip_frequency_matches_the_transition_matrix():
    env = CoordinationGame(num_agents=2, eps=0.1)
    keys = jax.random.split(jax.random.PRNGKey(1), 8000)
    state = CoordinationState(key=keys[0], step_count=jnp.int32(0), bits=jnp.zeros(2, jnp.int32))
    step = jax.jit(jax.vmap(lambda k: env.step(state.replace(key=k), jnp.array([0, 1], jnp.int32))[0].bits))
    bits = np.asarray(step(keys))
    index = bits[:, 0] + 2 * bits[:, 1]
    frequency = np.bincount(index, minlength=4) / len(index)
    expected = transition_matrix(2, 0.1)[2]  # joint action (0, 1) has index 0 + 2 * 1
    np.testing.assert_allclose(expected, [0.09, 0.01, 0.81, 0.09], atol=1e-12)
    np.testing.assert_allclose(frequency, expected, atol=0.015)  # > 4 standard errors
    np.testing.assert_allclose(transition_matrix(5, 0.3).sum(1), 1.0)


def test_coordination_initial_bits_are_uniform():
    env = CoordinationGame(num_agents=10)
    _, ts = jax.jit(jax.vmap(env.reset))(jax.random.split(jax.random.PRNGKey(2), 2000))
    share = np.asarray(ts.observation.agents_view[:, 0, :]).mean()
    assert abs(share - 0.5) < 0.02
    np.testing.assert_array_equal(ts.reward, 0.0)


def test_aloha_grid_interference():
    g = grid_interference(10)
    assert (g == g.T).all() and not g.diagonal().any()
    assert g.sum() // 2 == 13  # 2 x 4 edges along the rows, 5 along the columns
    np.testing.assert_array_equal(g.sum(1), [2, 3, 3, 3, 2, 2, 3, 3, 3, 2])
    assert g[0, 1] and g[0, 5] and not g[0, 6] and not g[4, 5]


def test_aloha_step_on_a_hand_built_state():
    env = Aloha(arrival_prob=0.0)
    backlog = jnp.array([1, 2, 0, 0, 1, 0, 0, 0, 3, 0], jnp.int32)  # a 2 x 5 grid, row by row
    state = AlohaState(key=jax.random.PRNGKey(0), step_count=jnp.int32(0), backlog=backlog)
    # 0 and 1 are neighbours: both collide; 4 sends alone; 2 "sends" an empty backlog (no effect);
    # 8 sends and its neighbour 7 transmits with an empty backlog, which does not jam it.
    action = jnp.array([1, 1, 1, 0, 1, 0, 0, 1, 1, 0], jnp.int32)
    new, ts = env.step(state, action)
    np.testing.assert_array_equal(new.backlog, [1, 2, 0, 0, 0, 0, 0, 0, 2, 0])
    np.testing.assert_allclose(ts.reward, np.full(10, 2 * 0.1 - 2 * 10.0), rtol=1e-6)
    assert float(ts.extras["metrics"]["transmissions"]) == 2.0
    assert float(ts.extras["metrics"]["collisions"]) == 2.0
    np.testing.assert_array_equal(ts.observation.agents_view[:, 0], new.backlog)

    full = Aloha(arrival_prob=1.0)
    capped = state.replace(backlog=jnp.full(10, 5, jnp.int32))
    new, ts = full.step(capped, jnp.zeros(10, jnp.int32))
    np.testing.assert_array_equal(new.backlog, 5)  # arrivals stop at max_backlog
    np.testing.assert_array_equal(ts.reward, 0.0)


def test_episode_metrics_aggregate_over_an_episode():
    env = marljax.make("coordination/CoordinationGame-v0", num_agents=2, eps=0.0)
    always_zero = lambda key, obs: jnp.zeros(2, jnp.int32)  # noqa: E731
    _, traj = marljax.rollout(env, always_zero, jax.random.PRNGKey(0), 2, env.max_steps)
    np.testing.assert_array_equal(traj.reward, 3.0)
    np.testing.assert_array_equal(traj.extras["metrics"]["optimal_state"], 1.0)


@pytest.mark.parametrize(
    "name,kwargs,match",
    [
        ("coordination/CoordinationGame-v0", {"num_agents": 4}, "num_agents must be one of"),
        ("coordination/CoordinationGame-v0", {"num_agents": 1}, "num_agents must be one of"),
        ("coordination/CoordinationGame-v0", {"eps": 1.5}, r"eps .* \[0, 1\]"),
        ("coordination/CoordinationGame-v0", {"eps": -0.1}, r"eps .* \[0, 1\]"),
        ("coordination/Aloha-v0", {"num_agents": 3}, "even"),
        ("coordination/Aloha-v0", {"arrival_prob": 1.2}, "arrival_prob"),
    ],
)
def test_bad_values_raise(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        marljax.make(name, **kwargs)
