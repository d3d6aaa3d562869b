r"""Bayesian-network policies: per-agent conditionals on the parents' actions, sampled in topological order.

A joint policy over a DAG :math:`G` factorises as

.. math::

    \pi(a | o, G) = \prod_i \pi_i(a_i \mid o_i, a_{\mathrm{Pa}_G(i)}),

with one shared actor tower (:class:`~marljax.solvers.learners.networks.Tower`) whose input
for agent ``i`` is its features (own view and one-hot agent index) and the one-hot actions of
*all* agents multiplied by column ``i`` of :math:`G` (non-parents are zeros). Sampling walks a
topological order with a fixed-length ``lax.scan`` over positions, so every parent has acted
before its child; the log-probability of the joint action is the sum of the per-agent
conditional log-probabilities, which :func:`log_prob_entropy` recomputes in parallel for all
agents from the finished joint action. Because :math:`G` enters as a multiplicative mask, the
DAG's parameters receive gradients through its straight-through estimators
(:mod:`marljax.solvers.bnac.dag`).

The **edge network** (:class:`DAGNetwork`) makes the DAG context-aware: a DeepSet over the
agents' features (per-agent MLP, mean pooling, per-agent MLP on ``[h_i, mean h]``) gives each
agent an embedding :math:`e_i`; a pairwise MLP on :math:`[e_i, e_j]` gives the edge logits and
a linear head on :math:`e_i` the Gumbel-Sinkhorn scores of agent ``i`` at each position.

References:
    Chen & Zhang 2023, "Context-aware Bayesian Network Actor-Critic Methods for Cooperative
    Multi-Agent Reinforcement Learning", ICML; Zaheer et al. 2017, "Deep Sets", NeurIPS.
"""

from __future__ import annotations

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax.linen.initializers import constant

from marljax.solvers.learners.networks import MASKED_LOGIT, Tower, categorical_log_prob_entropy, orthogonal

__all__ = ["DAGNetwork", "actor_inputs", "conditional_log_policy", "sample_in_order", "log_prob_entropy"]


class DAGNetwork(nn.Module):
    """Observation-dependent DAG parameters: ``features [N, D] -> (perm_logits [N, N], edge_logits [N, N])``.

    ``perm_logits[k, i]`` scores agent ``i`` at position ``k``; ``edge_logits[i, j]`` is the
    logit of the gate of edge ``i -> j``, starting near ``edge_bias`` (open when positive)."""

    hidden_size: int = 32
    edge_bias: float = 1.0

    @nn.compact
    def __call__(self, features):
        dense = lambda k, scale=np.sqrt(2): nn.Dense(k, kernel_init=orthogonal(scale), bias_init=constant(0.0))  # noqa: E731
        h = nn.tanh(dense(self.hidden_size)(features))
        pooled = jnp.broadcast_to(h.mean(-2, keepdims=True), h.shape)
        e = nn.tanh(dense(self.hidden_size)(jnp.concatenate([h, pooled], -1)))
        n = features.shape[-2]
        pairs = jnp.concatenate(
            [
                jnp.broadcast_to(e[..., :, None, :], e.shape[:-1] + (n, e.shape[-1])),
                jnp.broadcast_to(e[..., None, :, :], e.shape[:-1] + (n, e.shape[-1])),
            ],
            -1,
        )
        edge = nn.Dense(1, kernel_init=orthogonal(0.1), bias_init=constant(self.edge_bias))(
            nn.tanh(dense(self.hidden_size)(pairs))
        )[..., 0]
        perm = dense(n, 0.1)(e)  # [..., agent i, position k]
        return jnp.swapaxes(perm, -1, -2), edge


def actor_inputs(features: chex.Array, adjacency: chex.Array, one_hot_actions: chex.Array) -> chex.Array:
    """``[N, D + N A]``: agent ``i``'s features and every agent's one-hot action masked by ``G[:, i]``."""
    parents = adjacency.T[:, :, None] * one_hot_actions[None, :, :]  # [i, j, A]
    return jnp.concatenate([features, parents.reshape(parents.shape[0], -1)], -1)


def conditional_log_policy(actor: Tower, params, inputs: chex.Array, action_mask: chex.Array) -> chex.Array:
    """``[..., A]`` log-probabilities of the actor tower on ``inputs [..., D + N A]`` (masked actions at 0)."""
    flat = inputs.reshape((-1, inputs.shape[-1]))
    _, logits = actor.apply(params, jnp.zeros((1,)), flat, jnp.zeros(flat.shape[0], bool))
    logits = logits.reshape(inputs.shape[:-1] + logits.shape[-1:])
    return jax.nn.log_softmax(jnp.where(action_mask, logits, MASKED_LOGIT))


def sample_in_order(
    actor: Tower,
    params,
    features: chex.Array,
    action_mask: chex.Array,
    adjacency: chex.Array,
    order: chex.Array,
    key: chex.PRNGKey,
    greedy: bool = False,
) -> tuple[chex.Array, chex.Array]:
    """Sample one joint action in the topological ``order``, ``lax.scan`` over the ``N`` positions.

    Args:
        actor: the actor tower; ``params`` its parameters.
        features: ``[N, D]`` each agent's features.
        action_mask: ``[N, A]`` available actions.
        adjacency: ``[N, N]`` the DAG (``G[j, i] = 1``: ``j`` is a parent of ``i``).
        order: ``[N]`` int32, a topological order of ``adjacency``.
        key: PRNG key.
        greedy: take each conditional's mode instead of sampling.

    Returns:
        ``(action [N] int32, log_prob [N])``: each agent's action and the log-probability of
        its action under its conditional given its parents' actions.
    """
    n, num_actions = action_mask.shape

    def place(carry, position):
        one_hot, log_probs = carry
        i = order[position]
        x = actor_inputs(features, adjacency, one_hot)[i]
        log_p = conditional_log_policy(actor, params, x, action_mask[i])
        a = jnp.argmax(log_p) if greedy else jax.random.categorical(jax.random.fold_in(key, position), log_p)
        return (one_hot.at[i].set(jax.nn.one_hot(a, num_actions)), log_probs.at[i].set(log_p[a])), None

    start = (jnp.zeros((n, num_actions)), jnp.zeros(n))
    (one_hot, log_probs), _ = jax.lax.scan(place, start, jnp.arange(n))
    return jnp.argmax(one_hot, -1).astype(jnp.int32), log_probs


def log_prob_entropy(
    actor: Tower, params, features: chex.Array, action_mask: chex.Array, adjacency: chex.Array, action: chex.Array
) -> tuple[chex.Array, chex.Array]:
    """All agents' conditionals at once from a finished joint ``action [..., N]``: ``(log pi_i(a_i | o_i,
    a_Pa(i)) [..., N], entropy of that conditional [..., N])``; their sum over agents is the joint log-probability."""
    one_hot = jax.nn.one_hot(action, action_mask.shape[-1])
    inputs = jnp.vectorize(actor_inputs, signature="(n,d),(n,n),(n,a)->(n,k)")(features, adjacency, one_hot)
    return categorical_log_prob_entropy(conditional_log_policy(actor, params, inputs, action_mask), action)
