"""The PettingZoo bridge: every registered marljax env passes PettingZoo's own ``parallel_api_test``,
and the batched form steps ``num_envs`` envs with automatic resets."""

import warnings

import jax
import numpy as np
import pytest

import marljax
from marljax.bridges import to_pettingzoo
from marljax.bridges.pettingzoo import FAST_COMPILE

pytest.importorskip("pettingzoo")
from pettingzoo.test import parallel_api_test  # noqa: E402

NUM_CYCLES = 4  # steps per episode the API test plays (compilation, not stepping, is the cost)


@pytest.mark.parametrize("name", marljax.registered())
def test_parallel_api_test_passes(name):
    env = marljax.make(name)
    pz = to_pettingzoo(env, seed=0, name=name, compiler_options=FAST_COMPILE)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parallel_api_test(pz, num_cycles=NUM_CYCLES)
    assert not [str(w.message) for w in caught if "pettingzoo" in w.filename], "PettingZoo's test warned"

    observations, infos = pz.reset(seed=1)
    assert list(observations) == pz.possible_agents == pz.agents
    for i, agent in enumerate(pz.agents):
        assert pz.observation_space(agent).contains(observations[agent])
        if env.action_type == "discrete":
            mask = infos[agent]["action_mask"]
            assert mask.shape == (int(env.action_spec.num_values[i]),) and mask.any()
    assert pz.state().shape == tuple(env.observation_spec.global_state.shape[1:])


def test_an_episode_ends_for_every_agent_and_rewards_match_the_env():
    env = marljax.make("matrix/PrisonersDilemma-v0", horizon=2)
    pz = to_pettingzoo(env, seed=0)
    pz.reset()
    _, rewards, terminations, truncations, _ = pz.step({"type0_0": 1, "type1_1": 0})  # defect vs cooperate
    assert rewards == {"type0_0": 5.0, "type1_1": 0.0}
    assert pz.agents == ["type0_0", "type1_1"] and not any(terminations.values())
    _, _, terminations, truncations, _ = pz.step({"type0_0": 0, "type1_1": 0})
    assert pz.agents == [] and all(terminations.values() or truncations.values())
    with pytest.raises(ValueError, match="reset"):
        pz.step({"type0_0": 0, "type1_1": 0})
    pz.reset()
    with pytest.raises(ValueError, match="out of range"):
        pz.step({"type0_0": 2, "type1_1": 0})
    with pytest.raises(ValueError, match="unknown agents"):
        pz.step({"nobody": 0})


def test_vector_form_matches_the_single_env_and_resets_automatically():
    env = marljax.make("mpe/SimpleSpread-v0", max_steps=3)
    num_envs = 4
    vec = to_pettingzoo(env, num_envs=num_envs, seed=0)
    observations, infos = vec.reset(seed=5)
    assert observations["agent_0"].shape == (num_envs, 18) and infos["agent_0"]["action_mask"].shape == (num_envs, 5)
    # Env 0 of the batch is reset from the first of the split keys: the single env agrees.
    keys = jax.random.split(jax.random.split(jax.random.PRNGKey(5))[1], num_envs)
    _, first = env.reset(keys[0])
    np.testing.assert_allclose(observations["agent_1"][0], first.observation.agents_view[1])
    actions = {a: np.full(num_envs, 2) for a in vec.agents}
    for _ in range(3):
        observations, rewards, terminations, truncations, infos = vec.step(actions)
    assert truncations["agent_0"].all() and not terminations["agent_0"].any()  # 3 steps: every env truncated
    assert rewards["agent_0"].shape == (num_envs,)
    # The returned observation is a fresh episode's (agents back in [-1, 1]^2 at rest); the last one is in infos.
    assert np.all(observations["agent_0"][:, :2] == 0.0) and np.any(infos["agent_0"]["final_observation"][:, :2] != 0)


def test_bad_arguments():
    env = marljax.make("matrix/StagHunt-v0")
    with pytest.raises(ValueError, match="num_envs"):
        to_pettingzoo(env, num_envs=0)
    with pytest.raises(ValueError, match="seed"):
        to_pettingzoo(env, seed=1.5)
