"""Kuhn poker as a two-player, turn-based multi-agent environment (jitted, imperfect information).

The game, its information sets and exact evaluation are :mod:`.tree`'s; this is the env that
PSRO's RL oracle and the learners play. Three cards, both players ante 1, one card each, player
0 acts first; pass (check/fold) or bet (bet/call); see :mod:`.tree` for the histories and payoffs.

- **Turns on a leading agent axis.** Every ``step`` takes an ``[2]`` int32 joint action, but only
  the player to act decides: the other player's entry is ignored, and its ``action_mask`` allows
  only action 0 (a no-op). A game lasts 2 or 3 steps.
- **Observation** ``agents_view [2, 11]`` float32, OpenSpiel's ``kuhn_poker`` information-state
  tensor layout: ``[own player one-hot (2), own card one-hot (3), betting history (3 rounds x
  one-hot pass/bet)]``. A player never sees the other's card. ``action_mask [2, 2]``: both
  actions for the player to act, only action 0 for the other (and after the end). ``global_state
  [2, 22]``: both views (a centralised critic may see both cards). ``agent_type [2]``: 0, 1.
- **Action** ``[2]`` int32 in {0 pass, 1 bet}; only the acting player's entry counts.
- **Reward** ``[2]``: zero until the game ends, then player 0's chips won and their negation
  (+-1 or +-2).
- **Termination**: at a terminal history (discount 0 for both); ``max_steps = 3``.
- **Metrics**: ``showdown`` (1 if the cards were compared, final), ``fold`` (1 if someone folded,
  final), ``pot`` (chips in the pot at the end, final), ``player0_payoff`` (sum).
"""

from __future__ import annotations

from functools import cached_property

import chex
import jax
import jax.numpy as jnp
import numpy as np
from jumanji import specs
from jumanji.types import restart, termination, transition

from marljax.env import MultiAgentEnv, observation_spec
from marljax.envs.cards.kuhn.tree import INFOSET_CARDS, INFOSET_HISTORIES, NUM_CARDS, NUM_INFOSETS
from marljax.envs.cards.kuhn.types import KuhnState

__all__ = ["KuhnPoker", "VIEW_SIZE", "deal", "outcome", "infoset_views", "infoset_of_view"]

VIEW_SIZE = 2 + NUM_CARDS + 3 * 2
NUM_ACTIONS = 2


def deal(key: chex.PRNGKey) -> chex.Array:
    """``[2]`` int32: two distinct cards of the three, uniformly (6 equally likely deals)."""
    return jax.random.permutation(key, NUM_CARDS)[:2].astype(jnp.int32)


def to_act(history: chex.Array) -> chex.Array:
    """The player to act after ``history`` (rounds played: 0 -> player 0, 1 -> 1, 2 -> 0)."""
    return jnp.sum(history >= 0) % 2


def outcome(cards: chex.Array, history: chex.Array) -> tuple:
    """``(done, player 0's payoff, showdown, fold, pot)`` of a betting ``history`` [3]."""
    played = jnp.sum(history >= 0)
    h0, h1, h2 = history[0], history[1], history[2]
    higher = jnp.where(cards[0] > cards[1], 1.0, -1.0)
    # pp: showdown 1; bp: player 1 folds; bb: showdown 2; pbp: player 0 folds; pbb: showdown 2.
    pp = (played == 2) & (h0 == 0) & (h1 == 0)
    bp = (played == 2) & (h0 == 1) & (h1 == 0)
    bb = (played == 2) & (h0 == 1) & (h1 == 1)
    pbp = (played == 3) & (h2 == 0)
    pbb = (played == 3) & (h2 == 1)
    showdown = pp | bb | pbb
    fold = bp | pbp
    stake = jnp.where(bb | pbb, 2.0, 1.0)
    payoff = jnp.where(showdown, stake * higher, jnp.where(bp, 1.0, jnp.where(pbp, -1.0, 0.0)))
    pot = 2.0 + jnp.sum(history == 1).astype(jnp.float32)
    return showdown | fold, payoff, showdown, fold, pot


def infoset_views() -> np.ndarray:
    """``[12, 11]`` float32: the ``agents_view`` row a player sees at each information set (rows
    in :mod:`.tree`'s infoset order), to read any observation-based policy as a tabular one."""
    views = np.zeros((NUM_INFOSETS, VIEW_SIZE), np.float32)
    for index, (card, history) in enumerate(zip(INFOSET_CARDS, INFOSET_HISTORIES)):
        views[index, index // 6] = 1.0
        views[index, 2 + card] = 1.0
        for depth, move in enumerate(history):
            views[index, 5 + 2 * depth + (move == "b")] = 1.0
    return views


def infoset_of_view(view: chex.Array) -> chex.Array:
    """The information set index of ``agents_view`` rows ``[..., 11]`` (of a player to act)."""
    return jnp.argmax(jnp.all(view[..., None, :] == jnp.asarray(infoset_views()), axis=-1), axis=-1)


class KuhnPoker(MultiAgentEnv):
    """Two-player Kuhn poker, one decision per step (see the module docstring)."""

    metrics = {"showdown": "final", "fold": "final", "pot": "final", "player0_payoff": "sum"}

    def __init__(self):
        self.num_agents = 2
        self.max_steps = 3
        super().__init__()

    @cached_property
    def observation_spec(self) -> specs.Spec:
        return observation_spec(2, (VIEW_SIZE,), NUM_ACTIONS, self.max_steps, 2 * VIEW_SIZE, 2, view_bounds=(0.0, 1.0))

    @cached_property
    def action_spec(self) -> specs.MultiDiscreteArray:
        return self.discrete_action_spec((NUM_ACTIONS, NUM_ACTIONS))

    def _obs(self, state: KuhnState):
        players = jnp.arange(2)
        rounds = jax.nn.one_hot(state.history, 2).reshape(-1)  # -1 (not played) is all zeros
        view = jnp.concatenate(
            [
                jax.nn.one_hot(players, 2),
                jax.nn.one_hot(state.cards, NUM_CARDS),
                jnp.broadcast_to(rounds, (2, 6)),
            ],
            axis=1,
        )
        acting = (players == to_act(state.history)) & ~state.done
        mask = jnp.stack([jnp.ones((2,), bool), acting], axis=1)  # action 0 always allowed (no-op if not acting)
        return self._observation(view, mask, state.step_count, agent_type=players)

    def _extras(self, showdown, fold, pot, payoff) -> dict:
        f = lambda x: jnp.asarray(x, jnp.float32)  # noqa: E731
        return {"metrics": {"showdown": f(showdown), "fold": f(fold), "pot": f(pot), "player0_payoff": f(payoff)}}

    def reset(self, key: chex.PRNGKey):
        key, deal_key = jax.random.split(key)
        state = KuhnState(
            key=key,
            step_count=jnp.int32(0),
            cards=deal(deal_key),
            history=jnp.full((3,), -1, jnp.int32),
            done=jnp.bool_(False),
        )
        extras = self._extras(0.0, 0.0, 2.0, 0.0)
        return state, restart(self._obs(state), extras, shape=(2,), dtype=jnp.float32)

    def step(self, state: KuhnState, action: chex.Array):
        actor = to_act(state.history)
        move = jnp.clip(jnp.asarray(action, jnp.int32)[actor], 0, 1)
        played = jnp.sum(state.history >= 0)
        history = jnp.where(state.done, state.history, state.history.at[jnp.minimum(played, 2)].set(move))
        done, payoff, showdown, fold, pot = outcome(state.cards, history)
        reward = jnp.where(done & ~state.done, jnp.stack([payoff, -payoff]), 0.0)
        state = KuhnState(key=state.key, step_count=state.step_count + 1, cards=state.cards, history=history, done=done)
        obs, extras, n = self._obs(state), self._extras(showdown, fold, pot, reward[0]), (2,)
        return state, jax.lax.cond(
            done | (state.step_count >= self.max_steps),
            lambda: termination(reward, obs, extras=extras, shape=n, dtype=jnp.float32),
            lambda: transition(reward, obs, extras=extras, shape=n, dtype=jnp.float32),
        )

    def render(self, state: KuhnState):
        """The cards and the betting so far."""
        import matplotlib.pyplot as plt

        names = "JQK"
        moves = "".join("pb"[int(a)] for a in state.history if int(a) >= 0) or "-"
        fig, ax = plt.subplots(figsize=(4, 2))
        ax.axis("off")
        ax.text(
            0.05, 0.6, f"player 0: {names[int(state.cards[0])]}   player 1: {names[int(state.cards[1])]}", fontsize=12
        )
        ax.text(0.05, 0.25, f"betting: {moves}" + ("  (over)" if bool(state.done) else ""), fontsize=12)
        return fig
