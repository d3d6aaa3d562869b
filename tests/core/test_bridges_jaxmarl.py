"""The JaxMARL bridge: ``marljax.make("jaxmarl/<name>")`` is JaxMARL's env with marljax's interface.

Checked against JaxMARL itself: the same trajectories as marljax's own SimpleSpread from the same
state and actions, padded heterogeneous agents that keep JaxMARL's observations, SMAX's available
actions as the mask under ``marljax.rollout``, and PSRO's RL oracle and the IPPO CLI on bridged envs.
"""

import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import marljax
from marljax.bridges import MissingExtraError, jaxmarl_env_names
from marljax.cli import main
from marljax.registry import UnknownEnvError

pytest.importorskip("jaxmarl")


def test_simple_spread_gives_the_same_trajectory_as_marljax_own_from_the_same_state_and_actions():
    ours = marljax.make("mpe/SimpleSpread-v0")
    bridged = marljax.make("jaxmarl/MPE_simple_spread_v3")
    num_steps = ours.max_steps

    @jax.jit
    def both(key):
        reset_key, bridge_key, action_key = jax.random.split(key, 3)
        state, _ = ours.reset(reset_key)
        bridge_state, _ = bridged.reset(bridge_key)
        world = bridge_state.env_state.replace(p_pos=state.pos, p_vel=state.vel)  # same state
        bridge_state = bridge_state.replace(env_state=world)
        actions = jax.random.randint(action_key, (num_steps, ours.num_agents), 0, 5)

        def step(carry, action):
            state, bridge_state = carry
            state, timestep = ours.step(state, action)
            bridge_state, bridge_timestep = bridged.step(bridge_state, action)
            return (state, bridge_state), (state.pos, bridge_state.env_state.p_pos, timestep, bridge_timestep)

        return jax.lax.scan(step, (state, bridge_state), actions)[1]

    pos, bridge_pos, timestep, bridge_timestep = both(jax.random.PRNGKey(3))
    assert float(jnp.abs(pos[-1] - pos[0]).max()) > 0.1  # the agents did move
    np.testing.assert_allclose(bridge_pos, pos, atol=1e-4)
    np.testing.assert_allclose(bridge_timestep.observation.agents_view, timestep.observation.agents_view, atol=1e-4)
    np.testing.assert_allclose(bridge_timestep.reward, timestep.reward, atol=1e-4)
    # JaxMARL's MPE ends one step after marljax's: its episodes last max_steps + 1 steps.
    assert bridged.max_steps == ours.max_steps + 1
    assert not np.any(np.asarray(bridge_timestep.step_type) == 2)


def test_simple_tag_pads_the_smaller_observation_and_types_the_agents():
    env = marljax.make("jaxmarl/MPE_simple_tag_v3")
    raw = env.jaxmarl_env
    assert env.agent_names == ("adversary_0", "adversary_1", "adversary_2", "agent_0")
    np.testing.assert_array_equal(env.observation_spec.agents_view.shape, (4, 16))
    state, timestep = env.reset(jax.random.PRNGKey(0))
    obs = timestep.observation
    np.testing.assert_array_equal(obs.agent_type, [0, 0, 0, 1])
    assert env.agent_type_names == ("adversaries", "agents")
    raw_obs = raw.get_obs(state.env_state)
    np.testing.assert_array_equal(obs.agents_view[3, :14], raw_obs["agent_0"])  # prey sees 14 numbers
    np.testing.assert_array_equal(obs.agents_view[3, 14:], 0.0)  # padding
    np.testing.assert_array_equal(obs.agents_view[0], raw_obs["adversary_0"])
    env.observation_spec.validate(obs)

    action = jnp.array([1, 2, 3, 4], jnp.int32)
    state2, timestep2 = env.step(state, action)
    _, _, raw_rewards, _, _ = raw.step_env(jax.random.split(state.key)[1], state.env_state, env._action_dict(action))
    np.testing.assert_allclose(timestep2.reward, [float(raw_rewards[a]) for a in env.agent_names])
    with pytest.raises(ValueError, match="out of range"):
        env.step(state, jnp.array([0, 0, 0, 5], jnp.int32))


def test_smax_runs_in_rollout_with_available_actions_as_the_mask_and_world_state_as_global_state():
    env = marljax.make("jaxmarl/HeuristicEnemySMAX", scenario="3m")
    assert env.num_agents == 3 and env.action_type == "discrete"

    @jax.jit
    def first(key):
        state, timestep = env.reset(key)
        raw = env.jaxmarl_env
        return timestep.observation, raw.get_world_state(state.env_state), raw.get_avail_actions(state.env_state)

    observation, world, avail = first(jax.random.PRNGKey(0))
    np.testing.assert_allclose(observation.global_state, np.broadcast_to(world, (3, world.size)))
    np.testing.assert_array_equal(observation.action_mask, np.stack([avail[a] for a in env.agent_names]))

    num_envs, num_steps = 4, 8
    _, traj = marljax.rollout(env, marljax.random_policy(env), jax.random.PRNGKey(1), num_envs, num_steps)
    assert traj.reward.shape == (num_steps, num_envs, 3)
    mask = np.asarray(traj.observation.action_mask)
    assert not mask.all()  # SMAX hides attacks on enemies out of range
    chosen = np.take_along_axis(mask, np.asarray(traj.action)[..., None], -1)
    assert chosen.all()
    env.observation_spec.validate(jax.tree_util.tree_map(lambda x: x[-1, 0], traj.observation))


def test_info_scalars_become_metrics():
    overcooked = marljax.make("jaxmarl/overcooked")
    assert overcooked.metrics == {"shaped_reward/agent_0": "sum", "shaped_reward/agent_1": "sum"}
    assert overcooked._avail_actions is None and marljax.make("jaxmarl/switch_riddle").metrics == {}


def test_continuous_jaxmarl_env_is_a_continuous_marljax_env():
    env = marljax.make("jaxmarl/MPE_simple_spread_v3", action_type="Continuous")
    assert env.action_type == "continuous"
    assert env.action_spec.shape == (3, 5)
    state, _ = env.reset(jax.random.PRNGKey(0))
    state, timestep = env.step(state, jnp.full((3, 5), 0.5, jnp.float32))
    assert timestep.reward.shape == (3,)
    with pytest.raises(ValueError, match="finite"):
        env.step(state, jnp.full((3, 5), jnp.nan, jnp.float32))


def test_unknown_names_and_options_and_the_catalog():
    names = jaxmarl_env_names()
    assert {"MPE_simple_tag_v3", "SMAX", "HeuristicEnemySMAX", "hanabi", "overcooked"} <= set(names)
    assert "storm" not in names and "jaxmarl/SMAX" not in marljax.registered()  # built on demand
    with pytest.raises(UnknownEnvError, match="MPE_simple_spread_v3"):
        marljax.make("jaxmarl/MPE_simple_sprad_v3")
    with pytest.raises(ValueError, match="cannot be wrapped"):
        marljax.make("jaxmarl/storm")
    with pytest.raises(ValueError, match="jaxmarl/switch_riddle.*num_agent"):
        marljax.make("jaxmarl/switch_riddle", num_agent=2)  # JaxMARL's own signature is checked
    with pytest.raises(ValueError, match="minimum number of agents"):
        marljax.make("jaxmarl/switch_riddle", num_agents=2)  # JaxMARL's assert, as a ValueError
    assert marljax.make("jaxmarl/switch_riddle", num_agents=4).num_agents == 4


def test_missing_jaxmarl_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "jaxmarl", None)  # import jaxmarl now raises ImportError
    with pytest.raises(MissingExtraError, match=r"pip install 'marljax\[jaxmarl\]'"):
        marljax.make("jaxmarl/SMAX")
    assert main(["envs", "--family", "jaxmarl"]) == 2  # the CLI prints it as one line


def test_envs_cli_lists_the_jaxmarl_family(capsys):
    assert main(["envs", "--family", "jaxmarl"]) == 0
    out = capsys.readouterr().out
    assert "jaxmarl/HeuristicEnemySMAX" in out and "jaxmarl/MPE_simple_tag_v3" in out
    assert "jaxmarl/storm " not in out
