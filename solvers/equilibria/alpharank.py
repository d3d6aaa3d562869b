"""alpha-Rank (Omidshafiei et al. 2019, "alpha-Rank: Multi-Agent Evaluation by Evolution").

The multi-population model for n-player games: a Markov chain over pure profiles
``s = (s_1, ..., s_n)`` in which one player's population at a time is invaded by a mutant
strategy. From ``s`` to ``s'`` that differs only in player ``k``'s strategy,

    C[s, s'] = rho_k(s, s') / sum_k (A_k - 1),

with the fixation probability of the mutant in a population of size ``m`` under ranking
intensity ``alpha`` (the Fermi / Moran process of the paper, Eq. 2)

    rho = (1 - exp(-alpha d)) / (1 - exp(-m alpha d))   for d = u_k(s') - u_k(s) != 0,
    rho = 1 / m                                          for d = 0,

and ``C[s, s] = 1 - sum_{s' != s} C[s, s']``. The ranking is the stationary distribution
``pi`` of ``C`` (``pi C = pi``). The large-alpha limit (``alpha = inf``, the paper's
Theorem 2.1.3 regime) takes ``rho -> 1`` for improving mutants, ``0`` for worse and ``1/m`` for
ties; the chain can then be reducible, so -- as OpenSpiel does -- every transition is mixed
with a small ``epsilon`` of the tie rate to pick the limit of a unique stationary distribution.

**Masks** (PSRO's preallocated populations): ``masks[k]`` marks player ``k``'s strategies that
exist. Mutants only come from existing strategies and ``eta = 1 / sum_k (|allowed_k| - 1)``, so
on the allowed profiles the chain *is* the sub-game's; every profile that uses a missing
strategy moves at once to one that swaps it for an allowed one, which makes those profiles
transient. The stationary distribution is therefore exactly the sub-game's alpha-Rank, padded
with zeros (no ``exp(-alpha)`` leak as with strictly dominated placeholders).

Results: ``stationary [A_1..A_n]`` (mass per profile), ``profile`` = its marginals (each
player's strategy mass, the usual alpha-Rank "strategy scores"), ``nash_conv`` of that profile
(alpha-Rank is not a Nash solver; reported so callers can compare), ``success`` = the linear
solve gave a finite distribution.
"""

from __future__ import annotations

import chex
import jax.numpy as jnp
import numpy as np
from flax import struct

from marljax import checks
from marljax.solvers.base import (
    dominate_empty_slots,
    float64,
    jit_when_concrete,
    masks_option,
    output_dtype,
    validated,
)
from marljax.solvers.equilibria.correlated import marginals
from marljax.solvers.game import payoffs as normal_form
from marljax.solvers.game.simplex import normalise

__all__ = ["alpharank", "AlphaRankResult", "transition_matrix", "fixation_probability"]


@struct.dataclass
class AlphaRankResult:
    profile: tuple
    nash_conv: chex.Array
    success: chex.Array
    stationary: chex.Array
    transitions: chex.Array


def fixation_probability(payoff_gain: chex.Array, alpha, population_size: int) -> chex.Array:
    """``rho(d) = (1 - e^{-alpha d}) / (1 - e^{-m alpha d})``, ``1/m`` at ``d = 0``; stable for
    large ``|alpha d|`` and exact at ``alpha = inf``."""
    m = population_size
    z = alpha * jnp.where(payoff_gain == 0, 1.0, payoff_gain)
    # z > 0: (-expm1(-z)) / (-expm1(-m z)); z < 0: multiply through by e^{m z} to stay finite.
    z_pos = jnp.where(z > 0, z, 1.0)
    z_neg = jnp.where(z < 0, z, -1.0)
    gain = jnp.expm1(-z_pos) / jnp.expm1(-m * z_pos)
    loss = jnp.exp((m - 1) * z_neg) * jnp.expm1(z_neg) / jnp.expm1(m * z_neg)
    neutral = (payoff_gain == 0) | (z == 0)
    return jnp.where(neutral, 1.0 / m, jnp.where(z > 0, gain, loss))


def _neighbours(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Static index lists of every (profile, one-player deviation) pair: ``(source, target, player)``."""
    profiles = np.arange(int(np.prod(shape))).reshape(shape)
    sources, targets, players = [], [], []
    for k, size in enumerate(shape):
        for shift in range(1, size):
            rolled = np.roll(profiles, -shift, axis=k)  # same profile with player k's strategy moved
            sources.append(profiles.ravel())
            targets.append(rolled.ravel())
            players.append(np.full(profiles.size, k))
    return np.concatenate(sources), np.concatenate(targets), np.concatenate(players)


def transition_matrix(
    payoffs: chex.Array, alpha, population_size: int, epsilon: float = 1e-8, masks=None
) -> chex.Array:
    """The ``[S, S]`` alpha-Rank Markov chain over the ``S = prod A_k`` pure profiles (C order);
    with ``masks``, the sub-game's chain plus transient moves out of profiles it excludes."""
    shape = payoffs.shape[1:]
    sources, targets, players = _neighbours(shape)
    flat = payoffs.reshape(payoffs.shape[0], -1)
    gain = flat[players, targets] - flat[players, sources]
    rho = fixation_probability(gain, alpha, population_size)
    if np.isinf(alpha):
        rho = (1.0 - epsilon) * rho + epsilon / population_size
    size = int(np.prod(shape))
    if masks is None:
        rate = rho / sum(a - 1 for a in shape)
    else:
        padded = jnp.stack([jnp.pad(m, (0, max(shape) - m.shape[0])) for m in masks])  # [n, max A]
        strategy = np.stack(np.unravel_index(np.arange(size), shape))  # [n, S]: who plays what
        exists = padded[np.arange(len(shape))[:, None], strategy]  # [n, S]
        allowed = jnp.all(exists, axis=0)  # [S]: the profile uses existing strategies only
        src_ok, tgt_ok = exists[players, sources], exists[players, targets]
        mutants = sum(jnp.sum(m) - 1 for m in masks)
        inside = allowed[sources] & tgt_ok
        repair = ~src_ok & tgt_ok  # swap a missing strategy for an existing one
        repairs = jnp.zeros(size, payoffs.dtype).at[sources].add(repair.astype(payoffs.dtype))
        rate = jnp.where(inside, rho / jnp.maximum(mutants, 1), 0.0) + jnp.where(
            repair, 1.0 / jnp.maximum(repairs[sources], 1.0), 0.0
        )
    c = jnp.zeros((size, size), payoffs.dtype).at[sources, targets].add(rate)
    return c + jnp.diag(1.0 - jnp.sum(c, axis=1))


@validated(
    alpha=checks.number(0.0, infinite=True),
    population_size=checks.integer(2),
    epsilon=checks.number(0.0, 1.0, open_low=True),
    masks=masks_option,
)
def alpharank(
    payoffs: chex.Array, alpha: float = 10.0, population_size: int = 50, epsilon: float = 1e-8, masks=None
) -> AlphaRankResult:
    """alpha-Rank of an n-player game.

    Args:
      payoffs: ``[n, A_1, ..., A_n]`` payoff tensor (any number of players).
      alpha: ranking intensity (``float('inf')`` for the large-alpha limit; static).
      population_size: ``m >= 2``, the size of each player's population (static).
      epsilon: mixing rate that keeps the ``alpha = inf`` chain irreducible.
      masks: optional per-player ``[A_k]`` bools, the strategies that exist; the result is the
        alpha-Rank of that sub-game (zeros elsewhere), and ``nash_conv`` counts only deviations
        to existing strategies.
    Returns:
      :class:`AlphaRankResult`; jit- and vmap-able over games.
    """
    if all(a == 1 for a in payoffs.shape[1:]):
        raise ValueError("alpha-Rank needs at least one player with two or more strategies")
    return _alpharank(payoffs, alpha, population_size, epsilon, masks)


@jit_when_concrete(static_argnums=(1, 2, 3))
def _alpharank(payoffs, alpha, population_size, epsilon, masks) -> AlphaRankResult:
    dtype = output_dtype(payoffs)
    with float64():
        game = jnp.asarray(payoffs, jnp.float64)
        c = transition_matrix(game, alpha, int(population_size), epsilon, masks)
        size = c.shape[0]
        # pi (C - I) = 0 with sum pi = 1: replace one (redundant) balance equation by the sum.
        system = (c - jnp.eye(size)).T.at[-1].set(1.0)
        pi = jnp.linalg.solve(system, jnp.zeros(size).at[-1].set(1.0))
        ok = jnp.all(jnp.isfinite(pi)) & (jnp.min(pi) > -1e-8)
        stationary = normalise(pi).reshape(game.shape[1:])
        profile = marginals(stationary)
        return AlphaRankResult(
            profile=tuple(p.astype(dtype) for p in profile),
            nash_conv=normal_form.nash_conv(
                game if masks is None else dominate_empty_slots(game, masks), profile
            ).astype(dtype),
            success=ok,
            stationary=stationary.astype(dtype),
            transitions=c.astype(dtype),
        )
