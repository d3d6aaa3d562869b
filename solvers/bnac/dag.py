r"""Differentiable sampling of DAGs over agents (Charpentier et al. 2022, "Differentiable DAG Sampling").

A DAG on ``n`` agents is a topological order and a set of forward edges:

.. math::

    G = U \odot (P^\top M P),

with :math:`M` the strictly upper-triangular ``n x n`` mask, :math:`P` a permutation matrix
(``P[k, i] = 1``: agent ``i`` sits at position ``k``, so :math:`(P^\top M P)_{ij} = 1` iff
``i`` comes before ``j``) and :math:`U \in \{0, 1\}^{n \times n}` edge gates. ``G[i, j] = 1``
means agent ``i`` is a parent of agent ``j``; column ``j`` lists ``j``'s parents. Any such
``G`` is acyclic, whatever :math:`P` and :math:`U`.

Both factors are sampled with straight-through estimators, hard (exactly 0/1) in the forward
pass and with the gradient of their relaxation in the backward pass:

- :math:`P`: **Gumbel-Sinkhorn** (Mena et al. 2018): Sinkhorn normalisation of
  :math:`(\log\alpha + g)/\tau` (Gumbel noise :math:`g`) gives a doubly-stochastic soft
  permutation; the forward pass uses the permutation found by greedy argmax matching on it
  (repeatedly the largest remaining entry, its row and column struck out; the Hungarian
  method's answer whenever the soft matrix is near a permutation).
- :math:`U`: **straight-through Gumbel-softmax** (Jang et al. 2017) over {closed, open} per
  pair, i.e. :math:`\sigma((e_{ij} + \ell)/\tau)` with logistic noise :math:`\ell`, rounded.

References:
    Charpentier, Kibler & Günnemann 2022, "Differentiable DAG Sampling", ICLR,
    https://arxiv.org/abs/2203.08509; Mena et al. 2018, "Learning Latent Permutations with
    Gumbel-Sinkhorn Networks", ICLR; Jang, Gu & Poole 2017, "Categorical Reparameterization with
    Gumbel-Softmax", ICLR; Chen & Zhang 2023 (ICML) use them for context-aware BN policies.
"""

from __future__ import annotations

from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "DAGSample",
    "DAG_KINDS",
    "strictly_upper",
    "fixed_dag",
    "sinkhorn",
    "hard_permutation",
    "sample_permutation",
    "sample_edge_gates",
    "sample_dag",
    "mode_dag",
    "open_ratio",
    "is_acyclic",
]

#: The DAGs a BN policy can use: learned (sampled per step), or fixed empty / full.
DAG_KINDS = ("learned", "empty", "full")


class DAGSample(NamedTuple):
    """A sampled DAG: ``adjacency [n, n]`` (``G[i, j] = 1``: ``i`` is a parent of ``j``;
    straight-through: 0/1 values, relaxed gradients), ``order [n]`` int32 (the agent at each
    position: a topological order) and ``permutation [n, n]`` (:math:`P`, straight-through)."""

    adjacency: chex.Array
    order: chex.Array
    permutation: chex.Array


def strictly_upper(n: int) -> np.ndarray:
    """:math:`M`: ``[n, n]`` float32, 1 above the diagonal."""
    return np.triu(np.ones((n, n), np.float32), 1)


def fixed_dag(kind: str, n: int) -> np.ndarray:
    """``[n, n]`` int32 adjacency of a fixed DAG: ``"empty"`` (independent agents) or ``"full"``
    (every earlier agent is a parent: an autoregressive policy in index order)."""
    if kind == "empty":
        return np.zeros((n, n), np.int32)
    if kind == "full":
        return strictly_upper(n).astype(np.int32)
    raise ValueError(f"unknown DAG kind {kind!r}; a fixed DAG is 'empty' or 'full'")


def sinkhorn(log_alpha: chex.Array, num_iters: int = 20) -> chex.Array:
    """Doubly-stochastic ``exp`` of ``log_alpha [n, n]`` after ``num_iters`` alternating
    row and column normalisations in log space."""

    def normalise(_, x):
        x = x - jax.nn.logsumexp(x, axis=1, keepdims=True)
        return x - jax.nn.logsumexp(x, axis=0, keepdims=True)

    return jnp.exp(jax.lax.fori_loop(0, num_iters, normalise, log_alpha))


def hard_permutation(soft: chex.Array) -> chex.Array:
    """A permutation matrix from ``soft [n, n]`` by greedy argmax matching (module docstring)."""
    n = soft.shape[0]

    def pick(_, carry):
        hard, free = carry
        score = jnp.where(free, soft, -jnp.inf)
        flat = jnp.argmax(score)
        row, col = flat // n, flat % n
        hard = hard.at[row, col].set(1.0)
        free = free & (jnp.arange(n)[:, None] != row) & (jnp.arange(n)[None, :] != col)
        return hard, free

    hard, _ = jax.lax.fori_loop(0, n, pick, (jnp.zeros_like(soft), jnp.ones(soft.shape, bool)))
    return hard


def _straight_through(hard: chex.Array, soft: chex.Array) -> chex.Array:
    return soft + jax.lax.stop_gradient(hard - soft)


def sample_permutation(key: chex.PRNGKey, log_alpha: chex.Array, tau: float = 1.0, num_iters: int = 20) -> chex.Array:
    """Straight-through Gumbel-Sinkhorn permutation ``[n, n]`` (rows positions, columns agents)."""
    gumbel = jax.random.gumbel(key, log_alpha.shape)
    soft = sinkhorn((log_alpha + gumbel) / tau, num_iters)
    return _straight_through(hard_permutation(soft), soft)


def sample_edge_gates(key: chex.PRNGKey, edge_logits: chex.Array, tau: float = 1.0) -> chex.Array:
    """Straight-through Gumbel-softmax gates ``[n, n]`` in {0, 1}: open with probability ``sigmoid(edge_logits)``."""
    soft = jax.nn.sigmoid((edge_logits + jax.random.logistic(key, edge_logits.shape)) / tau)
    return _straight_through((soft > 0.5).astype(soft.dtype), soft)


def _assemble(permutation: chex.Array, gates: chex.Array) -> DAGSample:
    n = permutation.shape[0]
    forward = permutation.T @ jnp.asarray(strictly_upper(n)) @ permutation
    order = jnp.argmax(jax.lax.stop_gradient(permutation), axis=1).astype(jnp.int32)
    return DAGSample(gates * forward, order, permutation)


def sample_dag(
    key: chex.PRNGKey, perm_logits: chex.Array, edge_logits: chex.Array, tau: float = 1.0, num_iters: int = 20
) -> DAGSample:
    r"""Sample :math:`G = U \odot (P^\top M P)` with straight-through gradients.

    Args:
        key: PRNG key (Gumbel noise of the permutation, logistic noise of the gates).
        perm_logits: :math:`\log\alpha` ``[n, n]``, score of agent ``i`` (column) at position ``k`` (row).
        edge_logits: ``[n, n]`` logit of the gate of edge ``i -> j`` (used where ``i`` precedes ``j``).
        tau: temperature of both relaxations.
        num_iters: Sinkhorn iterations.

    Returns:
        A :class:`DAGSample`; its adjacency is always acyclic.
    """
    key_perm, key_gate = jax.random.split(key)
    permutation = sample_permutation(key_perm, perm_logits, tau, num_iters)
    return _assemble(permutation, sample_edge_gates(key_gate, edge_logits, tau))


def mode_dag(perm_logits: chex.Array, edge_logits: chex.Array, num_iters: int = 20) -> DAGSample:
    """The noise-free DAG the executed (greedy) policy uses: the matched permutation of
    ``sinkhorn(perm_logits)`` and the gates with a positive logit."""
    permutation = hard_permutation(sinkhorn(perm_logits, num_iters))
    return _assemble(permutation, (edge_logits > 0).astype(jnp.float32))


def open_ratio(adjacency: chex.Array) -> chex.Array:
    """Edges over the most a DAG on ``n`` agents can have, ``n (n - 1) / 2`` (differentiable)."""
    n = adjacency.shape[-1]
    return jnp.sum(adjacency, axis=(-2, -1)) / max(n * (n - 1) / 2, 1)


def is_acyclic(adjacency: chex.Array) -> chex.Array:
    """True when the 0/1 ``adjacency [n, n]`` has no directed cycle (self-loops included):
    a graph is acyclic iff its adjacency matrix is nilpotent, ``A^n = 0``."""
    n = adjacency.shape[-1]
    a = (jnp.asarray(adjacency) != 0).astype(jnp.float32)
    power = jnp.linalg.matrix_power(a, n) if n > 0 else a
    return jnp.all(power == 0)
