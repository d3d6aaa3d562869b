"""PSRO with a reinforcement-learning oracle: PPO best responses in two-team environments.

For any registered Jumanji-API env whose agents split into two teams (default: the first and
second half of the agents; ``agent 0`` vs ``agent 1`` in two-player matrix games), PSRO's
population for each team is a set of PPO actor networks, stored as one parameter pytree with
leading axes ``[2, K]`` (``K = max_population`` preallocated slots, ``sizes [2]`` filled).
Each iteration (one jitted function, compiled once and reused):

1. **meta-game by simulation**: ``M[t, k_0, k_1]`` = mean episode return of team ``t`` (averaged
   over its agents) when team 0 plays policy ``k_0`` and team 1 policy ``k_1``, from
   ``sims_per_entry`` episodes per entry, all ``K^2`` entries in one ``vmap`` (re-simulated
   each iteration with fresh keys);
2. **meta-strategy** from any meta-solver of :mod:`marljax.solvers.psro.meta_solvers`;
3. **oracle**: for each team, PPO (:mod:`marljax.solvers.learners.ppo`, ``trained_agents`` = the team)
   trains a fresh policy against opponents that play each episode with one policy sampled
   from the other team's meta-strategy (drawn from PPO's per-episode key);
4. **exploitability by a fresh best response**: the new policy *is* a fresh best response to
   the meta-strategy, so after its payoffs are simulated,
   ``sum_t M'_t(BR_t, sigma_-t) - M_t(sigma)`` estimates the meta-strategy's NashConv.

Policies are feed-forward (the oracle's PPO config must have ``recurrent=False``).
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import chex
import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from jumanji.wrappers import Wrapper

from marljax.checks import check_positive
from marljax.solvers.game.properties import is_zero_sum
from marljax.solvers.learners.ppo import PPOConfig, make_learner
from marljax.solvers.psro.loop import check_budget
from marljax.solvers.psro.meta_solvers import MetaSolver, make_meta_solver

__all__ = ["RLOracleConfig", "RLPSROState", "RLPSROMetrics", "make_rl_psro", "run_rl_psro", "team_masks"]


@dataclasses.dataclass(frozen=True)
class RLOracleConfig:
    """The PPO best-response trainer and the meta-game simulation."""

    ppo: PPOConfig = PPOConfig(
        total_steps=16_384,
        num_envs=32,
        num_steps=16,
        lr=3e-3,
        ent_coef=0.0,
        hidden_size=32,
        update_epochs=4,
        num_minibatches=4,
    )
    sims_per_entry: int = 64  # episodes per meta-game entry
    episode_steps: int | None = None  # default: the env's max_steps
    teams: tuple | None = None  # ((agents of team 0), (agents of team 1)); default: halves


@struct.dataclass
class RLPSROState:
    actors: chex.ArrayTree  # actor parameters, every leaf [2, K, ...]
    sizes: chex.Array  # [2] filled slots per team
    meta_payoffs: chex.Array  # [2, K, K] simulated meta-game of the current population
    key: chex.PRNGKey


@struct.dataclass
class RLPSROMetrics:
    meta_strategy: chex.Array  # [2, K] the meta-strategy the oracles answered
    exploitability: chex.Array  # [] NashConv estimate by the fresh best responses
    best_response_value: chex.Array  # [2] each new policy's return against the meta-strategy
    meta_value: chex.Array  # [2] the meta-strategy's own value
    sizes: chex.Array  # [2]


def team_masks(num_agents: int, teams=None) -> np.ndarray:
    """``[2, N]`` bool: which agents belong to each team (a partition of the agents)."""
    if teams is None:
        if num_agents % 2:
            raise ValueError(f"an env with {num_agents} agents has no default split into two teams; pass teams")
        half = num_agents // 2
        teams = (tuple(range(half)), tuple(range(half, num_agents)))
    if len(teams) != 2:
        raise ValueError(f"PSRO's RL oracle plays two teams; got {len(teams)}")
    masks = np.zeros((2, num_agents), bool)
    for t, members in enumerate(teams):
        for agent in members:
            if not 0 <= agent < num_agents or masks[:, agent].any():
                raise ValueError(f"teams {teams} must partition the agents 0..{num_agents - 1}")
            masks[t, agent] = True
    if not masks.any(axis=1).all() or not masks.any(axis=0).all():
        raise ValueError(f"teams {teams} must partition the agents 0..{num_agents - 1} into two non-empty teams")
    return masks


class _StaticSizes(Wrapper):
    """The env with its sizes read once, outside jit: the PPO learners are built inside the
    jitted iteration (their opponents close over the traced population), where a size computed
    with ``jnp`` would be a tracer."""

    def __init__(self, env):
        super().__init__(env)
        self._num_actions = int(env.num_actions)

    @property
    def num_actions(self) -> int:
        return self._num_actions


def make_rl_psro(env, meta_solver: MetaSolver, max_population: int, config: RLOracleConfig = RLOracleConfig()):
    """``(init(key) -> RLPSROState, iteration(state) -> (state, metrics), action_frequencies)``."""
    env = _StaticSizes(env)
    check_positive(max_population=max_population, sims_per_entry=config.sims_per_entry)
    if config.ppo.recurrent:
        raise ValueError("the RL oracle's population policies are feed-forward: set ppo.recurrent=False")
    steps = config.episode_steps or getattr(env, "max_steps", None)
    if not steps:
        raise ValueError(f"{env!r} has no max_steps: pass RLOracleConfig(episode_steps=...)")
    masks = team_masks(env.num_agents, config.teams)
    members = [tuple(int(a) for a in np.flatnonzero(m)) for m in masks]
    team_of = jnp.asarray(masks)
    uniform_opponent = lambda key, obs, episode_key: jnp.zeros((env.num_agents,), jnp.int32)  # noqa: E731 (init only)
    actor = make_learner(dataclasses.replace(config.ppo, trained_agents=members[0]), env, uniform_opponent)
    carry = actor.initial_carry(1)["actor"]

    def act_all(params, key, obs):
        """Every agent acts with ``params`` (one env): ``[N]`` actions."""
        batch = jax.tree_util.tree_map(lambda x: x[None], obs)
        return actor.act({"actor": params}, carry, batch, jnp.zeros((1, env.num_agents), bool), key)[1][0]

    def joint_act(pair, key, obs):
        """Team ``t``'s agents act with ``pair[t]`` (a tree with leading axis 2)."""
        keys = jax.random.split(key, 2)
        actions = [act_all(jax.tree_util.tree_map(lambda x: x[t], pair), keys[t], obs) for t in range(2)]
        return jnp.where(team_of[0], actions[0], actions[1])

    def episode_returns(pair, key):
        """``[2]`` mean return per agent of each team over one episode."""
        reset_key, run_key = jax.random.split(key)
        state, timestep = env.reset(reset_key)

        def step(carry, k):
            state, timestep, alive, total = carry
            state, nxt = env.step(state, joint_act(pair, k, timestep.observation))
            total = total + alive * nxt.reward
            return (state, nxt, alive * (1.0 - nxt.last()), total), None

        init = (state, timestep, jnp.ones(()), jnp.zeros((env.num_agents,)))
        (_, _, _, total), _ = jax.lax.scan(step, init, jax.random.split(run_key, steps))
        return (team_of @ total) / team_of.sum(axis=1)

    def simulate(actors, key):
        """``[2, K, K]``: every pair of slots, ``sims_per_entry`` episodes each, one vmap."""
        k = max_population
        pairs = jax.tree_util.tree_map(
            lambda x: jnp.stack([jnp.repeat(x[0], k, axis=0), jnp.tile(x[1], (k,) + (1,) * (x.ndim - 2))], axis=1),
            actors,
        )  # leaves [K*K, 2, ...]: entry (i, j) = (team 0 slot i, team 1 slot j)
        keys = jax.random.split(key, (k * k, config.sims_per_entry))
        returns = jax.vmap(lambda pair, ks: jax.vmap(lambda kk: episode_returns(pair, kk))(ks).mean(0))(pairs, keys)
        return returns.reshape(k, k, 2).transpose(2, 0, 1)

    def best_response(team, actors, sigma, key):
        """Train a fresh PPO policy for ``team`` against the other team's meta-strategy."""
        other = 1 - team

        def opponent_policy(act_key, obs, episode_key):
            slot = jax.random.categorical(episode_key, jnp.log(sigma[other]))  # one policy per episode
            return act_all(jax.tree_util.tree_map(lambda x: x[other, slot], actors), act_key, obs)

        learner = make_learner(dataclasses.replace(config.ppo, trained_agents=members[team]), env, opponent_policy)
        runner, _ = learner.run(learner.init(key), learner.config.num_updates)
        return runner.params["actor"]

    def init(key) -> RLPSROState:
        init_key, sim_key, key = jax.random.split(key, 3)
        first = [actor.init(k).params["actor"] for k in jax.random.split(init_key, 2)]
        actors = jax.tree_util.tree_map(
            lambda a, b: jnp.broadcast_to(jnp.stack([a, b])[:, None], (2, max_population) + a.shape), *first
        )
        return RLPSROState(actors, jnp.ones((2,), jnp.int32), simulate(actors, sim_key), key)

    def iteration(state: RLPSROState):
        key, k0, k1, sim_key = jax.random.split(state.key, 4)
        slots = jnp.arange(max_population)
        masks_now = slots[None, :] < state.sizes[:, None]
        sigma = meta_solver(state.meta_payoffs, masks_now)
        responses = [best_response(0, state.actors, sigma, k0), best_response(1, state.actors, sigma, k1)]
        new_slot = jnp.minimum(state.sizes, max_population - 1)
        actors = jax.tree_util.tree_map(
            lambda pop, r0, r1: pop.at[0, new_slot[0]].set(r0).at[1, new_slot[1]].set(r1), state.actors, *responses
        )
        meta = simulate(actors, sim_key)
        meta_value = jnp.stack([sigma[0] @ state.meta_payoffs[t] @ sigma[1] for t in range(2)])
        br_value = jnp.stack([meta[0, new_slot[0]] @ sigma[1], sigma[0] @ meta[1][:, new_slot[1]]])
        metrics = RLPSROMetrics(sigma, jnp.sum(br_value - meta_value), br_value, meta_value, state.sizes)
        sizes = jnp.minimum(state.sizes + 1, max_population)
        return RLPSROState(actors, sizes, meta, key), metrics

    def action_frequencies(state: RLPSROState, sigma, key, episodes: int = 256):
        """``[2, A]``: how often each team's agents take each action when both teams sample a
        policy per episode from ``sigma`` (the meta-strategy seen in action space)."""
        num_actions = env.num_actions

        def one(k):
            slot_key, reset_key, run_key = jax.random.split(k, 3)
            slot = jax.random.categorical(slot_key, jnp.log(sigma), axis=-1)  # [2]
            pair = jax.tree_util.tree_map(lambda x: x[jnp.arange(2), slot], state.actors)
            env_state, timestep = env.reset(reset_key)

            def step(carry, kk):
                env_state, timestep, alive, counts = carry
                action = joint_act(pair, kk, timestep.observation)
                counts = counts + alive * (team_of.astype(jnp.float32) @ jax.nn.one_hot(action, num_actions))
                env_state, nxt = env.step(env_state, action)
                return (env_state, nxt, alive * (1.0 - nxt.last()), counts), None

            init = (env_state, timestep, jnp.ones(()), jnp.zeros((2, num_actions)))
            (_, _, _, counts), _ = jax.lax.scan(step, init, jax.random.split(run_key, steps))
            return counts

        counts = jax.vmap(one)(jax.random.split(key, episodes)).sum(0)
        return counts / counts.sum(axis=1, keepdims=True)

    return init, iteration, action_frequencies


def run_rl_psro(
    env,
    meta_solver: str | MetaSolver = "nash",
    iterations: int = 3,
    key: chex.PRNGKey | None = None,
    config: RLOracleConfig = RLOracleConfig(),
    max_population: int | None = None,
    progress: bool = False,
    **meta_options,
):
    """Run PSRO with PPO best responses on ``env`` (a registered two-team env).

    Returns ``(state, metrics, meta_strategy, action_frequencies)``: the final population and
    its simulated meta-game, the per-iteration metrics stacked (``[iterations, ...]``), the final
    meta-strategy ``[2, K]`` and its action frequencies per team ``[2, A]``.

    >>> import marljax
    >>> state, metrics, sigma, freq = run_rl_psro(marljax.make("matrix/StagHunt-v0"), "nash", 3, jax.random.PRNGKey(0))
    """
    max_population = iterations + 1 if max_population is None else max_population
    check_budget(max_population, iterations)
    key = jax.random.PRNGKey(0) if key is None else key
    if isinstance(meta_solver, str):
        if meta_solver == "nash":
            zero_sum = hasattr(env, "payoffs") and is_zero_sum(jnp.asarray(env.payoffs))
            meta_solver = make_meta_solver("nash_zero_sum" if zero_sum else "nash_general_sum")
        else:
            meta_solver = make_meta_solver(meta_solver, **meta_options)
    init, iteration, frequencies = make_rl_psro(env, meta_solver, max_population, config)
    init_key, freq_key = jax.random.split(key)
    state = jax.jit(init)(init_key)
    step = jax.jit(iteration)
    history = []
    for _ in _maybe_progress(range(iterations), progress):
        state, metrics = step(state)
        history.append(metrics)
    metrics = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *history)
    slots = jnp.arange(max_population)
    sigma = meta_solver(state.meta_payoffs, slots[None, :] < state.sizes[:, None])
    return state, metrics, sigma, jax.jit(frequencies)(state, sigma, freq_key)


def _maybe_progress(iterable: Sequence, progress: bool):
    if not progress:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, desc="PSRO (PPO oracle)", unit="it")
