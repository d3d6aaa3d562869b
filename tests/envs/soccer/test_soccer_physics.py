"""Soccer physics: momentum exchange in contacts, walls that hold the ball, kicks, goals that count once."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import marljax
from marljax.envs.soccer import Soccer
from marljax.envs.soccer.physics import entity_constants, goals_scored, make_physics_step, wall_forces
from marljax.envs.soccer.types import Pitch
from marljax.physics.particles import contact_forces, kick_impulse, pair_contact_fn, segment_contact_forces

PITCH = Pitch()


def test_ball_player_collision_exchanges_momentum_and_conserves_it():
    """A player running at full speed into a resting ball, far from walls, without drag or
    control: the contact forces are equal and opposite, so total momentum is conserved, and the
    ball leaves faster than the player came (mass 0.25 vs 1: elastic-ish, 2 m / (m + M) v = 0.24)."""
    constants = entity_constants(PITCH, 1)
    mass = constants["mass"][:, None]
    pos = jnp.array([[0.0, 0.0], [0.8, 0.5], [0.06, 0.0]], jnp.float32)  # player, far opponent, ball
    vel = jnp.array([[0.15, 0.0], [0.0, 0.0], [0.0, 0.0]], jnp.float32)
    zeros = jnp.zeros((2, 2), jnp.float32)
    physics = make_physics_step(PITCH, constants)
    step = jax.jit(lambda p, v: physics(p, v, zeros, zeros, jnp.zeros(2, bool), drag=0.0))
    momentum0 = np.sum(mass * np.asarray(vel), 0)
    for _ in range(20):
        pos, vel = step(pos, vel)
        np.testing.assert_allclose(np.sum(mass * np.asarray(vel), 0), momentum0, atol=1e-6)
    player, ball = np.asarray(vel[0]), np.asarray(vel[2])
    assert 0.2 < ball[0] < 0.3 and abs(ball[1]) < 1e-6  # the ball took the momentum, straight ahead
    assert 0.05 < player[0] < 0.12  # the player was slowed by the same impulse (elastic: 0.09)
    np.testing.assert_allclose(1.0 * (0.15 - player[0]), 0.25 * ball[0], rtol=1e-5)
    assert np.all(np.asarray(vel[1]) == 0)  # the far player felt nothing


def test_pair_contacts_equal_the_all_pairs_contacts():
    """The once-per-pair contact function equals the ``[E, E]`` broadcast version on crowded discs."""
    pos = jax.random.uniform(jax.random.PRNGKey(0), (7, 2), minval=-0.05, maxval=0.05)
    radius = jnp.asarray(entity_constants(PITCH, 3)["radius"])
    pairs = pair_contact_fn(np.asarray(radius))
    both = jax.jit(lambda p: (pairs(p), contact_forces(p, radius, jnp.ones(7, bool), jnp.ones(7))))
    ours, expected = both(pos)
    assert np.abs(np.asarray(expected)).max() > 0.5  # real overlaps
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-5)


def test_axis_aligned_walls_equal_the_segment_walls():
    """Soccer's fast wall forces equal the generic segment contacts on the pitch's 12 wall
    segments for discs anywhere on the pitch or in a goal, touching walls or not (away from the
    posts, where the segment model counts the shared end of two segments twice)."""
    key_x, key_y = jax.random.split(jax.random.PRNGKey(1))
    r = PITCH.ball_radius
    # Near every wall: the touchlines, the end lines beside the mouths, and inside the goals.
    field = jnp.stack(
        [
            jax.random.uniform(key_x, (4000,), minval=-1.5 + 0.9 * r, maxval=1.5 - 0.9 * r),
            jax.random.uniform(key_y, (4000,), minval=-0.75 + 0.9 * r, maxval=0.75 - 0.9 * r),
        ],
        -1,
    )
    goal = jnp.stack(
        [
            jax.random.uniform(key_y, (2000,), minval=1.5, maxval=1.6 - 0.9 * r),
            jax.random.uniform(key_x, (2000,), minval=-0.175 + 0.9 * r, maxval=0.175 - 0.9 * r),
        ],
        -1,
    )
    pos = jnp.concatenate([field, goal, -goal])
    posts = jnp.array([[1.5, 0.175], [1.5, -0.175], [-1.5, 0.175], [-1.5, -0.175]])
    far_from_posts = np.asarray(jnp.min(jnp.linalg.norm(pos[:, None] - posts[None], axis=-1), 1) > r + 0.01)
    radius = jnp.full((pos.shape[0],), r)
    both = jax.jit(lambda p: (wall_forces(PITCH, p, radius), segment_contact_forces(p, radius, *PITCH.walls)))
    ours, generic = (np.asarray(f)[far_from_posts] for f in both(pos))
    assert (np.abs(generic).max(1) > 1e-3).sum() > 50  # many discs touch a wall
    np.testing.assert_allclose(ours, generic, rtol=1e-4, atol=1e-5)


def test_wall_contact_pushes_out_and_kick_needs_reach_and_front():
    start, end = PITCH.walls
    radius = jnp.array([0.02, 0.02])
    pos = jnp.array([[0.0, 0.75 - 0.01], [0.0, 0.0]])  # touching the top touchline; in the open
    force = np.asarray(segment_contact_forces(pos, radius, start, end))
    assert force[0, 1] < -0.5 and abs(force[0, 0]) < 1e-6  # pushed straight back in
    assert np.all(force[1] == 0)
    kicker = jnp.array([[0.0, 0.0], [0.2, 0.0], [0.1, 0.05]])
    ball = jnp.array([0.05, 0.0])
    kick = jax.jit(kick_impulse, static_argnums=(4, 5))
    # In reach and in front: the full kick along the direction; behind or out of reach: nothing.
    np.testing.assert_allclose(kick(kicker[:1], jnp.array([[1.0, 0.0]]), jnp.array([True]), ball, 0.08, 0.3), [0.3, 0])
    np.testing.assert_allclose(kick(kicker[:1], jnp.array([[-1.0, 0.0]]), jnp.array([True]), ball, 0.08, 0.3), [0, 0])
    np.testing.assert_allclose(kick(kicker[1:2], jnp.array([[-1.0, 0.0]]), jnp.array([True]), ball, 0.08, 0.3), [0, 0])
    np.testing.assert_allclose(kick(kicker[:1], jnp.array([[1.0, 0.0]]), jnp.array([False]), ball, 0.08, 0.3), [0, 0])
    np.testing.assert_allclose(
        kick(kicker[2:], jnp.array([[0.0, -2.0]]), jnp.array([True]), ball, 0.08, 0.3), [0, -0.3], atol=1e-7
    )


def _play_with_resets(env, key, num_envs, num_steps):
    """Random actions with a reset after every goal; the ball's world position after each step
    (before any reset) ``[T, E, 2]`` and the goals scored ``[T, E, 2]``."""
    policy = marljax.random_policy(env)

    def one(key):
        state, ts = env.reset(key)

        def step(carry, key):
            state, obs = carry
            act_key, reset_key = jax.random.split(key)
            state, ts = env.step(state, policy(act_key, obs))
            goals = jnp.stack([ts.extras["metrics"]["goals_for"], ts.extras["metrics"]["goals_against"]])
            ball = state.pos[-1]
            fresh, fresh_ts = env.reset(reset_key)
            done = ts.last()
            state = jax.tree_util.tree_map(lambda a, b: jnp.where(done, a, b), fresh, state)
            obs = jax.tree_util.tree_map(lambda a, b: jnp.where(done, a, b), fresh_ts.observation, ts.observation)
            return (state, obs), (ball, goals)

        _, out = jax.lax.scan(step, (state, ts.observation), jax.random.split(key, num_steps))
        return out

    return jax.jit(jax.vmap(one, out_axes=1))(jax.random.split(key, num_envs))


def test_ball_never_leaves_the_pitch_except_into_a_goal():
    """A long rollout of random kicks and runs against the scripted team (24 envs x 800 steps,
    reset after each goal): the ball's centre never crosses a touchline or an end line outside the
    goal mouth, never goes through a net, and goals do happen (so the mouths are exercised)."""
    env = Soccer(team_size=3, max_steps=800)
    ball, goals = _play_with_resets(env, jax.random.PRNGKey(0), 24, 800)
    x, y = np.abs(np.asarray(ball[..., 0])), np.abs(np.asarray(ball[..., 1]))
    half_l, half_w, half_g = PITCH.length / 2, PITCH.width / 2, PITCH.goal_width / 2
    assert y.max() <= half_w - PITCH.ball_radius + 1e-6
    assert x.max() <= half_l + PITCH.goal_depth - PITCH.ball_radius + 1e-6
    beyond_line = x > half_l
    assert beyond_line.any()  # the ball did go into goals
    assert y[beyond_line].max() < half_g + PITCH.ball_radius  # only through the mouth (touching a post at most)
    assert np.asarray(goals).sum() >= 5


def test_goal_counts_exactly_once_for_the_right_team():
    """A ball rolling into the right goal scores once for team 0 (reward +1, termination, score
    1-0), however many steps it then stays in the net; one into the left goal is one against."""
    env = Soccer(team_size=1, opponent="still", dense_reward=False)

    @jax.jit
    def roll(direction):
        state, _ = env.reset(jax.random.PRNGKey(1))
        pos = state.pos.at[-1].set(jnp.array([direction * 1.4, 0.02])).at[0].set(jnp.array([0.0, 0.6]))
        state = state.replace(pos=pos, vel=state.vel.at[-1].set(jnp.array([direction * 0.3, 0.0])))

        def step(state, _):
            state, ts = env.step(state, jnp.zeros(1, jnp.int32))
            m = ts.extras["metrics"]
            ended = ts.last() & (ts.discount[0] == 0)
            return state, (ts.reward[0], ended, jnp.stack([m["goals_for"], m["goals_against"]]))

        return jax.lax.scan(step, state, None, length=30)

    states, (rewards, ends, goals) = jax.vmap(roll)(jnp.array([1.0, -1.0]))
    for i, expected in enumerate(((1, 0), (0, 1))):
        reward, end = np.asarray(rewards[i]), np.asarray(ends[i])
        assert tuple(np.asarray(states.score[i])) == expected
        assert end.sum() == 1 and np.flatnonzero(end)[0] == np.flatnonzero(reward)[0]
        assert np.count_nonzero(reward) == 1 and reward.sum() == (1.0 if i == 0 else -1.0)
        np.testing.assert_array_equal(np.asarray(goals[i]).sum(0), expected)
        assert abs(float(states.pos[i, -1, 0])) > PITCH.length / 2  # it stayed in the net


def test_goals_scored_is_an_entry_not_a_presence():
    inside = jnp.array([1.6 - 0.03, 0.0])
    np.testing.assert_array_equal(goals_scored(PITCH, jnp.array([1.45, 0.0]), inside), [True, False])
    np.testing.assert_array_equal(goals_scored(PITCH, inside, inside), [False, False])
    np.testing.assert_array_equal(goals_scored(PITCH, -jnp.array([1.45, 0.0]), -inside), [False, True])
    assert not goals_scored(PITCH, jnp.array([1.45, 0.3]), jnp.array([1.56, 0.3])).any()  # wide of the post


@pytest.mark.parametrize("kwargs", [{"team_size": 0}, {"team_size": 12}, {"strength": -0.1}, {"strength": 1.5}])
def test_bad_constructor_values_raise(kwargs):
    with pytest.raises(ValueError, match="team_size|strength"):
        marljax.make("soccer/Soccer-v0", **kwargs)


def test_unknown_opponent_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown opponent 'bogus'.*scripted, still, self-play"):
        marljax.make("soccer/Soccer-v0", opponent="bogus")
