"""The env base class checks every concrete action before an env's ``step`` runs (issue 12.6):
shape, dtype and range outside jit give a ``ValueError``; inside jit the check costs nothing."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jumanji import specs
from jumanji.types import restart, transition

import marljax
from marljax.env import MultiAgentEnv
from marljax.envs.matrix import MatrixGame, random_general_sum
from marljax.envs.mpe import SimpleSpread
from marljax.wrappers import AutoResetWrapper, EpisodeStatistics, VmapWrapper

KEY = jax.random.PRNGKey(0)
# Three players with 2, 3 and 4 actions: per-agent ranges differ.
PAYOFFS = random_general_sum(KEY, (2, 3, 4))


@pytest.fixture(scope="module")
def matrix_env():
    env = MatrixGame(PAYOFFS, horizon=5)
    return env, env.reset(KEY)[0]


@pytest.fixture(scope="module")
def continuous_env():
    env = SimpleSpread(action_type="continuous")
    return env, env.reset(KEY)[0]


@pytest.mark.parametrize(
    "action, message",
    [
        # Each of these ran silently before: broadcast to every agent, cast, or clipped.
        (
            np.array([1], np.int32),
            r"action has shape \(1,\); MatrixGame expects \[3\] int32 actions, one per agent, "
            r"action\[i\] in 0\.\.num_values\[i\]-1 \(num_values \[2, 3, 4\]\)",
        ),
        (np.array([0.0, 1.0, 2.0], np.float32), r"dtype float32, not an integer type; MatrixGame expects \[3\] int32"),
        (np.array([True, False, True]), r"dtype bool"),
        (np.array([0, 3, 3], np.int32), r"action\[1\] = 3 is out of range: agent 1 of MatrixGame has 3 actions"),
        (np.array([2, 0, 0], np.int32), r"action\[0\] = 2 is out of range: agent 0 of MatrixGame has 2 actions"),
        (np.array([0, -1, 0], np.int32), r"action\[1\] = -1 is out of range"),
        # This one failed deep inside with an indexing error.
        (np.array([[0, 1, 2]], np.int32), r"shape \(1, 3\)"),
        (5, r"shape \(\)"),
    ],
)
def test_bad_discrete_action_raises(matrix_env, action, message):
    env, state = matrix_env
    with pytest.raises(ValueError, match=message):
        env.step(state, action)


def test_valid_discrete_actions_pass_in_any_integer_form(matrix_env):
    env, state = matrix_env
    for action in ([1, 2, 3], np.array([1, 2, 3], np.int64), jnp.array([1, 2, 3], jnp.uint8)):
        _, ts = env.step(state, action)
        np.testing.assert_allclose(ts.reward, PAYOFFS[:, 1, 2, 3])


def test_jitted_step_skips_the_check_and_clips(matrix_env):
    """Inside jit the action is a tracer: no check runs, the env's own clipping applies."""
    env, state = matrix_env
    _, ts = jax.jit(env.step)(state, jnp.array([5, 5, 5]))
    np.testing.assert_allclose(ts.reward, PAYOFFS[:, 1, 2, 3])


def test_check_adds_nothing_to_the_traced_graph(matrix_env):
    env, state = matrix_env
    action = jnp.array([1, 2, 3])
    unchecked = type(env).step.__wrapped__
    checked_graph = str(jax.make_jaxpr(env.step)(state, action))
    plain_graph = str(jax.make_jaxpr(lambda s, a: unchecked(env, s, a))(state, action))
    assert checked_graph == plain_graph


@pytest.mark.parametrize(
    "action, message",
    [
        (np.full((3,), 0.5, np.float32), r"action has shape \(3,\); SimpleSpread expects \[3, 5\] float32 actions"),
        (np.ones((3, 5), np.int32), r"dtype int32, not a floating-point type"),
        (np.where(np.eye(3, 5) > 0, np.nan, 0.5).astype(np.float32), r"action\[0, 0\] is nan"),
        (np.full((3, 5), np.inf, np.float32), r"is inf"),
    ],
)
def test_bad_continuous_action_raises(continuous_env, action, message):
    env, state = continuous_env
    with pytest.raises(ValueError, match=message):
        env.step(state, action)


def test_continuous_actions_outside_bounds_are_clipped_by_design(continuous_env):
    env, state = continuous_env
    assert env.clips_continuous_actions
    wide = np.tile(np.array([0.0, -3.0, 2.0, 0.5, 0.25], np.float32), (3, 1))
    _, ts_wide = env.step(state, wide)  # no error: MPE clips intensities to [0, 1]
    _, ts_clipped = jax.jit(env.step)(state, np.clip(wide, 0.0, 1.0))
    np.testing.assert_allclose(ts_wide.observation.agents_view, ts_clipped.observation.agents_view, atol=1e-6)


class _Counter(MultiAgentEnv):
    """A toy env written as a later issue would: it calls nothing to get its actions checked."""

    num_agents, max_steps = 2, 3

    @property
    def observation_spec(self):
        return specs.Array((2,), jnp.float32, "obs")

    @property
    def action_spec(self):
        return specs.BoundedArray((2, 1), jnp.float32, -1.0, 1.0, "action")

    clips_continuous_actions = False  # this env relies on in-bounds actions
    action_type = "continuous"

    def reset(self, key):
        return jnp.zeros(2), restart(jnp.zeros(2), shape=(2,))

    def step(self, state, action):
        state = state + action[:, 0]
        return state, transition(jnp.ones(2), state, shape=(2,))


class _CounterTwice(_Counter):
    def step(self, state, action):
        return super().step(state, 2 * action)


def test_subclasses_inherit_the_check_and_strict_bounds():
    env = _Counter()
    state, _ = env.reset(KEY)
    state, _ = env.step(state, np.full((2, 1), 0.5, np.float32))
    np.testing.assert_allclose(state, 0.5)
    with pytest.raises(ValueError, match=r"action\[1, 0\] = 1.5 is outside \[-1, 1\]"):
        env.step(state, np.array([[0.0], [1.5]], np.float32))
    with pytest.raises(ValueError, match=r"_Counter expects \[2, 1\] float32 actions in \[-1, 1\]"):
        env.step(state, np.zeros(2, np.float32))


def test_an_overriding_step_checks_its_own_input_once():
    """The outermost ``step`` checks what the caller gave; ``super().step`` is given a doubled
    action (out of bounds) and is not checked again."""
    env = _CounterTwice()
    state, _ = env.reset(KEY)
    state, _ = env.step(state, np.full((2, 1), 0.75, np.float32))
    np.testing.assert_allclose(state, 1.5)
    with pytest.raises(ValueError, match="outside"):
        env.step(state, np.full((2, 1), 1.25, np.float32))


def test_wrappers_keep_the_check_outside_jit_and_work_inside(matrix_env):
    env, _ = matrix_env
    bad = np.array([0, 0, 9], np.int32)
    for wrapped in (AutoResetWrapper(env), EpisodeStatistics(AutoResetWrapper(env))):
        state, _ = wrapped.reset(KEY)
        with pytest.raises(ValueError, match="out of range"):
            wrapped.step(state, bad)
        _, ts = jax.jit(wrapped.step)(state, jnp.array([1, 2, 3]))
        np.testing.assert_allclose(ts.reward, PAYOFFS[:, 1, 2, 3])
    batched = VmapWrapper(env)
    state, _ = batched.reset(jax.random.split(KEY, 2))
    _, ts = batched.step(state, jnp.array([[1, 2, 3], [0, 0, 0]]))
    np.testing.assert_allclose(ts.reward, np.stack([PAYOFFS[:, 1, 2, 3], PAYOFFS[:, 0, 0, 0]]))


def test_check_action_is_public_and_says_what_is_expected():
    env = marljax.make("mpe/SimpleSpread-v0")
    env.check_action(np.zeros(3, np.int32))
    with pytest.raises(ValueError, match=r"agent 0 of SimpleSpread has 5 actions \(0\.\.4\)"):
        env.check_action(np.full(3, 5))
    with pytest.raises(
        ValueError, match=r"shape \(2,\); SimpleSpread expects \[3\] int32 actions, one per agent, each in 0\.\.4"
    ):
        env.check_action(np.zeros(2, np.int32))
