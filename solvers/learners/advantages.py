"""Advantage estimation for actor-critic learners: GAE and the time-limit bootstrap.

Both act on time-major arrays ``[T, ...]`` (any trailing batch shape: envs, agents), one
rollout of ``T`` steps collected from auto-resetting envs, so an episode may end anywhere in it.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp

__all__ = ["generalized_advantages", "bootstrap_truncated_rewards"]


def generalized_advantages(
    rewards: chex.Array,
    values: chex.Array,
    dones: chex.Array,
    last_value: chex.Array,
    gamma: float,
    lam: float,
) -> tuple[chex.Array, chex.Array]:
    r"""Generalised advantage estimates and the value targets they imply.

    With :math:`c_t = 1 - d_t` (0 where step :math:`t` ended an episode, so nothing flows
    back across the boundary into the next episode's first step) and
    :math:`V_T` = ``last_value``:

    .. math::

        \delta_t &= r_t + \gamma\, c_t\, V_{t+1} - V_t \\
        A_t &= \delta_t + \gamma \lambda\, c_t\, A_{t+1}, \qquad A_T = 0 \\
        R_t &= A_t + V_t

    ``lam = 0`` gives the one-step TD error, ``lam = 1`` the Monte-Carlo return minus the
    baseline. An episode cut short by a time limit should have had the value of its final
    observation folded into its last reward first (:func:`bootstrap_truncated_rewards`).

    Args:
        rewards: ``[T, ...]`` reward of each step.
        values: ``[T, ...]`` the critic's value of the observation each step started from.
        dones: ``[T, ...]`` bool or 0/1, the step ended its episode (terminated or truncated).
        last_value: ``[...]`` the critic's value of the observation after the last step.
        gamma: discount factor.
        lam: GAE's :math:`\lambda`, trading bias (0) for variance (1).

    Returns:
        ``(advantages, targets)``, both ``[T, ...]``: :math:`A_t` and :math:`R_t = A_t + V_t`
        (the critic's regression target).

    References:
        Schulman et al. 2016, "High-Dimensional Continuous Control Using Generalized Advantage
        Estimation", https://arxiv.org/abs/1506.02438
    """

    def backward(carry, step):
        advantage, next_value = carry
        reward, value, done = step
        live = 1.0 - done
        delta = reward + gamma * next_value * live - value
        advantage = delta + gamma * lam * live * advantage
        return (advantage, value), advantage

    start = (jnp.zeros_like(last_value), last_value)
    _, advantages = jax.lax.scan(backward, start, (rewards, values, dones), reverse=True, unroll=8)
    return advantages, advantages + values


def bootstrap_truncated_rewards(
    rewards: chex.Array, dones: chex.Array, discounts: chex.Array, final_values: chex.Array, gamma: float
) -> chex.Array:
    r"""Complete the last reward of an episode cut short by a time limit with the value of where it stopped.

    .. math::

        \tilde r_t = r_t + d_t\, \gamma\, \gamma_t\, V(o^{\text{final}}_{t+1})

    with :math:`\gamma_t` the env's discount of the step: 1 for a truncation (the world went
    on, only the clock stopped), 0 for a termination (nothing follows, nothing is added). The
    value target then no longer depends on a clock the agent cannot see (partial-episode
    bootstrapping).

    Args:
        rewards: reward of a step (any shape).
        dones: bool, the step ended its episode.
        discounts: the env's discount of the step (1 truncation, 0 termination).
        final_values: the critic's value of the episode's final observation (before the reset).
        gamma: discount factor.

    Returns:
        The rewards with the bootstrap added where ``dones``.

    References:
        Pardo et al. 2018, "Time Limits in Reinforcement Learning", https://arxiv.org/abs/1712.00378
    """
    return rewards + jnp.where(dones, gamma * discounts * final_values, 0.0)
