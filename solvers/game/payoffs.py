"""Normal-form game functions: expected payoffs, deviation payoffs and NashConv.

A game with ``n`` players is a payoff tensor ``u`` of shape ``[n, A_1, ..., A_n]``:
``u[i, a_1, ..., a_n]`` is player ``i``'s payoff for the pure joint action ``(a_1, ..., a_n)``.
A mixed profile is a tuple ``(pi_1, ..., pi_n)`` of simplex vectors, ``pi_i`` of size ``A_i``.

All functions are exact, jit-able and vmap-able over batches of games and profiles. Integer
payoffs are promoted to float (the profile is never cast to an integer dtype). Called outside
jit they validate their inputs (shape, NaN/inf payoffs, off-simplex strategies) and raise
``ValueError`` with the problem named.
"""

from __future__ import annotations

from typing import Sequence

import chex
import jax.numpy as jnp

from marljax.checks import check_profile
from marljax.solvers.base import validate_game

__all__ = [
    "deviation_payoffs",
    "expected_payoffs",
    "nash_conv",
    "exploitability",
    "uniform_profile",
    "pure_profile",
]

Profile = Sequence[chex.Array]


def _validated(payoffs, profile):
    """The float payoffs and the profile in their dtype (checked when concrete)."""
    payoffs = validate_game(payoffs)
    check_profile(profile, payoffs.shape[1:])
    return payoffs, [jnp.asarray(p, payoffs.dtype) for p in profile]


def _against_others(u_i: chex.Array, profile: Profile, i: int) -> chex.Array:
    """Contract every axis of ``u_i [A_1..A_n]`` except axis ``i`` with that player's
    strategy. Contracting from the last axis backwards keeps the lower axis indices valid."""
    x = u_i
    for j in reversed(range(len(profile))):
        if j != i:
            x = jnp.tensordot(x, profile[j], axes=([j], [0]))
    return x


def deviation_payoffs(payoffs: chex.Array, profile: Profile) -> list[chex.Array]:
    """``dev_i[a] = E_{a_-i ~ pi_-i} u_i(a, a_-i)`` for every player ``i`` and pure action ``a``.

    Returns a list of ``n`` arrays, the ``i``-th of shape ``[A_i]``.
    """
    payoffs, profile = _validated(payoffs, profile)
    return [_against_others(payoffs[i], profile, i) for i in range(len(profile))]


def expected_payoffs(payoffs: chex.Array, profile: Profile) -> chex.Array:
    """``[n]`` expected payoff of each player under the mixed profile."""
    devs = deviation_payoffs(payoffs, profile)
    return jnp.stack([d @ jnp.asarray(p, d.dtype) for d, p in zip(devs, profile)])


def nash_conv(payoffs: chex.Array, profile: Profile) -> chex.Array:
    """``NashConv(pi) = sum_i (max_a dev_i[a] - u_i(pi))``.

    Non-negative, and zero exactly at a Nash equilibrium (Lanctot et al., 2017).
    """
    devs = deviation_payoffs(payoffs, profile)
    gains = [jnp.max(d) - d @ jnp.asarray(p, d.dtype) for d, p in zip(devs, profile)]
    return jnp.sum(jnp.stack(gains))


def exploitability(payoffs: chex.Array, profile: Profile) -> chex.Array:
    """NashConv divided by the number of players (the usual figure for two-player zero-sum)."""
    return nash_conv(payoffs, profile) / jnp.asarray(payoffs).shape[0]


def uniform_profile(payoffs: chex.Array) -> tuple[chex.Array, ...]:
    """Every player mixes uniformly over its actions (in the payoffs' float dtype)."""
    payoffs = validate_game(payoffs)
    return tuple(jnp.full((a,), 1.0 / a, payoffs.dtype) for a in payoffs.shape[1:])


def pure_profile(payoffs: chex.Array, actions: Sequence[int]) -> tuple[chex.Array, ...]:
    """The profile in which player ``i`` plays pure action ``actions[i]``."""
    payoffs = validate_game(payoffs)
    return tuple(jnp.zeros((a,), payoffs.dtype).at[k].set(1.0) for a, k in zip(payoffs.shape[1:], actions))
