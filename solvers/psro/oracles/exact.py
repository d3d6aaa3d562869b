"""PSRO's exact oracle for normal-form games: a pure best response to the others' mixture.

For player ``i`` facing the others' mixed profile ``sigma_-i``, the value of each pure action is

.. math::

    v_i(a) = m_i(a) - \\gamma \\Sigma_i(a, a), \\qquad
    m_i(a) = \\mathbb{E}_{b \\sim \\sigma_{-i}} u_i(a, b), \\quad
    \\Sigma_i(a, a) = \\mathrm{Var}_{b \\sim \\sigma_{-i}} u_i(a, b),

and the oracle answers ``argmax_a v_i(a)``. With ``gamma = 0`` that is the usual best response
(``m_i`` is :func:`marljax.solvers.game.payoffs.deviation_payoffs`); with ``gamma > 0`` it is the
pure action a risk-averse player prefers (mean minus ``gamma`` times variance), which PSRO-RAE
uses (Slumbers et al., 2023).

:func:`population_best_response` is what the PSRO loop calls: on ties it prefers an action the
population already holds, so "no new best response" means exactly that no action outside the
population is strictly better, the oracle's convergence criterion.

References:
    Lanctot et al., "A Unified Game-Theoretic Approach to Multiagent Reinforcement Learning",
    NeurIPS 2017. Slumbers et al., "A Game-Theoretic Framework for Managing Risk in Multi-Agent
    Systems", ICML 2023.
"""

from __future__ import annotations

from typing import Sequence

import chex
import jax.numpy as jnp

from marljax.solvers.equilibria.rae import opponent_moments
from marljax.solvers.game import payoffs as normal_form

__all__ = ["action_values", "exact_best_response", "population_best_response"]


def action_values(payoffs: chex.Array, profile: Sequence[chex.Array], gamma: float = 0.0) -> list:
    """``v_i [A_i]`` per player: the value of each pure action against the others' mixture.

    Args:
        payoffs: ``[n, A_1, ..., A_n]`` payoff tensor.
        profile: one mixed strategy per player (player ``i``'s own entry is ignored).
        gamma: risk aversion ``>= 0`` (a Python float: it picks the code path).

    Returns:
        A list of ``n`` arrays, ``m_i - gamma diag(Sigma_i)``.
    """
    if gamma == 0:
        return normal_form.deviation_payoffs(payoffs, profile)
    values = []
    for i in range(payoffs.shape[0]):
        mean, cov = opponent_moments(payoffs, profile, i)
        values.append(mean - gamma * jnp.diag(cov))
    return values


def exact_best_response(payoffs: chex.Array, profile: Sequence[chex.Array], gamma: float = 0.0) -> chex.Array:
    """``[n]`` int32: each player's pure best response ``argmax_a v_i(a)`` (first on ties).

    Args:
        payoffs: ``[n, A_1, ..., A_n]`` payoff tensor.
        profile: one mixed strategy per player.
        gamma: risk aversion ``>= 0``; 0 gives the plain best response.
    """
    return jnp.stack([jnp.argmax(v) for v in action_values(payoffs, profile, gamma)]).astype(jnp.int32)


def population_best_response(
    payoffs: chex.Array,
    profile: Sequence[chex.Array],
    population: chex.Array,
    sizes: chex.Array,
    gamma: float = 0.0,
) -> tuple[chex.Array, chex.Array]:
    """The oracle's answer for a population: ``(best [n] int32, new [n] bool)``.

    Player ``i``'s answer is the best action its population already holds when that ties with
    the best action overall (``new[i]`` false), else the best action overall (``new[i]`` true).

    Args:
        payoffs: ``[n, A_1, ..., A_n]`` payoff tensor.
        profile: the mixed profile the meta-strategy induces.
        population: ``[n, K]`` int32, the pure action in each slot.
        sizes: ``[n]`` filled slots per player (slot ``k`` is filled when ``k < sizes[i]``).
        gamma: risk aversion ``>= 0``.
    """
    filled = jnp.arange(population.shape[1])[None, :] < sizes[:, None]
    best, new = [], []
    for i, values in enumerate(action_values(payoffs, profile, gamma)):
        held = jnp.where(filled[i], values[population[i]], -jnp.inf)
        slot = jnp.argmax(held)
        is_new = values[population[i, slot]] < jnp.max(values)
        best.append(jnp.where(is_new, jnp.argmax(values), population[i, slot]))
        new.append(is_new)
    return jnp.stack(best).astype(jnp.int32), jnp.stack(new)
