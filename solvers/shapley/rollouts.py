"""Characteristic functions from env rollouts: what a coalition of agents earns when the rest are replaced.

For a team of agents playing a policy, the worth of a coalition ``S`` is the expected team return
of episodes in which the agents of ``S`` act with the policy and every other agent's action is
replaced (Heuillet et al. 2022):

- ``"noop"``: a fixed idle action (MPE's "stay", action 0; zeros for continuous actions) -- the
  paper's recommendation, since it removes the agent's influence most faithfully;
- ``"random"``: a uniformly random valid action (:func:`marljax.rollout.random_policy`);
- ``"random_player"``: the action the policy picks for a uniformly chosen *other* agent, drawn
  afresh every step.

``v(S) = E[sum_t sum_{i in players} r_{i,t}]``, estimated from ``num_episodes`` episodes played by
:func:`marljax.evaluation.play_episodes`. A coalition is just a ``[n]`` bool array that rides in
the policy's carry, so ``jax.vmap`` over coalitions plays every coalition's episodes in one
jitted batch. All coalitions use the same PRNG key: episode ``e`` starts from the same state and
draws the same random numbers in every coalition (common random numbers), so the differences
``v(S u {i}) - v(S)`` that make up a Shapley value are far less noisy than the worths.

    game = rollout_game(env, policy, key, num_episodes=256, replace="noop")
    shapley.exact(game, game.num_players)          # values with episode standard errors
    game = run_game("runs/tag", key, num_episodes=256)   # a trained run folder's policy

References:
  Heuillet, Couthouis & Diaz-Rodriguez, "Collective eXplainable AI: explaining cooperative
  strategies and agent contribution in multiagent reinforcement learning with Shapley values" (2022).
"""

from __future__ import annotations

import functools
import json
import pathlib
from typing import Any, Callable, Optional, Sequence

import chex
import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from marljax.evaluation import play_episodes
from marljax.rollout import random_policy

__all__ = ["REPLACEMENTS", "RolloutGame", "rollout_game", "replaced_policy", "learner_policy", "run_game"]

REPLACEMENTS = ("noop", "random", "random_player")


def _check_replace(replace: str, num_agents: int) -> str:
    if replace not in REPLACEMENTS:
        raise ValueError(f"unknown replacement {replace!r}; choose one of {list(REPLACEMENTS)}")
    if replace == "random_player" and num_agents < 2:
        raise ValueError("replacement 'random_player' copies another agent's action: the env needs >= 2 agents")
    return replace


def _substitute(env, replace: str, noop_action, action, observation, key):
    """Actions ``[E, N, ...]`` for replaced agents (the policy's ``action`` is for ``random_player``)."""
    num_envs, n = action.shape[:2]
    if replace == "noop":
        return jnp.broadcast_to(jnp.asarray(noop_action, action.dtype), action.shape)
    if replace == "random":
        return jax.vmap(random_policy(env))(jax.random.split(key, num_envs), observation).astype(action.dtype)
    # random_player: agent i copies agent (i + k) mod N for k uniform in 1..N-1 (never itself).
    shift = jax.random.randint(key, (num_envs, n), 1, n)
    source = (jnp.arange(n)[None, :] + shift) % n
    return jnp.take_along_axis(action, source.reshape(source.shape + (1,) * (action.ndim - 2)), axis=1)


def replaced_policy(env, policy: Callable, replace: str, noop_action=0) -> Callable:
    """The policy with non-members replaced: ``(carry, obs, first, key) -> (carry, action)`` whose
    carry is ``(agent_mask [N] bool, policy's carry)``; agents with ``agent_mask`` False act by ``replace``."""
    _check_replace(replace, env.num_agents)

    def play(carry, observation, first, key):
        agent_mask, inner = carry
        policy_key, replace_key = jax.random.split(key)
        inner, action = policy(inner, observation, first, policy_key)
        substitute = _substitute(env, replace, noop_action, action, observation, replace_key)
        keep = agent_mask.reshape((1, -1) + (1,) * (action.ndim - 2))
        return (agent_mask, inner), jnp.where(keep, action, substitute)

    return play


@functools.lru_cache(maxsize=32)
def _replaced_policy_cached(env, policy, replace, noop_action):
    # One policy object per set-up, so jit reuses the compilation across games and checkpoints.
    return replaced_policy(env, policy, replace, noop_action)


@struct.dataclass
class RolloutGame:
    """A cooperative game whose worths are team returns of rollouts (see the module docstring).

    Calling it on a coalition ``mask [n]`` gives ``v(mask)`` (the mean team return);
    ``samples(mask)`` gives the ``[E]`` episodes' team returns. A pytree: ``key`` and the policy's
    ``initial_carry`` (e.g. trained parameters) are its arrays, so games that differ only in those
    (another checkpoint, another key) reuse one compilation.
    """

    key: chex.PRNGKey
    initial_carry: Any
    env: Any = struct.field(pytree_node=False)
    policy: Callable = struct.field(pytree_node=False)  # the replaced policy (carry (agent_mask, inner))
    num_episodes: int = struct.field(pytree_node=False)
    players: tuple = struct.field(pytree_node=False)  # the agents that are players, in order
    max_steps: Optional[int] = struct.field(pytree_node=False, default=None)
    mesh: Any = struct.field(pytree_node=False, default=None)  # coalitions split over its devices

    @property
    def num_players(self) -> int:
        return len(self.players)

    def agent_mask(self, mask: chex.Array) -> chex.Array:
        """Coalition ``[n]`` over players -> ``[N]`` over agents (agents that are not players always play)."""
        players = jnp.asarray(self.players, jnp.int32)
        return jnp.ones((self.env.num_agents,), bool).at[players].set(jnp.asarray(mask, bool))

    def samples(self, mask: chex.Array) -> chex.Array:
        """``[E]`` team returns (summed over the players) of the episodes played by coalition ``mask``."""
        batch = play_episodes(
            self.env,
            self.policy,
            self.key,
            self.num_episodes,
            initial_carry=(self.agent_mask(mask), self.initial_carry),
            max_steps=self.max_steps,
        )
        return batch.returns[:, jnp.asarray(self.players, jnp.int32)].sum(-1)

    def __call__(self, mask: chex.Array) -> chex.Array:
        return self.samples(mask).mean()


def _check_noop(env, noop_action):
    """The idle action as a hashable value: an int for discrete envs, a tuple for continuous ones."""
    if env.action_type == "discrete":
        action = 0 if noop_action is None else noop_action
        if isinstance(action, bool) or not isinstance(action, (int, np.integer)) or action < 0:
            raise ValueError(f"noop_action of a discrete env must be a non-negative action index; got {noop_action!r}")
        if action >= env.num_actions:
            raise ValueError(f"noop_action={action} is not an action of {env!r} (it has {env.num_actions})")
        return int(action)
    size = env.action_spec.shape[-1]
    action = np.zeros(size) if noop_action is None else np.asarray(noop_action, np.float64)
    if action.shape not in ((), (size,)):
        raise ValueError(f"noop_action of a continuous env must be a scalar or [{size}]; got shape {action.shape}")
    return tuple(np.broadcast_to(action, (size,)).tolist())


def _check_episodes(num_episodes) -> None:
    if isinstance(num_episodes, bool) or not isinstance(num_episodes, (int, np.integer)) or num_episodes < 1:
        raise ValueError(f"num_episodes must be a positive integer; got {num_episodes!r}")


def rollout_game(
    env,
    policy: Callable,
    key: chex.PRNGKey,
    num_episodes: int = 256,
    replace: str = "noop",
    *,
    initial_carry: Any = None,
    players: Optional[Sequence[int]] = None,
    noop_action=None,
    max_steps: Optional[int] = None,
    mesh=None,
) -> RolloutGame:
    """The characteristic function of ``(env, policy)``: ``v(S)`` = expected team return with non-members replaced.

    Args:
      env: a marljax env (unwrapped).
      policy: ``policy(carry, observation, first, key) -> (carry, action)`` for ``[E, N]`` agents
        (:data:`marljax.evaluation.Policy`). Build it once: the compilation is kept per policy object.
      key: PRNG key of the episodes, shared by every coalition (common random numbers).
      num_episodes: episodes per coalition (``E``).
      replace: ``"noop"``, ``"random"`` or ``"random_player"``.
      initial_carry: the policy's carry at the first step (e.g. its parameters); arrays are traced.
      players: the agents that are players (default all); the others always act by the policy
        and their returns do not count (e.g. the prey of a predator team).
      noop_action: the idle action (default 0 for discrete actions, zeros for continuous ones).
      max_steps: steps per episode (default ``env.max_steps``).
      mesh: a 1-D :func:`marljax.sharding.batch_mesh`: ``shapley.exact`` & co. split this game's
        coalitions over its devices (the values do not depend on it). ``None``: one device.

    Returns:
      A :class:`RolloutGame` with ``num_players`` players.

    Raises:
      ValueError: an unknown replacement, bad ``players``, ``num_episodes`` or ``noop_action``.
    """
    n = env.num_agents
    _check_replace(replace, n)
    _check_episodes(num_episodes)
    players = tuple(range(n)) if players is None else tuple(int(i) for i in players)
    if not players or len(set(players)) != len(players) or any(not 0 <= i < n for i in players):
        raise ValueError(f"players must be distinct agents in 0..{n - 1}; got {players}")
    noop = _check_noop(env, noop_action)
    return RolloutGame(
        key=key,
        initial_carry=initial_carry,
        env=env,
        policy=_replaced_policy_cached(env, policy, replace, noop),
        num_episodes=int(num_episodes),
        players=players,
        max_steps=max_steps,
        mesh=mesh,
    )


# ---------------------------------------------------------------------------------------------
# Trained run folders (marljax.runs)


@functools.lru_cache(maxsize=8)
def learner_policy(learner, greedy: bool = False) -> Callable:
    """A :data:`~marljax.evaluation.Policy` of a registered learner whose carry is ``(params, actor carry)``;
    the parameters ride in the carry, so every checkpoint and seed shares one compilation."""

    def policy(carry, observation, first, key):
        params, inner = carry
        inner, action = learner.act(params, inner, observation, first, key, greedy)
        return (params, inner), action

    return policy


def _actor_carry(learner, num_episodes: int):
    carry = learner.initial_carry(num_episodes)
    # PPO keeps its critic's carry beside the actor's; the policy needs only the actor's.
    return carry["actor"] if isinstance(carry, dict) and "actor" in carry else carry


def run_checkpoints(run_dir) -> list[int]:
    """The committed checkpoint steps (updates) of a run folder, oldest first."""
    from marljax.checkpoint import Checkpoints

    with Checkpoints(pathlib.Path(run_dir) / "checkpoints") as store:
        return store.steps()


def run_params(run_dir, learner, step: Optional[int] = None):
    """The trained parameters ``[seeds, ...]`` of checkpoint ``step`` (default: the latest) of a run folder."""
    from marljax.checkpoint import Checkpoints

    out = pathlib.Path(run_dir)
    record = json.loads((out / "config.json").read_text())
    keys = jax.random.split(jax.random.PRNGKey(record["seed"]), record["seeds"])
    like = jax.eval_shape(jax.vmap(learner.init), keys)
    with Checkpoints(out / "checkpoints") as store:
        if step is not None and int(step) not in store.steps():
            raise ValueError(f"{out} has no checkpoint at update {step}; it has {store.steps()}")
        return store.restore(like, step).params


def run_game(
    run_dir,
    key: chex.PRNGKey,
    num_episodes: int = 256,
    replace: str = "noop",
    *,
    step: Optional[int] = None,
    policy_seed: int = 0,
    greedy: bool = False,
    players: Optional[Sequence[int]] = None,
    noop_action=None,
    mesh=None,
) -> RolloutGame:
    """The characteristic function of a trained run folder (:mod:`marljax.runs`): its env and the
    policy of seed ``policy_seed`` at checkpoint ``step`` (default: the latest).

    Args:
      run_dir: a folder written by ``marljax train`` / :func:`marljax.runs.train`.
      key, num_episodes, replace, players, noop_action, mesh: as :func:`rollout_game`.
      step: the checkpoint (update count) to load; ``None``: the latest.
      policy_seed: which of the run's seeds plays.
      greedy: the policy's most likely action instead of a sample.

    Raises:
      ValueError: not a run folder, no such checkpoint or seed, or a bad option of :func:`rollout_game`.
    """
    from marljax import runs

    _check_episodes(num_episodes)  # before the carry of num_episodes episodes is built
    env, learner, params = runs.load(run_dir)  # checks the folder and that it has a checkpoint
    if step is not None:
        params = run_params(run_dir, learner, step)
    seeds = jax.tree_util.tree_leaves(params)[0].shape[0]
    if isinstance(policy_seed, bool) or not 0 <= int(policy_seed) < seeds:
        raise ValueError(f"policy_seed must be in 0..{seeds - 1}; got {policy_seed!r}")
    params = jax.tree_util.tree_map(lambda x: x[int(policy_seed)], params)
    return rollout_game(
        env,
        learner_policy(learner, bool(greedy)),
        key,
        num_episodes,
        replace,
        initial_carry=(params, _actor_carry(learner, int(num_episodes))),
        players=players,
        noop_action=noop_action,
        mesh=mesh,
    )
