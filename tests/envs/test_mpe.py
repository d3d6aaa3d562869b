"""Particle worlds: transitions match JaxMARL's MPE to 1e-4; physics invariants; rendering."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import marljax
from marljax.envs.mpe import SimpleSpread, SimpleTag
from marljax.physics.particles import contact_forces

jaxmarl_mpe = pytest.importorskip("jaxmarl.environments.mpe")  # the dev extra installs it

NUM_ENVS, NUM_STEPS = 8, 30  # crosses an episode boundary; random starts give contacts


def _reference(name):
    from jaxmarl.environments.mpe.simple_spread import SimpleSpreadMPE
    from jaxmarl.environments.mpe.simple_tag import SimpleTagMPE

    if name == "spread":
        return SimpleSpread(), SimpleSpreadMPE()
    if name == "spread-continuous":
        return SimpleSpread(action_type="continuous"), SimpleSpreadMPE(action_type="Continuous")
    return SimpleTag(), SimpleTagMPE()


def _compare(ours, ref, key):
    """Roll ``ours`` with random actions; from each visited state, step JaxMARL's env with the
    same actions (mapping our state onto theirs) and return both next states/obs/rewards."""
    from jaxmarl.environments.mpe.simple import State

    policy = marljax.random_policy(ours)
    env = marljax.wrappers.AutoResetWrapper(ours)

    def one(key):
        state, _ = env.reset(key)

        def step(state, key):
            act_key, _ = jax.random.split(key)
            obs = ours._timestep_observation(state.pos, state.vel, state.step_count)
            action = policy(act_key, obs)
            ref_state = State(
                p_pos=state.pos,
                p_vel=state.vel,
                c=jnp.zeros((ref.num_agents, ref.dim_c)),
                done=jnp.array(False),
                step=state.step_count,
            )
            ref_action = {a: action[i] for i, a in enumerate(ref.agents)}
            ref_obs, ref_next, ref_reward, _, _ = ref.step_env(key, ref_state, ref_action)
            next_state, ts = env.step(state, action)
            width = ts.observation.agents_view.shape[-1]
            ref_view = jnp.stack([jnp.pad(ref_obs[a], (0, width - ref_obs[a].shape[0])) for a in ref.agents])
            # Before an auto-reset, next_state is the stepped world; compare on those steps only.
            mine = (ts.observation.agents_view, ts.reward, next_state.pos, next_state.vel)
            theirs = (ref_view, jnp.stack([ref_reward[a] for a in ref.agents]), ref_next.p_pos, ref_next.p_vel)
            return next_state, (mine, theirs, ts.last())

        return jax.lax.scan(step, state, jax.random.split(key, NUM_STEPS))[1]

    return jax.jit(jax.vmap(one))(jax.random.split(key, NUM_ENVS))


@pytest.mark.parametrize("name", ["spread", "spread-continuous", "tag"])
def test_transitions_match_jaxmarl(name):
    ours, ref = _reference(name)
    mine, theirs, last = _compare(ours, ref, jax.random.PRNGKey(3))
    keep = ~np.asarray(last)  # auto-reset replaces the stepped state on LAST steps
    for a, b, what in zip(mine, theirs, ("observation", "reward", "position", "velocity")):
        np.testing.assert_allclose(np.asarray(a)[keep], np.asarray(b)[keep], atol=1e-4, rtol=0, err_msg=what)
    # The comparison is not vacuous: contacts and rewards vary over the batch.
    assert np.ptp(np.asarray(mine[1])) > 1.0


def test_contact_forces_are_equal_and_opposite():
    pos = jax.random.uniform(jax.random.PRNGKey(0), (6, 2), minval=-0.3, maxval=0.3)  # crowded: contacts
    radius = jnp.full((6,), 0.15)
    force = contact_forces(pos, radius, jnp.ones(6, bool), jnp.ones(6))
    assert float(jnp.abs(force).max()) > 1.0  # there are contacts...
    np.testing.assert_allclose(force.sum(0), 0.0, atol=1e-3)  # ...and momentum is conserved
    # Non-colliding entities feel nothing.
    quiet = contact_forces(pos, radius, jnp.arange(6) < 1, jnp.ones(6))
    np.testing.assert_array_equal(quiet, 0.0)


def test_tag_speed_caps_and_scripted_prey_flee():
    env = SimpleTag(prey="scripted", predator_speed=0.5, prey_speed=2.0)
    assert env.num_agents == 3 and env.observation_spec.agents_view.shape == (3, 16)

    def run(key):
        state, _ = env.reset(key)

        def step(state, _):
            state, ts = env.step(state, jnp.zeros(3, jnp.int32))  # predators stay put
            return state, (state.vel, ts.extras["metrics"]["catches"])

        return state, jax.lax.scan(step, state, None, 20)[1]

    start, (vel, catches) = jax.jit(jax.vmap(run))(jax.random.split(jax.random.PRNGKey(1), 16))
    speed = np.linalg.norm(np.asarray(vel), axis=-1)
    assert speed[..., :3].max() <= 0.5 + 1e-5 and speed[..., 3].max() <= 2.0 + 1e-5
    assert speed[..., 3].max() > 1.0  # the scripted prey moves
    assert int(catches[:, -5:].sum()) == 0  # and ends up away from the (static) predators


def test_metrics_of_a_hand_placed_world():
    spread = SimpleSpread()
    # Agents 0 and 1 overlap (0.2 < 2 * 0.15); landmark 0 is 0.05 from agent 0 (occupied, < 0.1),
    # landmark 1 is 0.2 from agent 2 (not occupied), landmark 2 is sqrt(2) from agent 0.
    pos = jnp.array([[0.0, 0.0], [0.2, 0.0], [1.0, 1.0], [0.05, 0.0], [1.0, 1.2], [-1.0, -1.0]])
    got = spread._extras(pos, jnp.zeros_like(pos))["metrics"]
    assert set(got) == set(spread.metrics) == {"collisions", "occupied_landmarks", "landmark_distance"}
    assert float(got["collisions"]) == 1.0 and float(got["occupied_landmarks"]) == 1.0
    np.testing.assert_allclose(got["landmark_distance"], 0.05 + 0.2 + np.sqrt(2.0), rtol=1e-5)
    tag = SimpleTag(num_predators=2)  # predator 0 touches the prey (0.1 < 0.075 + 0.05), predator 1 does not
    pos = jnp.array([[0.0, 0.0], [0.5, 0.5], [0.1, 0.0], [-0.8, 0.8], [0.8, -0.8]])
    assert float(tag._extras(pos, jnp.zeros_like(pos))["metrics"]["catches"]) == 1.0
    _, ts = jax.jit(tag.reset)(jax.random.PRNGKey(0))
    assert ts.extras["metrics"]["catches"].dtype == jnp.float32


def test_bad_parameters_raise():
    with pytest.raises(ValueError, match="local_ratio"):
        SimpleSpread(local_ratio=2.0)
    with pytest.raises(ValueError, match="speeds"):
        SimpleTag(speeds=(1.0, 1.0))
    with pytest.raises(ValueError, match="prey"):
        SimpleTag(prey="sleepy")
    with pytest.raises(ValueError, match="action_type"):
        SimpleSpread(action_type="binary")


def test_render_draws_every_entity():
    env = marljax.make("mpe/SimpleTag-v0")
    state, _ = env.reset(jax.random.PRNGKey(0))
    fig = env.render(state)
    assert len(fig.axes[0].patches) == env.world.num_entities
