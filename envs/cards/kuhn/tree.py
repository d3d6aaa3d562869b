"""Kuhn poker's game tree, and exact values, best responses and NashConv of tabular policies.

Kuhn (1950): a deck of three cards, Jack < Queen < King (0, 1, 2). Both players ante 1 chip and
get one card each (6 equally likely deals). Player 0 acts first; each player either *passes*
(action 0: check, or fold facing a bet) or *bets* (action 1: bet 1 chip, or call a bet). The
betting histories (``p`` pass, ``b`` bet)::

    ""  -> player 0     "p" -> player 1     "b" -> player 1     "pb" -> player 0
    terminal: "pp" (showdown for 1), "bp" (player 1 folds: +1 to player 0),
              "bb", "pbb" (showdown for 2), "pbp" (player 0 folds: -1 to player 0)

The same game and action numbering as OpenSpiel's ``kuhn_poker`` (0 Pass, 1 Bet).

**Information sets.** A player sees its card and the public history: 12 information sets,
``infoset = 6 * player + 2 * card + h`` with ``h`` the player's decision (player 0: 0 at ``""``,
1 at ``"pb"``; player 1: 0 at ``"p"``, 1 at ``"b"``). A *tabular policy* is ``[12, 2]``: a
distribution over (pass, bet) per information set (:data:`INFOSET_NAMES` names the rows).

**Exact evaluation** (every function here jits over the policy table; no sampling):

- :func:`expected_payoffs` ``[2]``: ``sum_deals 1/6 sum_z reach_0(z) reach_1(z) u(z)``;
- :func:`best_response_values` ``[2]``: each player's best-response value against the other's
  policy, by backward induction over the player's own information sets (deepest first):
  ``Q(I, a) = sum_{z below (I, a) with no later own decision} chance * reach_-i(z) u_i(z)
  + sum_{I' next own infoset} V(I')``, ``V(I) = max_a Q(I, a)``;
- :func:`nash_conv` ``= sum_i (BR_i - u_i)`` and :func:`exploitability` ``= nash_conv / 2``,
  exactly as OpenSpiel's ``exploitability.nash_conv`` and ``exploitability.exploitability``
  define them (the uniform random policy: NashConv 11/12 = 0.91667, exploitability 0.45833).

Known equilibria (:func:`equilibrium_policy`, Kuhn 1950): player 0 bets a Jack with probability
``alpha in [0, 1/3]``, a King with ``3 alpha``, never a Queen; facing a bet it calls with a Queen
with ``alpha + 1/3``, always with a King, never with a Jack. Player 1 bets a Jack after a pass
with 1/3, a King always, a Queen never; facing a bet it calls with a Queen with 1/3, a King
always, a Jack never. The game value is ``-1/18`` for player 0.

**Mixtures of policies.** A meta-strategy ``sigma`` over a population of tabular policies plays
one policy per game; its *behaviour* policy (:func:`mixture_policy`) weights each member by its
own reach probability of the information set (Kuhn's theorem, realisation-equivalent):
``pi(I) = sum_k sigma_k x_k(I) pi_k(I) / sum_k sigma_k x_k(I)``.

References:
    Kuhn, "A simplified two-person poker", Contributions to the Theory of Games 1, 1950.
    Lanctot et al., "OpenSpiel: A Framework for Reinforcement Learning in Games", 2019.
"""

from __future__ import annotations

import itertools

import chex
import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "NUM_INFOSETS",
    "NUM_CARDS",
    "CARD_NAMES",
    "DEALS",
    "DECISIONS",
    "TERMINALS",
    "INFOSET_NAMES",
    "INFOSET_HISTORIES",
    "INFOSET_CARDS",
    "OPENSPIEL_KEYS",
    "infoset_index",
    "terminal_payoff",
    "uniform_policy",
    "equilibrium_policy",
    "check_policy",
    "expected_payoffs",
    "best_response_values",
    "nash_conv",
    "exploitability",
    "own_reach",
    "mixture_policy",
]

NUM_CARDS, NUM_INFOSETS, PASS, BET = 3, 12, 0, 1
CARD_NAMES = "JQK"
DEALS = np.array(list(itertools.permutations(range(NUM_CARDS), 2)), np.int32)  # [6, 2] (card 0, card 1)
#: Decision histories: (history, acting player, its decision index h within the player).
DECISIONS = (("", 0, 0), ("p", 1, 0), ("b", 1, 1), ("pb", 0, 1))
#: Terminal histories: (history, stake, folder or -1 for a showdown).
TERMINALS = (("pp", 1, -1), ("pbp", 1, 0), ("pbb", 2, -1), ("bp", 1, 1), ("bb", 2, -1))
#: The public history of each information set, in infoset order.
INFOSET_HISTORIES = tuple(h for player in (0, 1) for _ in range(NUM_CARDS) for h, p, _ in DECISIONS if p == player)
INFOSET_CARDS = tuple(c for player in (0, 1) for c in range(NUM_CARDS) for _, p, _ in DECISIONS if p == player)
INFOSET_NAMES = tuple(f"{CARD_NAMES[c]}{h or '-'}" for c, h in zip(INFOSET_CARDS, INFOSET_HISTORIES))
#: OpenSpiel's ``kuhn_poker`` information-state strings (card digit + history), in infoset order.
OPENSPIEL_KEYS = tuple(f"{c}{h}" for c, h in zip(INFOSET_CARDS, INFOSET_HISTORIES))


def infoset_index(player, card, decision):
    """``6 player + 2 card + decision`` (works on ints and arrays)."""
    return 6 * player + 2 * card + decision


def terminal_payoff(stake: int, folder: int, cards) -> float:
    """Player 0's payoff at a terminal: the folder loses the stake; a showdown pays the stake
    to the higher card."""
    if folder >= 0:
        return float(stake if folder == 1 else -stake)
    return float(stake if cards[0] > cards[1] else -stake)


def _tables():
    """Numpy tables of the tree, built once.

    ``path_infoset [Z, D, 3]`` (-1 padded) and ``path_action [Z, 3]``: the information sets and
    actions along each terminal history per deal; ``payoff [Z, D]`` to player 0.
    """
    decision_of = {h: (p, d) for h, p, d in DECISIONS}
    num_z, num_d = len(TERMINALS), len(DEALS)
    path_infoset = np.full((num_z, num_d, 3), -1, np.int32)
    path_action = np.zeros((num_z, 3), np.int32)
    path_player = np.full((num_z, 3), -1, np.int32)
    payoff = np.zeros((num_z, num_d), np.float32)
    for z, (history, stake, folder) in enumerate(TERMINALS):
        for depth, move in enumerate(history):
            player, decision = decision_of[history[:depth]]
            path_player[z, depth] = player
            path_action[z, depth] = BET if move == "b" else PASS
            for d, cards in enumerate(DEALS):
                path_infoset[z, d, depth] = infoset_index(player, cards[player], decision)
        for d, cards in enumerate(DEALS):
            payoff[z, d] = terminal_payoff(stake, folder, cards)
    return path_infoset, path_action, path_player, payoff


PATH_INFOSET, PATH_ACTION, PATH_PLAYER, PAYOFF = _tables()


def _best_response_plan(player: int):
    """For each own decision (deepest first) and action: the terminals reached with no further
    own decision, and the next own decision (or -1)."""
    own = [(h, d) for h, p, d in DECISIONS if p == player]
    plan = []
    for h, decision in sorted(own, key=lambda x: -len(x[0])):
        per_action = []
        for action, move in ((PASS, "p"), (BET, "b")):
            prefix = h + move
            direct = [
                z
                for z, (t, _, _) in enumerate(TERMINALS)
                if t.startswith(prefix) and not any(t[: len(g)] == g and len(g) > len(h) for g, _ in own)
            ]
            after = [d2 for g, d2 in own if g.startswith(prefix)]
            per_action.append((direct, after[0] if after else -1))
        plan.append((decision, per_action))
    roots = [d for h, d in own if not any(h.startswith(g) and len(g) < len(h) for g, _ in own)]
    return plan, roots


_PLANS = [_best_response_plan(0), _best_response_plan(1)]


def uniform_policy() -> jnp.ndarray:
    """``[12, 2]``: pass or bet with probability 1/2 everywhere."""
    return jnp.full((NUM_INFOSETS, 2), 0.5, jnp.float32)


def equilibrium_policy(alpha: float = 0.0) -> jnp.ndarray:
    """``[12, 2]``: Kuhn's equilibrium with player 0's bluffing rate ``alpha in [0, 1/3]``
    (see the module docstring); its exploitability is 0 and player 0's value -1/18."""
    if not 0.0 <= alpha <= 1.0 / 3.0 + 1e-12:
        raise ValueError(f"alpha must lie in [0, 1/3]; got {alpha!r}")
    bet = np.zeros((NUM_INFOSETS,), np.float64)
    jack, queen, king = 0, 1, 2
    bet[infoset_index(0, jack, 0)] = alpha
    bet[infoset_index(0, queen, 0)] = 0.0
    bet[infoset_index(0, king, 0)] = 3 * alpha
    bet[infoset_index(0, jack, 1)] = 0.0
    bet[infoset_index(0, queen, 1)] = alpha + 1.0 / 3.0
    bet[infoset_index(0, king, 1)] = 1.0
    bet[infoset_index(1, jack, 0)] = 1.0 / 3.0
    bet[infoset_index(1, queen, 0)] = 0.0
    bet[infoset_index(1, king, 0)] = 1.0
    bet[infoset_index(1, jack, 1)] = 0.0
    bet[infoset_index(1, queen, 1)] = 1.0 / 3.0
    bet[infoset_index(1, king, 1)] = 1.0
    return jnp.asarray(np.stack([1.0 - bet, bet], axis=1), jnp.float32)


def check_policy(policy) -> jnp.ndarray:
    """A ``[12, 2]`` table of distributions, checked outside jit (``ValueError`` otherwise)."""
    table = np.asarray(policy, np.float64)
    if table.shape != (NUM_INFOSETS, 2):
        raise ValueError(f"a Kuhn poker tabular policy is [12 infosets, 2 actions]; got shape {table.shape}")
    if not np.all(np.isfinite(table)) or np.any(table < -1e-6) or np.any(np.abs(table.sum(1) - 1.0) > 1e-4):
        raise ValueError("every row of a Kuhn poker policy must be a probability distribution over (pass, bet)")
    return jnp.asarray(policy)


def _reach(policy, player: int) -> chex.Array:
    """``[Z, D]``: ``player``'s own probability of its actions on each terminal's path."""
    probs = policy[jnp.maximum(PATH_INFOSET, 0), PATH_ACTION[:, None, :]]  # [Z, D, 3]
    mine = (PATH_INFOSET >= 0) & (PATH_PLAYER[:, None, :] == player)
    return jnp.prod(jnp.where(mine, probs, 1.0), axis=-1)


@jax.jit
def expected_payoffs(policy: chex.Array) -> chex.Array:
    """``[2]``: each player's expected payoff when both play the tabular ``policy`` [12, 2]."""
    value = jnp.sum(_reach(policy, 0) * _reach(policy, 1) * PAYOFF) / len(DEALS)
    return jnp.stack([value, -value])


def _best_response_value(policy, player: int) -> chex.Array:
    opponent_reach = _reach(policy, 1 - player)  # [Z, D]
    sign = 1.0 if player == 0 else -1.0
    weighted = sign * opponent_reach * PAYOFF / len(DEALS)  # [Z, D] chance x opponent reach x payoff
    own_card = DEALS[:, player]  # [D]
    by_card = jax.nn.one_hot(own_card, NUM_CARDS).T  # [C, D]: sum a terminal's deals per own card
    plan, roots = _PLANS[player]
    value = {}  # own decision -> [C] best-response value per own card
    for decision, per_action in plan:
        q = []
        for direct, after in per_action:
            total = by_card @ weighted[jnp.asarray(direct)].sum(0) if direct else jnp.zeros((NUM_CARDS,))
            q.append(total + (value[after] if after >= 0 else 0.0))
        value[decision] = jnp.maximum(q[0], q[1])
    return sum(value[d].sum() for d in roots)


@jax.jit
def best_response_values(policy: chex.Array) -> chex.Array:
    """``[2]``: player ``i``'s best-response value against the other's part of ``policy``."""
    return jnp.stack([_best_response_value(policy, 0), _best_response_value(policy, 1)])


@jax.jit
def nash_conv(policy: chex.Array) -> chex.Array:
    """``sum_i (BR_i(policy_-i) - u_i(policy))`` (OpenSpiel's ``nash_conv``)."""
    return jnp.sum(best_response_values(policy) - expected_payoffs(policy))


@jax.jit
def exploitability(policy: chex.Array) -> chex.Array:
    """``nash_conv / 2`` (OpenSpiel's ``exploitability``: the mean best-response gain; for this
    zero-sum game, the mean of the two best-response values)."""
    return nash_conv(policy) / 2.0


def own_reach(policy: chex.Array) -> chex.Array:
    """``[12]``: the owner's own probability of the actions that lead to each information set
    (1 at first decisions; at player 0's ``"pb"`` the probability of having passed)."""
    first0 = infoset_index(0, jnp.arange(NUM_CARDS), 0)
    reach = jnp.ones((NUM_INFOSETS,), policy.dtype)
    return reach.at[infoset_index(0, jnp.arange(NUM_CARDS), 1)].set(policy[first0, PASS])


@jax.jit
def mixture_policy(policies: chex.Array, weights: chex.Array) -> chex.Array:
    """``[12, 2]``: the behaviour policy of playing ``policies [K, 12, 2]`` with probabilities
    ``weights [K]`` (one drawn per game), each member weighted by its own reach of the
    information set; an information set no member reaches gets the plain weighted average."""
    reach = jax.vmap(own_reach)(policies) * weights[:, None]  # [K, 12]
    total = reach.sum(0)
    plain = jnp.einsum("k,kia->ia", weights, policies) / jnp.sum(weights)
    mixed = jnp.einsum("ki,kia->ia", reach, policies) / jnp.where(total > 0, total, 1.0)[:, None]
    return jnp.where((total > 0)[:, None], mixed, plain)
