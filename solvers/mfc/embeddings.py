r"""Mean-field embeddings: a swarm's empirical distribution as a fixed-size vector.

A swarm of ``N`` agents with states :math:`x_i \in \mathbb{R}^d` (``env.agent_states(state)``,
:class:`~marljax.envs.swarms.common.base.SwarmEnv`) has the empirical mean field
:math:`\mu_N = \frac1N \sum_i \delta_{x_i}`. Two embeddings summarise it at ``K`` fixed centres
:math:`b_1, \dots, b_K`:

- **kernel** (Dec-POMFC's choice, Cui et al. 2024): the RBF kernel mean embedding

  .. math:: \hat\mu[k] = \frac1N \sum_{i=1}^N \kappa(x_i, b_k), \qquad
            \kappa(x, b) = \exp\!\big(-\lVert x - b \rVert^2 / (2 \sigma^2)\big)

  with bandwidth :math:`\sigma`: smooth in the agents' states, so nearby swarms get nearby
  embeddings (a policy on it generalises between them);
- **histogram** (the baseline): the fraction of agents whose nearest centre is :math:`b_k`
  (the histogram of the centres' Voronoi cells; on a regular grid of centres, the usual
  histogram with a bin around each centre). Mass 1, piecewise constant.

Both are permutation invariant (a mean over agents), cost ``O(N K d)`` time and ``O(N K)``
memory (no ``N x N`` array; ``K`` is fixed, so memory is linear in ``N``), and jit/vmap.

References:
    Cui, Fabian, Tahir and Koeppl 2024, "Learning Decentralized Partially Observable Mean Field
    Control for Artificial Collective Behavior" (ICLR), https://arxiv.org/abs/2307.06175;
    Smola, Gretton, Song and Schoelkopf 2007, "A Hilbert Space Embedding for Distributions".
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Sequence

import chex
import jax.numpy as jnp
import numpy as np

__all__ = [
    "EMBEDDINGS",
    "MeanFieldEmbedding",
    "grid_centres",
    "kernel_embedding",
    "histogram_embedding",
    "kernel_rows",
    "mean_field_states",
    "embedding_for_env",
]

#: The embeddings on offer.
EMBEDDINGS = ("kernel", "histogram")


def _check_centres(centres) -> np.ndarray:
    centres = np.asarray(centres, np.float32)
    if centres.ndim != 2 or centres.shape[0] == 0 or centres.shape[1] == 0:
        raise ValueError(f"a mean-field embedding needs kernel centres [K >= 1, d >= 1]; got shape {centres.shape}")
    if not np.all(np.isfinite(centres)):
        raise ValueError("the kernel centres have a NaN or infinite entry")
    return centres


def _check_bandwidth(bandwidth) -> float:
    if isinstance(bandwidth, bool) or not isinstance(bandwidth, (int, float, np.floating, np.integer)):
        raise ValueError(f"bandwidth must be a positive number; got {bandwidth!r}")
    if not np.isfinite(bandwidth) or bandwidth <= 0:
        raise ValueError(f"bandwidth must be a positive number; got {bandwidth!r}")
    return float(bandwidth)


def _squared_distances(states: chex.Array, centres: chex.Array) -> chex.Array:
    """``[N, K]`` squared distances, expanded as ``|x|^2 - 2 x.b + |b|^2`` (a matmul, no ``[N, K, d]``)."""
    sq = jnp.sum(states**2, -1)[:, None] - 2.0 * states @ centres.T + jnp.sum(centres**2, -1)[None, :]
    return jnp.maximum(sq, 0.0)


def kernel_rows(states: chex.Array, centres: chex.Array, bandwidth: float) -> chex.Array:
    r"""``[N, K]`` kernel values :math:`\kappa(x_i, b_k) = \exp(-\lVert x_i - b_k\rVert^2 / 2\sigma^2)`."""
    return jnp.exp(-_squared_distances(states, centres) / (2.0 * bandwidth**2))


def kernel_embedding(states: chex.Array, centres: chex.Array, bandwidth: float) -> chex.Array:
    r"""The RBF kernel mean embedding :math:`\hat\mu[k] = \frac1N \sum_i \kappa(x_i, b_k)`.

    Args:
      states: ``[N, d]`` agent states.
      centres: ``[K, d]`` kernel centres :math:`b_k`.
      bandwidth: :math:`\sigma > 0`.

    Returns:
      ``[K]`` float32 embedding; each entry in ``(0, 1]``.
    """
    return jnp.mean(kernel_rows(states.astype(jnp.float32), centres, bandwidth), axis=0)


def histogram_embedding(states: chex.Array, centres: chex.Array) -> chex.Array:
    """The fraction of agents whose nearest centre is ``b_k`` (ties go to the lower index).

    Args:
      states: ``[N, d]`` agent states.
      centres: ``[K, d]`` bin centres.

    Returns:
      ``[K]`` float32 histogram of mass 1.
    """
    nearest = jnp.argmin(_squared_distances(states.astype(jnp.float32), centres), axis=1)
    n = states.shape[0]
    return jnp.zeros(centres.shape[0], jnp.float32).at[nearest].add(1.0 / n)


@dataclasses.dataclass(frozen=True, eq=False)
class MeanFieldEmbedding:
    """A fixed embedding ``states [N, d] -> [K]`` (``kind`` ``"kernel"`` or ``"histogram"``).

    Build it with :meth:`create` (checks its values). Calling it is jittable and vmappable.

    Attributes:
      kind: ``"kernel"`` or ``"histogram"``.
      centres: ``[K, d]`` numpy centres.
      bandwidth: the kernel's :math:`\\sigma` (unused by the histogram, still checked > 0).
    """

    kind: str
    centres: np.ndarray
    bandwidth: float

    @classmethod
    def create(cls, kind: str, centres, bandwidth: float = 0.5) -> "MeanFieldEmbedding":
        """Raises ``ValueError`` for an unknown kind, no centres, or a bandwidth that is not > 0."""
        if kind not in EMBEDDINGS:
            raise ValueError(f"embedding must be one of {EMBEDDINGS}; got {kind!r}")
        return cls(kind, _check_centres(centres), _check_bandwidth(bandwidth))

    @property
    def size(self) -> int:
        """``K``, the embedding's length."""
        return int(self.centres.shape[0])

    @property
    def state_size(self) -> int:
        """``d``, the width of the agent states it embeds."""
        return int(self.centres.shape[1])

    def __call__(self, states: chex.Array) -> chex.Array:
        centres = jnp.asarray(self.centres)
        if states.shape[-1] != self.state_size:
            raise ValueError(f"agent states have {states.shape[-1]} columns; the centres have {self.state_size}")
        if self.kind == "kernel":
            return kernel_embedding(states, centres, self.bandwidth)
        return histogram_embedding(states, centres)


def grid_centres(low: Sequence[float], high: Sequence[float], num_per_dim: int) -> np.ndarray:
    """``[num_per_dim ** d, d]`` centres on the regular grid over the box ``[low, high]`` (ends included).

    Raises:
      ValueError: ``num_per_dim < 1``, or ``low`` and ``high`` of different lengths or empty.
    """
    low, high = np.asarray(low, np.float32).ravel(), np.asarray(high, np.float32).ravel()
    if low.size == 0 or low.shape != high.shape:
        raise ValueError(f"low and high must be equal-length, non-empty; got {low.size} and {high.size} entries")
    if isinstance(num_per_dim, bool) or int(num_per_dim) != num_per_dim or num_per_dim < 1:
        raise ValueError(f"num_per_dim must be a positive integer; got {num_per_dim!r}")
    axes = [
        np.linspace(a, b, int(num_per_dim)) if num_per_dim > 1 else np.array([(a + b) / 2]) for a, b in zip(low, high)
    ]
    return np.array(list(itertools.product(*axes)), np.float32)


def mean_field_states(env):
    """``env.agent_states``, the map ``state -> [N, d]`` an embedding reads.

    Raises:
      ValueError: the env (or what it wraps) has no ``agent_states`` (no mean-field state).
    """
    inner = env
    while not hasattr(type(inner), "agent_states") and hasattr(inner, "_env"):
        inner = inner._env
    if not callable(getattr(type(inner), "agent_states", None)):
        raise ValueError(
            f"{env!r} has no mean-field state: mean-field control needs an env with "
            "agent_states(state) -> [N, d] (the swarm envs: swarms/Vicsek-v0, Kuramoto-v0, Aggregation-v0)"
        )
    return inner.agent_states


def embedding_for_env(env, kind: str = "kernel", num_per_dim: int = 3, bandwidth: float = 0.5) -> MeanFieldEmbedding:
    """The default embedding of an env's agent states: a grid of ``num_per_dim`` centres per
    column over ``[-1, 1]^d`` (the swarm envs scale every column of ``agent_states`` to about that box).

    Raises:
      ValueError: the env has no ``agent_states``, or a bad kind, grid or bandwidth.
    """
    mean_field_states(env)
    d = int(getattr(env, "agent_state_size", 0) or len(getattr(env, "agent_state_names", ())))
    if d < 1:
        raise ValueError(f"{env!r} does not say the width of its agent states (agent_state_names)")
    return MeanFieldEmbedding.create(kind, grid_centres([-1.0] * d, [1.0] * d, num_per_dim), bandwidth)
