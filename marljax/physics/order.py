"""Order parameters of swarms and oscillators, global and local, and local histograms.

Global (O(N), permutation invariant):

- polarisation of headings ``theta [N]`` (Vicsek et al. 1995): ``phi = |(1/N) sum_j e^{i theta_j}|``,
  1 when all agents move the same way, ``O(1/sqrt(N))`` when headings are uniform;
- Kuramoto's complex order parameter of phases (Kuramoto 1975; Strogatz 2000):
  ``R e^{i psi} = (1/N) sum_j e^{i theta_j}`` -- the same modulus, plus the mean phase;
- velocity polarisation ``|sum_j v_j| / sum_j |v_j|`` for agents whose speed varies.

Local (over a :class:`~marljax.physics.neighbours.NeighbourList`, O(N * capacity)):

- :func:`local_mean_phase`: ``r_i e^{i psi_i} = mean over {i} u N(i) of e^{i theta_j}`` (Vicsek's
  alignment target, the local Kuramoto field);
- :func:`local_histogram`: each agent's histogram over its neighbours of a per-pair value in
  ``num_bins`` equal bins (neighbours' headings relative to one's own, directions to them...).

References:
    Vicsek, Czirok, Ben-Jacob, Cohen and Shochet 1995, "Novel Type of Phase Transition in a
    System of Self-Driven Particles", PRL 75; Strogatz 2000, "From Kuramoto to Crawford",
    Physica D 143.
"""

from __future__ import annotations

import chex
import jax.numpy as jnp

from marljax.physics.neighbours import NeighbourList, gather_neighbours, neighbour_mask

__all__ = [
    "wrap_angle",
    "mean_phase",
    "polarisation",
    "kuramoto_order",
    "velocity_polarisation",
    "local_mean_phase",
    "local_histogram",
]


def wrap_angle(angle: chex.Array) -> chex.Array:
    """Angles mapped to ``[-pi, pi)``."""
    return jnp.mod(angle + jnp.pi, 2.0 * jnp.pi) - jnp.pi


def mean_phase(theta: chex.Array) -> tuple[chex.Array, chex.Array]:
    """``(mean cos theta, mean sin theta)`` over the last axis: the mean unit vector."""
    return jnp.mean(jnp.cos(theta), axis=-1), jnp.mean(jnp.sin(theta), axis=-1)


def polarisation(theta: chex.Array) -> chex.Array:
    """``|mean_j e^{i theta_j}|`` over the last axis, in ``[0, 1]``."""
    c, s = mean_phase(theta)
    return jnp.sqrt(c * c + s * s)


def kuramoto_order(theta: chex.Array) -> tuple[chex.Array, chex.Array]:
    """``(R, psi)`` with ``R e^{i psi} = mean_j e^{i theta_j}`` over the last axis."""
    c, s = mean_phase(theta)
    return jnp.sqrt(c * c + s * s), jnp.arctan2(s, c)


def velocity_polarisation(vel: chex.Array, eps: float = 1e-9) -> chex.Array:
    """``|sum_j v_j| / sum_j |v_j|`` of velocities ``[N, 2]`` (0 when nobody moves)."""
    total = jnp.sqrt(jnp.sum(jnp.sum(vel, axis=0) ** 2))
    return total / (jnp.sum(jnp.sqrt(jnp.sum(vel * vel, axis=-1))) + eps)


def local_mean_phase(theta: chex.Array, neighbours: NeighbourList, include_self: bool = True):
    """Each agent's local mean field ``(r_i, psi_i, n_i)`` over its neighbourhood.

    Args:
        theta: ``[N]`` headings or phases.
        neighbours: the agents' neighbour list (its ``overflow`` is the caller's to check).
        include_self: average over ``{i} u N(i)`` (Vicsek's rule) rather than ``N(i)`` alone.

    Returns:
        ``r [N]`` in ``[0, 1]`` (0 for an agent alone when ``include_self=False``),
        ``psi [N]`` the local mean angle (the agent's own angle when it is alone),
        ``n [N]`` int32 the number of agents averaged.
    """
    mask = neighbour_mask(neighbours)
    cos, sin = jnp.cos(theta), jnp.sin(theta)  # once per agent, then gathered (not per pair)
    cos_sum = jnp.sum(gather_neighbours(cos, neighbours), axis=1)
    sin_sum = jnp.sum(gather_neighbours(sin, neighbours), axis=1)
    count = jnp.sum(mask, axis=1)
    if include_self:
        cos_sum, sin_sum, count = cos_sum + cos, sin_sum + sin, count + 1
    norm = jnp.maximum(count, 1)
    r = jnp.sqrt(cos_sum**2 + sin_sum**2) / norm
    alone = (cos_sum == 0) & (sin_sum == 0)
    psi = jnp.where(alone, theta, jnp.arctan2(sin_sum, cos_sum))
    return r, psi, count.astype(jnp.int32)


def local_histogram(
    pair_values: chex.Array,
    neighbours: NeighbourList,
    num_bins: int,
    low: float,
    high: float,
    normalise: bool = True,
) -> chex.Array:
    """Each agent's histogram over its neighbours of a per-pair value.

    Values are binned into ``num_bins`` equal bins on ``[low, high)`` (values outside are
    clipped into the end bins). For angles pass ``low=-pi, high=pi`` and wrapped angles.

    Args:
        pair_values: ``[N, capacity]`` the value for agent ``i`` and its ``k``-th neighbour
            (e.g. ``wrap_angle(theta[idx] - theta[:, None])``); padding entries are ignored.
        neighbours: the neighbour list ``pair_values`` was computed on.
        num_bins: number of bins.
        low, high: the binned range.
        normalise: divide by the neighbour count (a distribution; all zeros when alone) rather
            than returning counts.

    Returns:
        ``[N, num_bins]`` float32.
    """
    mask = neighbour_mask(neighbours)
    scaled = (pair_values - low) / (high - low) * num_bins
    bins = jnp.clip(jnp.floor(scaled).astype(jnp.int32), 0, num_bins - 1)
    # One scatter-add into [N, num_bins + 1] (padding lands in the extra column): no
    # [N, capacity, num_bins] one-hot array, and 2-3x faster than a masked count per bin on a CPU.
    n = bins.shape[0]
    slot = jnp.arange(n)[:, None] * (num_bins + 1) + jnp.where(mask, bins, num_bins)
    counts = jnp.zeros(n * (num_bins + 1), jnp.float32).at[slot.reshape(-1)].add(1.0)
    counts = counts.reshape(n, num_bins + 1)[:, :num_bins]
    if normalise:
        counts = counts / jnp.maximum(jnp.sum(mask, axis=1, keepdims=True), 1)
    return counts
