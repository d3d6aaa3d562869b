"""NonCoopNavigation: the reward formula on hand-built worlds, agent kinds, the random agent, layout."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import marljax
from marljax.envs.mpe.base import ParticleState
from marljax.envs.traffic.navigation import AGENT_KINDS, NonCoopNavigation

STAY = np.zeros(3, np.int32)


@pytest.fixture(scope="module")
def envs():
    return {v: marljax.make("traffic/NonCoopNavigation-v0", variant=v) for v in ("easy", "hard")}


@pytest.fixture(scope="module")
def stepper(envs):
    """One jitted step per variant, reused by every case."""
    return {v: jax.jit(env.step) for v, env in envs.items()}


def _world(env, agents, landmarks=((0.0, 0.0), (0.6, 0.0), (-0.6, 0.0))):
    pos = jnp.asarray(np.concatenate([agents, landmarks]), jnp.float32)
    return ParticleState(key=jax.random.PRNGKey(3), step_count=jnp.int32(0), pos=pos, vel=jnp.zeros_like(pos))


def _nearest(agents, landmarks=((0.0, 0.0), (0.6, 0.0), (-0.6, 0.0))):
    agents, landmarks = np.asarray(agents, np.float64), np.asarray(landmarks, np.float64)
    return np.linalg.norm(agents[:, None] - landmarks[None], axis=-1).min(axis=1)


# Each case: learner positions (and the random agent's when hard), expected reward on top of
# -d_i, and the expected metrics. At rest, a "stay" step leaves every position where it is, so
# the reward is the formula's on exactly these positions.
CASES = {
    "far, no collision": ("easy", [(0.0, 0.5), (0.6, -0.5), (-0.6, 0.7)], [0, 0, 0], 0, 0),
    "one near": ("easy", [(0.05, 0.0), (0.6, -0.5), (-0.6, 0.7)], [10, 0, 0], 0, 0),
    "all near": ("easy", [(0.05, 0.0), (0.6, 0.07), (-0.6, -0.09)], [110, 110, 110], 0, 1),
    # Agents 0 (r 0.08) and 1 (r 0.06) overlap at the first landmark: 2 ordered pairs, no bonus.
    "all near, one collision": ("easy", [(0.05, 0.0), (-0.05, 0.05), (-0.6, -0.09)], [-10, -10, -10], 1, 0),
    # The random agent (r 0.08) touches the large-slow one (r 0.10): everyone pays, bonuses void.
    "random agent collides": ("hard", [(0.05, 0.0), (0.6, 0.07), (-0.6, -0.09), (-0.45, -0.09)], [-10] * 3, 1, 0),
    "random agent apart": ("hard", [(0.05, 0.0), (0.6, 0.07), (-0.6, -0.09), (0.0, 0.9)], [110] * 3, 0, 1),
}


@pytest.mark.parametrize("case", CASES)
def test_reward_formula_on_hand_built_worlds(envs, stepper, case):
    variant, agents, extra, collisions, success = CASES[case]
    env = envs[variant]
    state = _world(env, agents)
    next_state, ts = stepper[variant](state, STAY)
    # From rest a step changes velocities only (x' = x + dt v uses the old v), the random agent's too.
    np.testing.assert_allclose(next_state.pos, state.pos)
    expected = -_nearest(agents)[:3] + np.asarray(extra, np.float64)
    np.testing.assert_allclose(ts.reward, expected, rtol=1e-5, atol=1e-5)
    metrics = ts.extras["metrics"]
    assert float(metrics["collisions"]) == collisions
    assert float(metrics["success"]) == success
    np.testing.assert_allclose(metrics["landmark_distance"], _nearest(agents)[:3].mean(), rtol=1e-5)


def test_kinds_set_radius_and_action_scale(envs, stepper):
    env = envs["easy"]
    radius = np.asarray(env.world.radius[:3])
    np.testing.assert_allclose(radius, [r for r, _ in AGENT_KINDS.values()])
    # From rest, one +x move adds dt * 5 * scale to the velocity: 0.5, 0.55, 0.45.
    state = _world(env, [(0.0, 0.5), (0.6, -0.5), (-0.6, 0.7)])
    next_state, ts = stepper["easy"](state, np.full(3, 2, np.int32))
    np.testing.assert_array_equal(ts.observation.agent_type, [0, 1, 2])
    np.testing.assert_allclose(next_state.vel[:3, 0], [0.5, 0.55, 0.45], rtol=1e-5)
    np.testing.assert_allclose(next_state.vel[:3, 1], 0.0, atol=1e-7)


def test_random_agent_is_part_of_the_world_not_a_learner(envs, stepper):
    env = envs["hard"]
    assert env.num_agents == 3 and env.num_world_agents == 4
    assert env.action_spec.shape == (3,)
    state = _world(env, [(0.0, 0.5), (0.6, -0.5), (-0.6, 0.7), (0.0, -0.8)])
    with pytest.raises(ValueError, match="shape"):
        env.step(state, np.zeros(4, np.int32))

    # Its move does not depend on the learners' actions (everyone far apart: no contact) ...
    a, _ = stepper["hard"](state, STAY)
    b, _ = stepper["hard"](state, np.array([1, 2, 3], np.int32))
    np.testing.assert_array_equal(a.vel[3], b.vel[3])
    assert not np.array_equal(a.vel[:3], b.vel[:3])

    # ... and is uniform over the 5 moves (each a velocity change of 0.5 from rest).
    keys = jax.random.split(jax.random.PRNGKey(1), 4000)
    vel = jax.jit(jax.vmap(lambda k: env.step(state.replace(key=k), STAY)[0].vel[3]))(keys)
    moves = np.array([[0, 0], [-0.5, 0], [0.5, 0], [0, -0.5], [0, 0.5]])
    which = np.argmin(np.linalg.norm(np.asarray(vel)[:, None] - moves[None], axis=-1), axis=1)
    np.testing.assert_allclose(np.asarray(vel), moves[which], atol=1e-6)
    np.testing.assert_allclose(np.bincount(which, minlength=5) / len(keys), 0.2, atol=0.03)


def test_landmarks_lie_on_the_grid_and_are_distinct(envs):
    env = envs["easy"]
    states, ts = jax.jit(jax.vmap(env.reset))(jax.random.split(jax.random.PRNGKey(2), 256))
    landmarks = np.asarray(states.pos[:, 3:])
    np.testing.assert_allclose(landmarks / 0.2, np.round(landmarks / 0.2), atol=1e-5)
    assert np.abs(landmarks).max() <= 0.8 + 1e-6
    assert len(np.unique(np.round(landmarks.reshape(-1, 2), 3), axis=0)) > 50  # the grid has 81 points
    distinct = [len({tuple(p) for p in np.round(episode, 3)}) for episode in landmarks]
    assert min(distinct) == 3
    agents = np.asarray(states.pos[:, :3])
    assert np.abs(agents).max() <= 1.0
    assert ts.observation.agents_view.shape == (256, 3, 18)


def test_observation_layout(envs):
    env = envs["hard"]
    state = _world(env, [(0.1, 0.2), (0.6, -0.5), (-0.6, 0.7), (0.0, -0.8)])
    state = state.replace(vel=state.vel.at[:4].set(jnp.arange(8.0).reshape(4, 2)))
    view = np.asarray(env._views(state.pos, state.vel))
    pos, vel = np.asarray(state.pos), np.asarray(state.vel)
    assert view.shape == (3, 22)
    np.testing.assert_allclose(view[1, :4], [*pos[1], *vel[1]])
    np.testing.assert_allclose(view[1, 4:10], (pos[[0, 2, 3]] - pos[1]).reshape(-1))
    np.testing.assert_allclose(view[1, 10:16], (vel[[0, 2, 3]] - vel[1]).reshape(-1))
    np.testing.assert_allclose(view[1, 16:], (pos[4:] - pos[1]).reshape(-1))


def test_episode_lasts_50_steps_and_reports_metrics(envs):
    env = envs["hard"]
    batch = marljax.play_episodes(
        env, lambda c, obs, first, key: (c, jnp.zeros(obs.step_count.shape + (3,), jnp.int32)), jax.random.PRNGKey(0), 4
    )
    np.testing.assert_array_equal(batch.length, 50)
    assert set(batch.metrics) == set(env.metrics)
    assert np.all(np.asarray(batch.metrics["occupied_landmarks"]) <= 3)


def test_bad_values_raise():
    with pytest.raises(ValueError, match="easy.*hard"):
        NonCoopNavigation(variant="medium")
    with pytest.raises(ValueError, match="max_steps"):
        NonCoopNavigation(max_steps=0)
    with pytest.raises(ValueError, match="variant"):
        marljax.make("traffic/NonCoopNavigation-v0", variant="expert")
