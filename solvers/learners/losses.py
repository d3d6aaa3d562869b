r"""The PPO objective, term by term.

With the probability ratio :math:`\rho = \pi_\theta(a|o) / \pi_{\text{old}}(a|o)`, normalised
advantages :math:`\hat A`, value targets :math:`R` and means :math:`\mathbb{E}` over a
minibatch (weighted, when only some agents learn):

.. math::

    L(\theta) = \underbrace{-\mathbb{E}\big[\min(\rho \hat A,\ \mathrm{clip}(\rho, 1-\epsilon, 1+\epsilon) \hat A)\big]}_{\text{actor}}
        + c_v \underbrace{\tfrac12 \mathbb{E}\big[\max((V - R)^2, (V^{\text{clip}} - R)^2)\big]}_{\text{value}}
        - c_e \underbrace{\mathbb{E}\big[H[\pi_\theta(\cdot|o)]\big]}_{\text{entropy}}

References:
    Schulman et al. 2017, "Proximal Policy Optimization Algorithms", https://arxiv.org/abs/1707.06347;
    the clipped value loss and per-minibatch advantage normalisation follow OpenAI baselines'
    ``ppo2`` (and PureJaxRL / JaxMARL, whose defaults these are).
"""

from __future__ import annotations

from typing import Optional

import chex
import jax.numpy as jnp

__all__ = [
    "weighted_mean",
    "normalise_advantages",
    "clipped_surrogate_loss",
    "clipped_value_loss",
    "approx_kl",
    "ppo_loss",
]


def weighted_mean(x: chex.Array, weight: Optional[chex.Array] = None) -> chex.Array:
    r""":math:`\sum w x / \sum w`, or the plain mean when ``weight`` is None (``weight`` broadcasts to ``x``)."""
    if weight is None:
        return jnp.mean(x)
    return jnp.sum(x * weight) / jnp.sum(weight)


def normalise_advantages(advantages: chex.Array, weight: Optional[chex.Array] = None) -> chex.Array:
    r""":math:`\hat A = (A - \mu) / (\sigma + 10^{-8})` with the (weighted) mean and standard deviation of the batch."""
    mean = weighted_mean(advantages, weight)
    centred = advantages - mean
    return centred / (jnp.sqrt(weighted_mean(jnp.square(centred), weight)) + 1e-8)


def clipped_surrogate_loss(
    ratio: chex.Array, advantages: chex.Array, clip_eps: float, weight: Optional[chex.Array] = None
) -> chex.Array:
    r"""PPO's actor loss :math:`-\mathbb{E}[\min(\rho A, \mathrm{clip}(\rho, 1-\epsilon, 1+\epsilon) A)]`.

    Args:
        ratio: :math:`\rho = \pi_\theta(a|o) / \pi_{\text{old}}(a|o)`.
        advantages: :math:`A` (normalised by the caller).
        clip_eps: :math:`\epsilon`.
        weight: optional per-entry weight (e.g. 1 for the agents that learn, 0 for the others).

    Returns:
        The scalar loss (to minimise).
    """
    unclipped = ratio * advantages
    clipped = jnp.clip(ratio, 1.0 - clip_eps, 1.0 + clip_eps) * advantages
    return -weighted_mean(jnp.minimum(unclipped, clipped), weight)


def clipped_value_loss(
    values: chex.Array,
    old_values: chex.Array,
    targets: chex.Array,
    clip_eps: float,
    weight: Optional[chex.Array] = None,
) -> chex.Array:
    r"""The critic's loss :math:`\tfrac12 \mathbb{E}[\max((V - R)^2, (V^{\text{clip}} - R)^2)]`,
    :math:`V^{\text{clip}} = V_{\text{old}} + \mathrm{clip}(V - V_{\text{old}}, -\epsilon, \epsilon)`:
    a new value that moves more than :math:`\epsilon` from the rollout's gets no credit for it.

    Args:
        values: :math:`V`, the critic's current predictions.
        old_values: :math:`V_{\text{old}}`, its predictions during the rollout.
        targets: :math:`R`, the value targets (GAE advantages plus old values).
        clip_eps: :math:`\epsilon`.
        weight: optional per-entry weight.

    Returns:
        The scalar loss.
    """
    clipped = old_values + jnp.clip(values - old_values, -clip_eps, clip_eps)
    return 0.5 * weighted_mean(jnp.maximum(jnp.square(values - targets), jnp.square(clipped - targets)), weight)


def approx_kl(ratio: chex.Array, weight: Optional[chex.Array] = None) -> chex.Array:
    r""":math:`\mathbb{E}[(\rho - 1) - \log \rho]`, an unbiased, non-negative estimate of
    :math:`\mathrm{KL}(\pi_{\text{old}} \| \pi_\theta)` (Schulman 2020, "Approximating KL divergence")."""
    return weighted_mean((ratio - 1.0) - jnp.log(ratio), weight)


def ppo_loss(
    log_prob: chex.Array,
    old_log_prob: chex.Array,
    entropy: chex.Array,
    values: chex.Array,
    old_values: chex.Array,
    advantages: chex.Array,
    targets: chex.Array,
    *,
    clip_eps: float,
    vf_coef: float,
    ent_coef: float,
    weight: Optional[chex.Array] = None,
) -> tuple[chex.Array, dict]:
    r"""PPO's total loss :math:`L = L_{\text{actor}} + c_v L_{\text{value}} - c_e H` (module docstring).

    Args:
        log_prob: :math:`\log \pi_\theta(a|o)` of the rollout's actions under the current policy.
        old_log_prob: :math:`\log \pi_{\text{old}}(a|o)`, recorded during the rollout.
        entropy: :math:`H[\pi_\theta(\cdot|o)]` per entry.
        values: the critic's current predictions :math:`V`.
        old_values: its predictions during the rollout.
        advantages: GAE advantages (raw: normalised here, per minibatch).
        targets: value targets :math:`R`.
        clip_eps: :math:`\epsilon` of both clips.
        vf_coef: :math:`c_v`.
        ent_coef: :math:`c_e`.
        weight: optional per-entry weight broadcastable to ``log_prob`` (every mean is weighted).

    Returns:
        ``(total, terms)`` with ``terms`` = ``actor_loss``, ``value_loss``, ``entropy`` (mean)
        and ``approx_kl`` (a diagnostic, not optimised).
    """
    value_loss = clipped_value_loss(values, old_values, targets, clip_eps, weight)
    ratio = jnp.exp(log_prob - old_log_prob)
    actor_loss = clipped_surrogate_loss(ratio, normalise_advantages(advantages, weight), clip_eps, weight)
    mean_entropy = weighted_mean(entropy, weight)
    total = actor_loss + vf_coef * value_loss - ent_coef * mean_entropy
    terms = {
        "actor_loss": actor_loss,
        "value_loss": value_loss,
        "entropy": mean_entropy,
        "approx_kl": approx_kl(ratio, weight),
    }
    return total, terms
