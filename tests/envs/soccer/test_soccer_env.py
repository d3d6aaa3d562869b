"""Soccer-v0 as an env: team-mirrored observations, sizes of every variant, the scripted
opponent's strength, metrics, rendering."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import marljax
from marljax.envs.soccer import Soccer
from marljax.envs.soccer.scripted import scripted_policy
from marljax.evaluation import play_episodes


def _swap_and_mirror(state, n):
    """The same match seen with the teams' roles exchanged: players swap blocks and the world
    turns by 180 degrees (so the new team 0 still attacks to the right)."""
    perm = np.r_[np.arange(n, 2 * n), np.arange(n), 2 * n]
    return state.replace(pos=-state.pos[perm], vel=-state.vel[perm], score=state.score[::-1])


def test_mirrored_observations_and_dynamics_are_symmetric_between_teams():
    """Self-play 2v2: after swapping the teams and mirroring the state, each agent observes what
    its counterpart observed before (views and critic states), and one step with the swapped
    actions gives the mirrored next state, the swapped rewards and the swapped goals."""
    n = 2
    env = Soccer(team_size=n, opponent="self-play")
    swap = np.r_[np.arange(n, 2 * n), np.arange(n)]
    num_actions = env.num_actions

    @jax.jit
    def run(key):
        state, ts = env.reset(key)
        # Move the ball near team 1's goal mouth at speed so that the step is eventful.
        state = state.replace(
            pos=state.pos.at[-1].set(jnp.array([1.5, 0.05])),
            vel=state.vel.at[-1].set(jnp.array([0.3, 0.0])).at[: 2 * n].set(0.1),
        )
        action = jax.random.randint(key, (2 * n,), 0, num_actions)
        mirrored = _swap_and_mirror(state, n)
        obs, obs_m = env._observation_of(state), env._observation_of(mirrored)
        next_state, ts = env.step(state, action)
        next_m, ts_m = env.step(mirrored, action[swap])
        return obs, obs_m, next_state, ts, next_m, ts_m

    obs, obs_m, next_state, ts, next_m, ts_m = run(jax.random.PRNGKey(3))
    np.testing.assert_allclose(obs_m.agents_view, obs.agents_view[swap], atol=1e-5)
    np.testing.assert_allclose(obs_m.global_state, obs.global_state[swap], atol=1e-5)
    expected = _swap_and_mirror(next_state, n)
    np.testing.assert_allclose(next_m.pos, expected.pos, atol=1e-5)
    np.testing.assert_allclose(next_m.vel, expected.vel, atol=1e-5)
    np.testing.assert_allclose(ts_m.reward, ts.reward[swap], atol=1e-5)
    assert float(ts.reward[0]) > 0.9 and float(ts.reward[-1]) < -0.9  # team 0 scored: the step mattered
    m, mm = ts.extras["metrics"], ts_m.extras["metrics"]
    assert (float(m["goals_for"]), float(mm["goals_against"])) == (1.0, 1.0)
    assert (float(m["win"]), float(mm["loss"])) == (1.0, 1.0)


@pytest.mark.parametrize(
    "kwargs, agents, view, actions",
    [
        ({"team_size": 1}, 1, 10 + 4, (1,)),
        ({}, 3, 10 + 8 + 12, (3,)),
        ({"team_size": 5}, 5, 10 + 16 + 20, (5,)),
        ({"team_size": 5, "opponent": "self-play"}, 10, 10 + 16 + 20, (10,)),
        ({"action_type": "continuous"}, 3, 30, (3, 3)),
        ({"action_type": "continuous", "kick": False}, 3, 30, (3, 2)),
    ],
)
def test_sizes_of_every_variant(kwargs, agents, view, actions):
    """1v1, 3v3 (default), 5v5, self-play and continuous variants: specs and a traced step agree
    (``eval_shape``: nothing compiles)."""
    env = marljax.make("soccer/Soccer-v0", **kwargs)
    n = env.team_size
    assert env.num_agents == agents and env.action_spec.shape == actions
    assert env.observation_spec.agents_view.shape == (agents, view)
    state, first = jax.eval_shape(env.reset, jax.random.PRNGKey(0))
    action = jnp.zeros(actions, jnp.int32 if env.action_type == "discrete" else jnp.float32)
    _, ts = jax.eval_shape(env.step, state, action)
    assert state.pos.shape == (2 * n + 1, 2)
    assert ts.observation.agents_view.shape == (agents, view)
    assert ts.observation.global_state.shape == (agents, 4 + 8 * n)
    assert ts.reward.shape == (agents,) and set(ts.extras["metrics"]) == set(Soccer.metrics)
    if env.action_type == "discrete":
        assert env.num_actions == (17 if env.kick else 9)


def test_scripted_strength_decides_matches():
    """The scripted team at full strength (played as agents through discrete actions) beats the
    env's scripted opponent at strength 0 over 64 matches of 300 steps, scoring more goals and
    winning more than it loses; possession favours it too."""
    env = Soccer(team_size=2, strength=0.0, max_steps=300)

    policy = scripted_policy(env, strength=1.0)
    batch = jax.jit(lambda key: play_episodes(env, policy, key, 64))(jax.random.PRNGKey(0))
    m = {k: np.asarray(v) for k, v in batch.metrics.items()}
    assert m["goals_for"].sum() > 2 * m["goals_against"].sum()
    assert m["win"].sum() > m["loss"].sum() + 10
    np.testing.assert_array_equal(m["win"] + m["draw"] + m["loss"], 1.0)
    assert m["possession"].mean() > 0.5


def test_render_draws_the_pitch(tmp_path, assert_drawn):
    from marljax.viz import save_figure

    env = Soccer(team_size=3)
    state, _ = env.reset(jax.random.PRNGKey(0))
    path = save_figure(env.render(state), tmp_path / "soccer.png")
    assert_drawn(path)


def test_actions_decode_to_team_frame_forces_and_kicks():
    """Discrete: 0 stays, 1 is +x (toward the attacked goal), 3 is +y, 9..16 kick the same way;
    continuous: forces clipped to [-1, 1], kick when the third entry is positive. Team 1's
    controls turn by 180 degrees in the world."""
    env = Soccer(team_size=1, opponent="self-play")
    state, _ = env.reset(jax.random.PRNGKey(0))
    control, direction, kicking = env._team_controls(state.pos, state.vel, env._decode(jnp.array([1, 9])), None)
    np.testing.assert_allclose(control, [[1, 0], [-1, 0]], atol=1e-6)
    np.testing.assert_array_equal(kicking, [False, True])
    np.testing.assert_allclose(env._decode(jnp.array([0, 3]))[0], [[0, 0], [0, 1]], atol=1e-6)
    continuous = Soccer(team_size=2, action_type="continuous")
    control, _, kicking = continuous._decode(jnp.array([[2.0, -0.5, 0.3], [0.1, 0.2, -1.0]]))
    np.testing.assert_allclose(control, [[1.0, -0.5], [0.1, 0.2]])
    np.testing.assert_array_equal(kicking, [True, False])
