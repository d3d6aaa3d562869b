"""Payoff tensors: the classic catalog and random game generators.

Every game is a float32 tensor ``u`` of shape ``[n, A_1, ..., A_n]`` (see
:mod:`marljax.solvers.nash`). Two-player games are ``[2, A, B]`` with the row player first.
Known equilibria of the catalog games are listed in :data:`NASH_EQUILIBRIA` (and the tests
check each of them through ``nash_conv``).

Catalog (two players):
  * prisoner's dilemma ``(R, S, T, P) = (3, 0, 5, 1)`` -- unique NE: defect/defect.
  * stag hunt (stag-stag 4, stag-hare 0, hare-stag 3, hare-hare 3) -- NE: stag/stag
    (payoff dominant), hare/hare (risk dominant) and the mix ``(3/4 stag)``.
  * chicken (swerve/straight; crash -10, win 1, lose -1) -- pure NE at the two asymmetric
    outcomes; mixed NE with 0.9 swerve.
  * battle of the sexes (opera/football; 3/2 and 2/3) -- two pure NE; mixed NE row
    ``(3/5, 2/5)``, column ``(2/5, 3/5)``.
  * matching pennies, rock-paper-scissors -- unique NE uniform.
  * biased RPS (zero-sum) -- unique NE ``(1/16, 10/16, 5/16)``.
  * Shapley's game -- unique NE uniform; fictitious play cycles on it (Shapley, 1964).
  * high-risk game (row: gamble/safe, column: normal/trap) -- best responses cycle, so the only
    NE is mixed: row ``(1/3, 2/3)``, column ``(43/47, 4/47)``; the gamble pays 3 but loses 20
    against the rare trap. The test game for risk-averse equilibria.

Generators (each takes a PRNG key): random general-sum, random zero-sum, random symmetric
zero-sum (skew-symmetric), potential games, and the games of skill of Czarnecki et al.
(2020), "Real World Games Look Like Spinning Tops": transitive (Elo-like), cyclic,
the disc game, and transitive/cyclic mixtures.
"""

from __future__ import annotations

from typing import Sequence

import chex
import jax
import jax.numpy as jnp

__all__ = [
    "prisoners_dilemma",
    "stag_hunt",
    "chicken",
    "battle_of_the_sexes",
    "matching_pennies",
    "rock_paper_scissors",
    "biased_rps",
    "shapley_game",
    "high_risk_game",
    "bimatrix",
    "symmetric_zero_sum",
    "random_general_sum",
    "random_zero_sum",
    "random_symmetric_zero_sum",
    "potential_game",
    "transitive_game",
    "cyclic_game",
    "disc_game",
    "spinning_top_game",
    "CATALOG",
    "NASH_EQUILIBRIA",
]


def bimatrix(row_payoffs, column_payoffs) -> chex.Array:
    """Stack the row player's ``[A, B]`` and column player's ``[A, B]`` matrices."""
    return jnp.stack([jnp.asarray(row_payoffs), jnp.asarray(column_payoffs)]).astype(jnp.float32)


def symmetric_zero_sum(matrix) -> chex.Array:
    """The two-player symmetric zero-sum game of a skew-symmetric ``M``: ``u_1 = M, u_2 = M^T``
    (player 2 gets ``M[b, a] = -M[a, b]``)."""
    m = jnp.asarray(matrix, jnp.float32)
    return jnp.stack([m, m.T])


def _symmetric(row_payoffs) -> chex.Array:
    """Symmetric two-player game: the column player's matrix is the row player's transposed."""
    m = jnp.asarray(row_payoffs, jnp.float32)
    return bimatrix(m, m.T)


# ----------------------------------------------------------------------------- catalog


def prisoners_dilemma(reward=3.0, sucker=0.0, temptation=5.0, punishment=1.0) -> chex.Array:
    """Actions (cooperate, defect). Needs ``T > R > P > S`` to be a dilemma."""
    return _symmetric([[reward, sucker], [temptation, punishment]])


def stag_hunt(stag_stag=4.0, stag_hare=0.0, hare_stag=3.0, hare_hare=3.0) -> chex.Array:
    """Actions (stag, hare); ``stag_hare`` is what a stag hunter gets when the other hunts hare.

    With the defaults both pure profiles are equilibria: stag/stag is payoff dominant and
    hare/hare risk dominant; the mixed one plays stag with probability
    ``(hare_hare - stag_hare) / (stag_stag - stag_hare - hare_stag + hare_hare)`` = 3/4.
    """
    return _symmetric([[stag_stag, stag_hare], [hare_stag, hare_hare]])


def chicken(crash=-10.0, win=1.0, lose=-1.0, tie=0.0) -> chex.Array:
    """Actions (swerve, straight)."""
    return _symmetric([[tie, lose], [win, crash]])


def battle_of_the_sexes() -> chex.Array:
    """Actions (opera, football); the row player prefers opera (3 vs 2), the column football."""
    return bimatrix([[3.0, 0.0], [0.0, 2.0]], [[2.0, 0.0], [0.0, 3.0]])


def matching_pennies() -> chex.Array:
    """Actions (heads, tails); the row player wins on a match."""
    m = jnp.array([[1.0, -1.0], [-1.0, 1.0]])
    return bimatrix(m, -m)


def rock_paper_scissors() -> chex.Array:
    """Actions (rock, paper, scissors); win 1, lose -1."""
    return symmetric_zero_sum([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]])


def biased_rps() -> chex.Array:
    """The biased RPS of the PSRO literature; unique NE ``(1, 10, 5) / 16`` for both."""
    return symmetric_zero_sum([[0.0, -0.25, 0.5], [0.25, 0.0, -0.05], [-0.5, 0.05, 0.0]])


def shapley_game() -> chex.Array:
    """Shapley's 3x3 game: unique NE uniform; fictitious play does not converge on it."""
    row = jnp.eye(3)
    column = jnp.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    return bimatrix(row, column)


def high_risk_game(gamble=3.0, catastrophe=-20.0, safe=1.0, safe_vs_trap=1.5) -> chex.Array:
    """A game with a rare catastrophic outcome and only a mixed Nash equilibrium.

    Row actions (gamble, safe), column actions (normal, trap). The gamble pays ``gamble``
    against normal play but ``catastrophe`` against the trap; safe pays ``safe`` (or
    ``safe_vs_trap`` against the trap). The column player gains 2 by trapping a gambler, 1 by
    playing normally against a safe row, 0 otherwise. Best responses cycle (gamble -> trap ->
    safe -> normal -> gamble), so there is no pure equilibrium; with the defaults the unique NE
    is row ``(1/3, 2/3)``, column ``(43/47, 4/47)``: the trap is rare (p = 0.085) but the row
    player's reward variance is large (13.7). A risk-averse row gambles less, which makes the
    trap rarer still (Slumbers et al., 2023, motivate RAE with such games).
    """
    return bimatrix([[gamble, catastrophe], [safe, safe_vs_trap]], [[0.0, 2.0], [1.0, 0.0]])


CATALOG = {
    "prisoners_dilemma": prisoners_dilemma,
    "stag_hunt": stag_hunt,
    "chicken": chicken,
    "battle_of_the_sexes": battle_of_the_sexes,
    "matching_pennies": matching_pennies,
    "rock_paper_scissors": rock_paper_scissors,
    "biased_rps": biased_rps,
    "shapley_game": shapley_game,
    "high_risk_game": high_risk_game,
}

#: Every Nash equilibrium of each catalog game (default parameters), as (row, column) mixtures.
NASH_EQUILIBRIA = {
    "prisoners_dilemma": [((0.0, 1.0), (0.0, 1.0))],
    "stag_hunt": [((1.0, 0.0), (1.0, 0.0)), ((0.0, 1.0), (0.0, 1.0)), ((0.75, 0.25), (0.75, 0.25))],
    "chicken": [((1.0, 0.0), (0.0, 1.0)), ((0.0, 1.0), (1.0, 0.0)), ((0.9, 0.1), (0.9, 0.1))],
    "battle_of_the_sexes": [((1.0, 0.0), (1.0, 0.0)), ((0.0, 1.0), (0.0, 1.0)), ((0.6, 0.4), (0.4, 0.6))],
    "matching_pennies": [((0.5, 0.5), (0.5, 0.5))],
    "rock_paper_scissors": [((1 / 3, 1 / 3, 1 / 3), (1 / 3, 1 / 3, 1 / 3))],
    "biased_rps": [((1 / 16, 10 / 16, 5 / 16), (1 / 16, 10 / 16, 5 / 16))],
    "shapley_game": [((1 / 3, 1 / 3, 1 / 3), (1 / 3, 1 / 3, 1 / 3))],
    "high_risk_game": [((1 / 3, 2 / 3), (43 / 47, 4 / 47))],
}


# -------------------------------------------------------------------------- generators


def random_general_sum(key: chex.PRNGKey, num_actions: Sequence[int]) -> chex.Array:
    """``n = len(num_actions)`` players, payoffs i.i.d. uniform in [0, 1)."""
    num_actions = tuple(int(a) for a in num_actions)
    return jax.random.uniform(key, (len(num_actions), *num_actions), jnp.float32)


def random_zero_sum(key: chex.PRNGKey, num_actions: Sequence[int]) -> chex.Array:
    """Two players, ``u_1`` uniform in [-1, 1), ``u_2 = -u_1``."""
    m = jax.random.uniform(key, tuple(num_actions), jnp.float32, -1.0, 1.0)
    return bimatrix(m, -m)


def random_symmetric_zero_sum(key: chex.PRNGKey, num_actions: int) -> chex.Array:
    """Symmetric zero-sum: ``u_1 = M`` with ``M = X - X^T`` skew-symmetric, ``u_2 = M^T``."""
    x = jax.random.uniform(key, (num_actions, num_actions), jnp.float32, -1.0, 1.0)
    return symmetric_zero_sum(x - x.T)


def potential_game(key: chex.PRNGKey, num_actions: Sequence[int], return_potential: bool = False):
    """An exact potential game (Monderer & Shapley, 1996).

    ``u_i(a) = phi(a) + c_i(a_-i)``: every unilateral change of action changes the deviator's
    payoff by exactly the change of the potential ``phi``. Returns the payoffs, or
    ``(payoffs, phi)`` with ``return_potential=True``.
    """
    num_actions = tuple(int(a) for a in num_actions)
    n = len(num_actions)
    phi_key, *keys = jax.random.split(key, n + 1)
    phi = jax.random.uniform(phi_key, num_actions, jnp.float32)
    # c_i ignores player i's own action: size 1 along axis i, broadcast over it.
    payoffs = jnp.stack(
        [
            phi + jax.random.uniform(k, num_actions[:i] + (1,) + num_actions[i + 1 :], jnp.float32)
            for i, k in enumerate(keys)
        ]
    )
    return (payoffs, phi) if return_potential else payoffs


def transitive_game(key: chex.PRNGKey, num_actions: int) -> chex.Array:
    """Purely transitive (Elo-like) symmetric zero-sum game: ``M[a, b] = s_a - s_b`` with
    Gaussian strengths ``s``. The strongest strategy is the unique NE."""
    s = jax.random.normal(key, (num_actions,), jnp.float32)
    return symmetric_zero_sum(s[:, None] - s[None, :])


def cyclic_game(key: chex.PRNGKey, num_actions: int) -> chex.Array:
    """Purely cyclic symmetric zero-sum game: a regular tournament on randomly permuted labels.

    Strategy ``a`` beats the ``(n-1)//2`` strategies after it around a circle and loses to
    those before it (payoffs +-1). For odd ``n`` the uniform mixture is the unique NE.
    """
    n = num_actions
    offset = (jnp.arange(n)[None, :] - jnp.arange(n)[:, None]) % n
    half = (n - 1) // 2
    m = jnp.where((offset >= 1) & (offset <= half), 1.0, 0.0)
    m = m - m.T
    perm = jax.random.permutation(key, n)
    return symmetric_zero_sum(m[perm][:, perm])


def disc_game(key: chex.PRNGKey, num_actions: int) -> chex.Array:
    """The disc game: strategies are points ``x`` uniform in the unit disc, and
    ``M[a, b] = x_a^T [[0, -1], [1, 0]] x_b`` (Balduzzi et al., 2019)."""
    r_key, t_key = jax.random.split(key)
    radius = jnp.sqrt(jax.random.uniform(r_key, (num_actions,)))
    angle = 2 * jnp.pi * jax.random.uniform(t_key, (num_actions,))
    x = jnp.stack([radius * jnp.cos(angle), radius * jnp.sin(angle)], axis=-1)
    rot = jnp.array([[0.0, -1.0], [1.0, 0.0]])
    return symmetric_zero_sum(x @ rot @ x.T)


def spinning_top_game(key: chex.PRNGKey, num_actions: int, transitive_weight: float = 0.5):
    """A mixture of a transitive and a cyclic (disc) game: a 'spinning top' with a strong
    transitive axis and cycles around it, the shape Czarnecki et al. (2020) find in real games.
    """
    t_key, c_key = jax.random.split(key)
    m = transitive_weight * transitive_game(t_key, num_actions)[0]
    m = m + (1.0 - transitive_weight) * disc_game(c_key, num_actions)[0]
    return symmetric_zero_sum(m)
