"""Two teams playing an env: team masks and actions, the simulated meta-game, and playing a
meta-strategy profile (the episodes behind PSRO's RL oracle, :mod:`.rl`).

A population is one parameter pytree with leading axes ``[2, K]`` (team, slot). Every function
here takes the policy it plays as a :func:`marljax.evaluation.play_episodes` policy, so each
caller builds it once and :func:`play_episodes`' compilation is reused.
"""

from __future__ import annotations

from typing import Callable

import chex
import jax
import jax.numpy as jnp
import numpy as np

from marljax.evaluation import EpisodeBatch, play_episodes
from marljax.sharding import map_batch

__all__ = [
    "team_masks",
    "team_act",
    "team_returns",
    "simulate_meta_game",
    "profile_metrics",
    "play_meta_strategy",
    "profile_statistics",
]


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


def team_act(act: Callable, team_of: chex.Array, pair: chex.ArrayTree, observation, key) -> chex.Array:
    """``[E, N]`` actions: team ``t``'s agents act with ``pair[t]`` (a tree with leading axis 2).

    ``act(params, observation [E, N, ...], key) -> [E, N]`` is one actor network's policy.
    """
    keys = jax.random.split(key, 2)
    actions = [act(jax.tree_util.tree_map(lambda x: x[t], pair), observation, keys[t]) for t in range(2)]
    return jnp.where(team_of[0], actions[0], actions[1])


def team_returns(returns: chex.Array, team_of: chex.Array) -> chex.Array:
    """``[..., 2]``: each team's return per agent from per-agent returns ``[..., N]``."""
    return (returns @ team_of.T.astype(returns.dtype)) / team_of.sum(axis=1)


def simulate_meta_game(
    env,
    pair_policy: Callable,
    team_of: chex.Array,
    actors: chex.ArrayTree,
    key,
    sims_per_entry: int,
    steps: int,
    mesh=None,
) -> tuple:
    """``(meta_payoffs [2, K, K], meta_metrics {name: [K, K]})``: the simulated meta-game of every
    pair of slots, and the env's metrics of the same episodes (mean per entry).

    Entry ``(t, i, j)`` is the mean return per agent of team ``t`` over ``sims_per_entry``
    episodes in which team 0 plays slot ``i`` and team 1 slot ``j``: the ``K^2`` entries are one
    ``lax.map`` of :func:`marljax.evaluation.play_episodes` with the pair as the policy's carry
    (each entry's episodes run in parallel; a ``vmap`` over the entries gives the same numbers
    but compiles ~30% longer and, with per-entry weights, runs slower on the CPU).

    Args:
        env: the env (sizes static, see :func:`marljax.solvers.psro_rl.make_rl_psro`).
        pair_policy: a :func:`play_episodes` policy whose carry is the pair of actors it plays.
        team_of: ``[2, N]`` bool team masks.
        actors: the population, leaves ``[2, K, ...]``.
        key: PRNG key.
        sims_per_entry: episodes per entry.
        steps: episode length cap.
        mesh: a 1-D :func:`marljax.sharding.batch_mesh`: the entries are split over its devices,
            each mapping over its own block (:func:`marljax.sharding.map_batch`; every entry has
            its own key, so the meta-game does not depend on the device count).
    """
    k = jax.tree_util.tree_leaves(actors)[0].shape[1]
    pairs = jax.tree_util.tree_map(
        lambda x: jnp.stack([jnp.repeat(x[0], k, axis=0), jnp.tile(x[1], (k,) + (1,) * (x.ndim - 2))], axis=1),
        actors,
    )  # leaves [K*K, 2, ...]: entry (i, j) = (team 0 slot i, team 1 slot j)

    def entry(pair_and_key):
        pair, entry_key = pair_and_key
        batch = play_episodes(env, pair_policy, entry_key, sims_per_entry, initial_carry=pair, max_steps=steps)
        metrics = {name: jnp.mean(value) for name, value in batch.metrics.items()}
        return team_returns(batch.returns, team_of).mean(axis=0), metrics

    entries = (pairs, jax.random.split(key, k * k))
    if mesh is None:
        returns, metrics = jax.lax.map(entry, entries)
    else:
        returns, metrics = map_batch(lambda _, pair_and_key: entry(pair_and_key), entries, mesh, batch_size=1)
    metrics = {name: value.reshape(k, k) for name, value in metrics.items()}
    return returns.reshape(k, k, 2).transpose(2, 0, 1), metrics


def profile_metrics(meta_metrics: dict, sigma: chex.Array) -> dict:
    """``{name: []}``: the env metrics of the meta-strategy profile ``sigma [2, K]`` on the
    per-entry metrics ``{name: [K, K]}`` (each team samples its policy independently)."""
    return {name: sigma[0] @ value @ sigma[1] for name, value in meta_metrics.items()}


def play_meta_strategy(
    env,
    sampled_policy: Callable,
    actors: chex.ArrayTree,
    sigma: chex.Array,
    key,
    episodes: int,
    steps: int,
    tally: Callable | None = None,
) -> EpisodeBatch:
    """Play the meta-strategy profile: each episode, each team samples one policy from ``sigma``.

    Args:
        env: the env.
        sampled_policy: a :func:`play_episodes` policy whose carry is ``(actors, slots [E, 2])``.
        actors: the population, leaves ``[2, K, ...]``.
        sigma: ``[2, K]`` the meta-strategy.
        key: PRNG key.
        episodes: number of episodes.
        steps: episode length cap.
        tally: passed to :func:`play_episodes` (e.g. action counts).
    """
    slot_key, play_key = jax.random.split(key)
    slots = jax.random.categorical(slot_key, jnp.log(sigma), axis=-1, shape=(episodes, 2))
    return play_episodes(
        env, sampled_policy, play_key, episodes, initial_carry=(actors, slots), max_steps=steps, tally=tally
    )


def profile_statistics(batch: EpisodeBatch, team_of: chex.Array) -> dict:
    """How a meta-strategy profile played, from :func:`play_meta_strategy`'s episodes:
    ``action_frequencies [2, A]`` (from the action-count tally; ``None`` without one),
    ``team_returns [2]`` (mean return per agent of each team) and ``env_metrics`` (name -> mean
    over episodes, as :func:`marljax.evaluation.summarise` reports them). Jittable."""
    counts = None if batch.tally is None else batch.tally.sum(axis=0)
    return {
        "action_frequencies": None if counts is None else counts / counts.sum(axis=1, keepdims=True),
        "team_returns": team_returns(batch.returns, team_of).mean(axis=0),
        "env_metrics": {name: jnp.mean(value) for name, value in batch.metrics.items()},
    }
