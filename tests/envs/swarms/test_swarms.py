"""Swarm envs: the physics they must reproduce, their scale, their errors, VMAS equivalence."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import marljax
from marljax.envs.swarms import Aggregation, Flocking, Kuramoto, Vicsek, classic_policy
from marljax.envs.swarms.kuramoto import KuramotoState
from marljax.physics.neighbours import NeighbourOverflowError


def assert_renders(env, state):
    import matplotlib.pyplot as plt

    fig = env.render(state)
    assert fig.axes and fig.axes[0].get_title().startswith(type(env).__name__)
    plt.close(fig)


def uncontrolled_order(env, steps, key, tail):
    """Mean order parameter over the last ``tail`` of ``steps`` steps under the classic policy."""
    policy = classic_policy(env)

    def body(carry, step_key):
        state, timestep = carry
        state, timestep = env.step(state, policy(step_key, timestep.observation))
        return (state, timestep), timestep.extras["order_parameter"]

    @jax.jit
    def run(key):
        reset_key, run_key = jax.random.split(key)
        return jax.lax.scan(body, env.reset(reset_key), jax.random.split(run_key, steps))[1]

    order = run(key)
    return float(order[-tail:].mean())


def test_vicsek_orders_at_low_noise_and_not_at_high_noise():
    """Vicsek et al. 1995 at their density (N = 300, L = 7): phi -> ~1 at eta = 0.5, ~0 at eta = 5."""
    low = uncontrolled_order(Vicsek(num_agents=300, noise=0.5, max_steps=400), 400, jax.random.PRNGKey(0), 50)
    high = uncontrolled_order(Vicsek(num_agents=300, noise=5.0, max_steps=400), 400, jax.random.PRNGKey(0), 50)
    assert low > 0.9, low
    assert high < 0.25, high


def test_kuramoto_synchronises_above_twice_the_lorentzian_width_only():
    """Uncontrolled, N = 2000, g = 0.5 (K_c = 1): R -> sqrt(1 - 2g/K) = 0.58 at K = 1.5, R ~ 0 at K = 0.5."""
    sync = uncontrolled_order(
        Kuramoto(2000, coupling=1.5, frequency_width=0.5, max_steps=600), 600, jax.random.PRNGKey(1), 200
    )
    incoherent = uncontrolled_order(
        Kuramoto(2000, coupling=0.5, frequency_width=0.5, max_steps=600), 600, jax.random.PRNGKey(1), 200
    )
    assert abs(sync - math.sqrt(1 - 1 / 1.5)) < 0.08, sync
    assert incoherent < 0.1, incoherent


def test_classic_vicsek_policy_is_the_vicsek_update():
    """Without noise, one step under the classic policy turns every agent to the local mean heading."""
    env = Vicsek(num_agents=60, box_size=4.0, noise=0.0)
    state, timestep = env.reset(jax.random.PRNGKey(2))
    new_state, _ = env.step(state, classic_policy(env)(None, timestep.observation))
    pos, theta = np.asarray(state.pos), np.asarray(state.heading)
    delta = pos[:, None] - pos[None]
    delta -= 4.0 * np.round(delta / 4.0)
    close = np.sqrt((delta**2).sum(-1)) < 1.0  # includes self
    expected = np.angle((close * np.exp(1j * theta)[None, :]).sum(1))
    np.testing.assert_allclose(np.cos(new_state.heading - expected), 1.0, atol=1e-5)
    moved = np.mod(pos + 0.03 * np.stack([np.cos(expected), np.sin(expected)], 1), 4.0)
    np.testing.assert_allclose(new_state.pos, moved, atol=1e-4)
    assert_renders(env, new_state)


def test_ten_thousand_agents_use_a_cell_list_and_linear_memory():
    env = marljax.make("swarms/Vicsek-v0", num_agents=10_000)
    assert env.neighbour_method == "cell_list"
    state, timestep = env.reset(jax.random.PRNGKey(0))
    n = env.num_agents
    obs = timestep.observation
    assert obs.agents_view.shape == (n, 13) and obs.global_state.shape == (n, 16)
    assert env.agent_states(state).shape == (n, 4)
    step = jax.jit(env.step).lower(state, jnp.zeros((n, 1), jnp.float32)).compile()
    quarter = marljax.make("swarms/Vicsek-v0", num_agents=2_500, neighbour_method="cell_list")
    quarter_state, _ = quarter.reset(jax.random.PRNGKey(0))
    quarter_step = jax.jit(quarter.step).lower(quarter_state, jnp.zeros((2_500, 1), jnp.float32)).compile()
    memory, quarter_memory = step.memory_analysis(), quarter_step.memory_analysis()
    if memory is not None:  # O(N): 4x the agents, ~4x the memory (not 16x), far below one N x N array
        assert memory.temp_size_in_bytes < 5 * quarter_memory.temp_size_in_bytes
        assert memory.temp_size_in_bytes < n * n * 4 / 2
    _, timestep = step(state, jnp.zeros((n, 1), jnp.float32))
    assert float(timestep.extras["metrics"]["neighbour_overflow"]) == 0.0
    assert 0.0 <= float(timestep.extras["order_parameter"]) < 0.1  # random headings


def test_neighbour_overflow_raises_outside_jit_and_is_reported_inside():
    env = Vicsek(num_agents=50, box_size=4.0, neighbour_method="cell_list", cell_capacity=1)  # 50 agents, 16 cells
    with pytest.raises(NeighbourOverflowError, match="cell_capacity"):
        env.reset(jax.random.PRNGKey(0))  # outside jit: raises
    state, timestep = jax.jit(env.reset)(jax.random.PRNGKey(0))  # under jit: reported
    assert float(timestep.extras["metrics"]["neighbour_overflow"]) == 1.0
    with pytest.raises(NeighbourOverflowError):
        env.step(state, jnp.zeros((50, 1), jnp.float32))


@pytest.mark.parametrize(
    "name, kwargs, match",
    [
        ("swarms/Vicsek-v0", {"num_agents": 0}, "num_agents"),
        ("swarms/Vicsek-v0", {"radius": 0.0}, "radius"),
        ("swarms/Vicsek-v0", {"num_agents": 20, "box_size": 2.5, "neighbour_method": "cell_list"}, "box too small"),
        ("swarms/Vicsek-v0", {"noise": -1.0}, "noise"),
        ("swarms/Kuramoto-v0", {"frequency_distribution": "uniform"}, "frequency_distribution"),
        ("swarms/Kuramoto-v0", {"dt": 0.0}, "dt"),
        ("swarms/Aggregation-v0", {"max_speed": 0.0}, "max_speed"),
        ("swarms/Flocking-v0", {"num_agents": 0}, "num_agents"),
    ],
)
def test_bad_constructor_values_raise(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        marljax.make(name, **kwargs)


def test_agent_states_are_permutation_equivariant_and_views_do_not_grow_with_n():
    for small, large in [(Vicsek(10), Vicsek(200)), (Kuramoto(10), Kuramoto(200)), (Aggregation(10), Aggregation(200))]:
        assert small.observation_spec.agents_view.shape[1:] == large.observation_spec.agents_view.shape[1:]
    env = Aggregation(num_agents=30)
    state, _ = env.reset(jax.random.PRNGKey(0))
    perm = np.random.default_rng(0).permutation(30)
    permuted = state.replace(pos=state.pos[perm])
    np.testing.assert_allclose(env.agent_states(permuted), env.agent_states(state)[perm], atol=1e-6)
    _, ts, _, ts_perm = (*env.step(state, jnp.zeros((30, 2))), *env.step(permuted, jnp.zeros((30, 2))))
    np.testing.assert_allclose(ts_perm.reward, ts.reward, rtol=1e-5)
    np.testing.assert_allclose(ts_perm.observation.agents_view, ts.observation.agents_view[perm], atol=1e-5)
    assert_renders(env, state)
    kuramoto = Kuramoto(10)
    assert_renders(kuramoto, KuramotoState(key=None, step_count=0, theta=jnp.linspace(0, 1, 10), omega=jnp.zeros(10)))


def test_flocking_matches_vmas_transitions():
    """Same layout, same forces: VMAS ``flocking``'s positions, rewards and lidar, step by step."""
    vmas = pytest.importorskip("vmas")
    torch = pytest.importorskip("torch")
    env = Flocking()
    state, _ = env.reset(jax.random.PRNGKey(3))
    peer = vmas.make_env("flocking", num_envs=1, device="cpu", continuous_actions=True, seed=0)
    peer.reset()
    entities = peer.world.agents + peer.world.landmarks  # target, agents, obstacles: our order
    for entity, p in zip(entities, np.asarray(state.pos)):
        entity.set_pos(torch.tensor(p[None]), batch_index=None)
    for agent in peer.world.policy_agents:  # VMAS set the shaping potential for its own layout
        agent.distance_shaping = torch.tensor(np.asarray(state.shaping))[peer.world.policy_agents.index(agent)][None]
    actions = np.random.default_rng(0).uniform(-1, 1, (30, 4, 2)).astype(np.float32)
    step = jax.jit(env.step)
    for action in actions:
        state, timestep = step(state, jnp.asarray(action))
        obs, rew, _, _ = peer.step([torch.tensor(a[None]) for a in action])
        np.testing.assert_allclose(np.stack([e.state.pos[0].numpy() for e in entities]), state.pos, atol=1e-4)
        np.testing.assert_allclose(np.stack([r[0].numpy() for r in rew]), timestep.reward, atol=1e-4)
        np.testing.assert_allclose(np.stack([o[0].numpy() for o in obs]), timestep.observation.agents_view, atol=1e-4)
    assert_renders(env, state)
