"""PSRO's RL oracle: PPO best responses of each team to the other team's meta-strategy.

:func:`train_best_response` trains one team; :func:`train_best_responses` both, as one PPO
program when it can (teams of one size, agents sharing the network): team 1 then plays
:class:`AgentOrder`, the env with team 1's agents in team 0's rows, and ``lax.map`` runs the two
teams through the same compiled learner. :func:`fresh_runners` is the learners' state before
training, whose actor parameters are also PSRO's first population (one compilation for both).
The population is one parameter pytree with leading axes ``[2, K]`` (team, slot).

References:
    Lanctot et al., "A Unified Game-Theoretic Approach to Multiagent Reinforcement Learning",
    NeurIPS 2017. Schulman et al., "Proximal Policy Optimization Algorithms", 2017.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import chex
import jax
import jax.numpy as jnp
import numpy as np
from jumanji.wrappers import Wrapper

from marljax.solvers.learners.ppo import PPOConfig, make_learner

__all__ = [
    "AgentOrder",
    "reorder_observation",
    "swapped_order",
    "train_best_response",
    "train_best_responses",
    "fresh_runners",
]


class AgentOrder(Wrapper):
    """The env with its agents listed in ``order``: row ``p`` of the action, the reward, the
    discount and every per-agent observation field is agent ``order[p]``.

    ``order`` may be traced, so :func:`train_best_responses` runs both teams through one PPO
    program (``lax.map`` over the orders): team 1's agents, moved into team 0's rows, are trained
    by the program that trains team 0.
    A feed-forward network with shared parameters reads each row's content (its view and
    ``agent_type``), not its position, so what it learns there is team 1's policy.
    """

    def __init__(self, env, order: chex.Array):
        super().__init__(env)
        self._order, self._inverse = order, jnp.argsort(order)

    def _reorder(self, timestep):
        rows = lambda x: jnp.take(x, self._order, axis=0)  # noqa: E731
        return timestep.replace(
            observation=reorder_observation(timestep.observation, self._order),
            reward=rows(timestep.reward),
            discount=rows(timestep.discount),
        )

    def reset(self, key):
        state, timestep = self._env.reset(key)
        return state, self._reorder(timestep)

    def step(self, state, action):
        state, timestep = self._env.step(state, jnp.take(action, self._inverse, axis=0))
        return state, self._reorder(timestep)


def reorder_observation(observation, order: chex.Array):
    """The observation of one env with its per-agent rows in ``order`` (``step_count`` is per env)."""
    rows = lambda x: jnp.take(x, order, axis=0)  # noqa: E731
    return observation._replace(
        agents_view=rows(observation.agents_view),
        action_mask=rows(observation.action_mask),
        global_state=rows(observation.global_state),
        agent_type=rows(observation.agent_type),
    )


def swapped_order(members: list) -> np.ndarray | None:
    """``[N]`` int32: the agent order that puts team 1's agents in team 0's rows and back (an
    involution), or ``None`` when the teams differ in size (no such order)."""
    if len(members[0]) != len(members[1]):
        return None
    order = np.arange(sum(map(len, members)), dtype=np.int32)
    order[list(members[0])], order[list(members[1])] = members[1], members[0]
    return order


def _opponents(act_one: Callable, actors, sigma, other, order=None) -> Callable:
    """PPO's ``opponent_policy``: team ``other`` plays each episode with one policy of its
    population sampled from ``sigma[other]`` (drawn from the per-episode key, so it stays fixed
    for the episode). With ``order`` (the learner plays :class:`AgentOrder`) the opponents still
    see and act in the env's own agent order."""

    def opponent_policy(act_key, observation, episode_key):
        slot = jax.random.categorical(episode_key, jnp.log(sigma[other]))
        params = jax.tree_util.tree_map(lambda x: x[other, slot], actors)
        if order is None:
            return act_one(params, observation, act_key)
        action = act_one(params, reorder_observation(observation, jnp.argsort(order)), act_key)
        return jnp.take(action, order, axis=0)

    return opponent_policy


def _idle(key, observation, episode_key):
    """A placeholder ``opponent_policy`` for learners that are only initialised."""
    return jnp.zeros(observation.action_mask.shape[:1], jnp.int32)


def _learner(ppo: PPOConfig, env, trained: tuple, opponent_policy: Callable, order=None, mesh=None):
    played = env if order is None else AgentOrder(env, order)
    return make_learner(dataclasses.replace(ppo, trained_agents=trained), played, opponent_policy, mesh=mesh)


def _trained_actor(learner, runner) -> chex.ArrayTree:
    runner, _ = learner.run(runner, learner.config.num_updates)
    return runner.params["actor"]


def _team_orders(ppo: PPOConfig, members: list) -> chex.Array | None:
    """``[2, N]``: team 0's agent order (the identity) and team 1's (:func:`swapped_order`), or
    ``None`` when one program cannot train both (teams of different sizes, or per-agent
    networks, whose parameters belong to a row)."""
    order = swapped_order(members)
    if order is None or not ppo.share_parameters:
        return None
    return jnp.asarray(np.stack([np.arange(order.size, dtype=np.int32), order]))


def train_best_response(
    ppo: PPOConfig,
    env,
    members: tuple,
    act_one: Callable,
    actors: chex.ArrayTree,
    sigma: chex.Array,
    team: int,
    key,
    mesh=None,
) -> chex.ArrayTree:
    """Train a fresh PPO policy for ``team`` against the other team's meta-strategy.

    The other team plays each episode with one policy of its population sampled from
    ``sigma[1 - team]``, drawn from PPO's per-episode key so it stays fixed for the episode.

    Args:
        ppo: the PPO config (``trained_agents`` is set to ``members``).
        env: the env.
        members: the agents of ``team``.
        act_one: ``act_one(params, observation [N, ...], key) -> [N]``, one env.
        actors: the population, leaves ``[2, K, ...]``.
        sigma: ``[2, K]`` the meta-strategy.
        team: 0 or 1 (a Python int).
        key: PRNG key.
        mesh: split PPO's env axis over this mesh's devices (``ppo.make_learner``'s ``mesh``).

    Returns:
        The trained actor's parameters.
    """
    learner = _learner(ppo, env, members, _opponents(act_one, actors, sigma, 1 - team), mesh=mesh)
    return _trained_actor(learner, learner.init(key))


def fresh_runners(ppo: PPOConfig, env, members: list, keys, mesh=None) -> chex.ArrayTree:
    """Each team's PPO runner state before training (``RunnerState`` leaves ``[2, ...]``): what
    team ``t``'s learner's ``init(keys[t])`` gives, laid out as :func:`train_best_responses`
    trains from it. Its ``params["actor"]`` are fresh random policies (PSRO's first population),
    so one compiled program initialises both the population and every iteration's learners."""
    orders = _team_orders(ppo, members)
    if orders is None:
        runners = [_learner(ppo, env, members[t], _idle, mesh=mesh).init(keys[t]) for t in range(2)]
        return jax.tree_util.tree_map(lambda *r: jnp.stack(r), *runners)
    return jax.lax.map(
        lambda order_key: _learner(ppo, env, members[0], _idle, order_key[0], mesh).init(order_key[1]),
        (orders, keys),
    )


def train_best_responses(
    ppo: PPOConfig,
    env,
    members: list,
    act_one: Callable,
    actors: chex.ArrayTree,
    sigma: chex.Array,
    runners,
    mesh=None,
) -> chex.ArrayTree:
    """Both teams' best responses (:func:`train_best_response` for team ``t``, started from
    :func:`fresh_runners`' state ``t``), leaves ``[2, ...]``.

    When the teams have the same size and the agents share the policy network (PPO's default),
    one PPO program trains both, one team after the other (``lax.map``): team 1 plays
    :class:`AgentOrder` with its agents in team 0's rows (:func:`swapped_order`). XLA then
    compiles one PPO run instead of two (a ``vmap`` over the teams would compile ~1.6x longer
    than ``lax.map`` on the CPU). Team 0's run is the same as alone; team 1's draws its
    actions' noise in other rows. Otherwise the two runs are traced one after the other.
    ``mesh`` splits each PPO run's env axis over its devices.
    """
    orders = _team_orders(ppo, members)
    if orders is None:
        responses = [
            _trained_actor(
                _learner(ppo, env, members[t], _opponents(act_one, actors, sigma, 1 - t), mesh=mesh),
                jax.tree_util.tree_map(lambda x: x[t], runners),
            )
            for t in range(2)
        ]
        return jax.tree_util.tree_map(lambda *r: jnp.stack(r), *responses)

    def train(team):
        order, other, runner = team
        opponents = _opponents(act_one, actors, sigma, other, order)
        return _trained_actor(_learner(ppo, env, members[0], opponents, order, mesh), runner)

    return jax.lax.map(train, (orders, jnp.array([1, 0]), runners))
