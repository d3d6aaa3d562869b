"""Radius neighbourhoods in a periodic box: all-pairs for small N, a cell list for large N.

Built the JAX MD way (``partition.neighbor_list``): a constructor returns two functions,

- ``allocate(pos) -> NeighbourList`` runs **outside** jit: it measures the configuration and
  fixes the capacities (array shapes) with some slack;
- ``update(pos, neighbours) -> NeighbourList`` runs **inside** jit with those fixed shapes and
  sets ``overflow`` when the configuration no longer fits.

A :class:`NeighbourList` holds ``idx [N, capacity]``: row ``i`` lists the agents ``j != i``
with ``|x_j - x_i| < radius`` (minimum image), in no particular order, padded with the
sentinel ``N``. Both methods find the same neighbours for the same positions (tested). With
``packed=False`` rows are not packed: each keeps every candidate, the sentinel marking those
that are not neighbours (wider, but faster to build and with no per-agent capacity; the swarm
envs use this).

**Overflow is never silent.** When an agent has more than ``capacity`` neighbours, or a cell
holds more than ``cell_capacity`` agents, the list cannot hold the truth: ``overflow`` is set
and the list must not be used. :func:`check_overflow` raises :class:`NeighbourOverflowError`
outside jit; inside jit callers carry the flag out (the swarm envs report it in
``extras["neighbour_overflow"]`` and their metrics) and reallocate with ``allocate`` on the
offending positions (or larger capacities) before going on.

**Methods.** ``"all_pairs"`` computes the ``[N, N]`` distance matrix (quadratic memory; the
fast path up to about a thousand agents). ``"cell_list"`` bins agents into an ``M x M`` grid of
cells of side ``L / M >= radius`` (``M = floor(L / radius) >= 3``), keeps a table ``[M^2,
cell_capacity]`` of each cell's agents and only compares each agent with the agents of its
own and the 8 surrounding cells: ``O(N * 9 * cell_capacity)`` memory and work.

References:
    Schoenholz and Cubuk 2020, "JAX MD: A Framework for Differentiable Physics" (``partition``);
    Allen and Tildesley 1987, "Computer Simulation of Liquids", section 5.3 (cell lists).
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import chex
import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from marljax.checks import integer, is_concrete, number

__all__ = [
    "METHODS",
    "ALL_PAIRS_MAX_AGENTS",
    "NeighbourList",
    "NeighbourFns",
    "NeighbourOverflowError",
    "neighbour_list",
    "default_method",
    "cells_per_side",
    "check_overflow",
    "neighbour_mask",
    "neighbour_displacements",
    "gather_neighbours",
]

METHODS = ("all_pairs", "cell_list")
#: ``default_method`` picks the cell list above this many agents (Vicsek-v0 at its density on a
#: loaded 2-core CPU: all-pairs faster up to 200 agents, the cell list from 300-500 on, 21x at
#: 10,000; see benchmarks/throughput_swarms.py).
ALL_PAIRS_MAX_AGENTS = 400


class NeighbourOverflowError(RuntimeError):
    """A neighbour list was too small for the configuration: reallocate it."""


@struct.dataclass
class NeighbourList:
    """Each agent's neighbours within ``radius``.

    Attributes:
        idx: ``[N, capacity]`` int32, row ``i`` the neighbours ``j != i`` (in no particular order),
            padded with ``N``.
        overflow: ``[]`` bool, True when some agent had more than ``capacity`` neighbours or some
            cell more than ``cell_capacity`` agents: ``idx`` is then incomplete and must not be used.
        count: ``[N]`` int32, each agent's true number of neighbours (also when it overflowed).
        method: ``"all_pairs"`` or ``"cell_list"`` (static).
        cell_capacity: agents a cell can hold (static; 0 for all-pairs).
    """

    idx: chex.Array
    overflow: chex.Array
    count: chex.Array
    method: str = struct.field(pytree_node=False)
    cell_capacity: int = struct.field(pytree_node=False, default=0)

    @property
    def capacity(self) -> int:
        return self.idx.shape[1]


class NeighbourFns(NamedTuple):
    """``allocate(pos, capacity=None, cell_capacity=None)`` (outside jit) and ``update(pos, neighbours)`` (inside)."""

    allocate: Callable[..., NeighbourList]
    update: Callable[[chex.Array, NeighbourList], NeighbourList]
    method: str
    box_size: float
    radius: float
    packed: bool


def cells_per_side(box_size: float, radius: float) -> int:
    """``M = floor(L / radius)``: the most cells per side whose side is at least ``radius``."""
    return int(math.floor(box_size / radius + 1e-9))


def default_method(num_agents: int) -> str:
    """``"all_pairs"`` up to :data:`ALL_PAIRS_MAX_AGENTS` agents, else ``"cell_list"``."""
    return "all_pairs" if num_agents <= ALL_PAIRS_MAX_AGENTS else "cell_list"


def neighbour_list(
    box_size: float,
    radius: float,
    method: str = "cell_list",
    capacity_multiplier: float = 1.25,
    packed: bool = True,
) -> NeighbourFns:
    """Build ``allocate``/``update`` for neighbourhoods of ``radius`` in the periodic box of side ``box_size``.

    Args:
        box_size: side ``L`` of the periodic box ``[0, L)^2``.
        radius: interaction radius ``r > 0``. Distances are minimum-image distances, so each
            pair counts once even when ``r > L / 2`` (then everyone within the image distance).
        method: ``"all_pairs"`` or ``"cell_list"`` (see the module docstring).
        capacity_multiplier: slack ``allocate`` adds to the measured maxima (>= 1).
        packed: left-pack each row into ``capacity`` columns (JAX MD's dense format). With
            ``False`` a row keeps every candidate -- all ``N`` agents (all-pairs) or the
            ``9 * cell_capacity`` agents of the 3 x 3 cells (cell list) -- with the sentinel ``N``
            where a candidate is not a neighbour: wider rows, but no per-agent capacity to
            overflow and no packing (about 3x faster per update at 10,000 agents on a CPU).
            Every reduction here works on both.

    Returns:
        :class:`NeighbourFns`.

    Raises:
        ValueError: a non-positive box or radius, an unknown method,
            or (cell list) a box with fewer than 3 cells of side ``>= radius`` per side
            (``L / r < 3``), where the 3 x 3 stencil would count cells twice.
    """
    box_size = number(0.0, open_low=True)("box_size", box_size)
    radius = number(0.0, open_low=True)("radius", radius)
    capacity_multiplier = number(1.0)("capacity_multiplier", capacity_multiplier)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}")
    num_cells = cells_per_side(box_size, radius)
    if method == "cell_list" and num_cells < 3:
        raise ValueError(
            f"box too small for the cell list: box_size / radius = {box_size / radius:.3g} < 3 cells per side; "
            "use method='all_pairs' (or a larger box)"
        )
    cell_side = box_size / num_cells

    def cell_of(pos):
        ij = jnp.clip(jnp.floor(pos / cell_side).astype(jnp.int32), 0, num_cells - 1)
        return ij[:, 0] * num_cells + ij[:, 1], ij

    def candidates(pos, cell_capacity):
        """``[N, 9 * cell_capacity]`` agents in each agent's 3 x 3 block of cells (sentinel N), and overflow."""
        n = pos.shape[0]
        cell, ij = cell_of(pos)
        order = jnp.argsort(cell)
        sorted_cell = cell[order]
        rank = jnp.arange(n) - jnp.searchsorted(sorted_cell, sorted_cell, side="left")
        table = jnp.full((num_cells * num_cells, cell_capacity), n, jnp.int32)
        table = table.at[sorted_cell, rank].set(order.astype(jnp.int32), mode="drop")
        overflow = jnp.max(rank) >= cell_capacity
        offsets = jnp.array([(di, dj) for di in (-1, 0, 1) for dj in (-1, 0, 1)], jnp.int32)
        block = jnp.mod(ij[:, None, :] + offsets[None, :, :], num_cells)  # [N, 9, 2]
        return table[block[..., 0] * num_cells + block[..., 1]].reshape(n, -1), overflow

    def within(pos, cand):
        """``[N, K]`` True where candidate ``cand[i, k]`` is a neighbour of ``i`` (not i, not the sentinel).

        x and y are gathered separately: ``[N, K]`` planes vectorise on a CPU, ``[N, K, 2]`` does
        not (about 8x slower at 10,000 agents).
        """
        n = pos.shape[0]
        real = (cand != jnp.arange(n)[:, None]) & (cand < n)
        safe = jnp.where(real, cand, 0)
        square = 0.0
        for axis in range(2):
            delta = pos[safe, axis] - pos[:, axis, None]
            delta = delta - box_size * jnp.round(delta / box_size)
            square = square + delta * delta
        return real & (square < radius * radius)

    def compact(cand, mask, capacity):
        """Entries of ``cand`` where ``mask``, left-packed into ``[N, capacity]``, sentinel-padded.

        A running count gives each neighbour its column; those past ``capacity`` are dropped
        (the caller flags that overflow). A scatter, not a sort: top-k is ~7x slower on CPU.
        """
        n = cand.shape[0]
        column = jnp.where(mask, jnp.cumsum(mask, axis=1) - 1, capacity)
        rows = jnp.full((n, capacity), n, jnp.int32)
        return rows.at[jnp.arange(n)[:, None], column].set(cand.astype(jnp.int32), mode="drop")

    def build(pos, capacity, cell_capacity):
        n = pos.shape[0]
        if method == "all_pairs":
            cand = jnp.broadcast_to(jnp.arange(n, dtype=jnp.int32), (n, n))
            cell_overflow = jnp.bool_(False)
        else:
            cand, cell_overflow = candidates(pos, cell_capacity)
        mask = within(pos, cand)
        count = jnp.sum(mask, axis=1).astype(jnp.int32)
        if packed:
            idx, overflow = compact(cand, mask, capacity), cell_overflow | (jnp.max(count) > capacity)
        else:
            idx, overflow = jnp.where(mask, cand, n).astype(jnp.int32), cell_overflow
        return NeighbourList(
            idx=idx,
            overflow=overflow,
            count=count,
            method=method,
            cell_capacity=cell_capacity if method == "cell_list" else 0,
        )

    jitted_build = jax.jit(build, static_argnums=(1, 2))

    def allocate(pos, capacity: int | None = None, cell_capacity: int | None = None) -> NeighbourList:
        """Measure ``pos [N, 2]`` (concrete, outside jit) and build a list with room to spare.

        ``capacity``/``cell_capacity`` fix the sizes instead of measuring them. The measured
        sizes are the largest neighbour count and cell occupancy times ``capacity_multiplier``.
        """
        if not is_concrete(pos):
            raise ValueError("allocate measures the configuration and runs outside jit; call update inside jit")
        pos = jnp.mod(jnp.asarray(pos, jnp.float32), box_size)
        n = pos.shape[0]
        if cell_capacity is None and method == "cell_list":
            cell, _ = cell_of(pos)
            occupancy = int(np.bincount(np.asarray(cell), minlength=num_cells * num_cells).max())
            cell_capacity = max(1, math.ceil(occupancy * capacity_multiplier))
        elif cell_capacity is not None:
            cell_capacity = integer(1)("cell_capacity", cell_capacity)
        if not packed:
            capacity = max(n, 1) if method == "all_pairs" else 9 * cell_capacity
        if capacity is None:
            widest = max(n - 1, 1) if method == "all_pairs" else 9 * cell_capacity
            measured = jitted_build(pos, widest, cell_capacity or 0)
            capacity = max(1, min(max(n - 1, 1), math.ceil(int(measured.count.max()) * capacity_multiplier)))
        capacity = integer(1)("capacity", capacity)
        return jitted_build(pos, capacity, cell_capacity or 0)

    def update(pos, neighbours: NeighbourList) -> NeighbourList:
        """Rebuild the list for ``pos [N, 2]`` with the capacities of ``neighbours`` (jit-able)."""
        return build(jnp.mod(pos, box_size), neighbours.capacity, neighbours.cell_capacity)

    return NeighbourFns(
        allocate=allocate, update=update, method=method, box_size=box_size, radius=radius, packed=packed
    )


def check_overflow(overflow, what: str = "neighbour list") -> None:
    """Raise :class:`NeighbourOverflowError` if ``overflow`` (a flag, an array of flags or a
    :class:`NeighbourList`) is set; a no-op under jit (carry the flag out instead)."""
    flag = overflow.overflow if isinstance(overflow, NeighbourList) else overflow
    if is_concrete(flag) and bool(np.any(np.asarray(flag))):
        raise NeighbourOverflowError(
            f"{what} overflowed: some agent had more neighbours (or some cell more agents) than its capacity, so "
            "neighbours would be dropped; reallocate with larger capacities (allocate on these positions)"
        )


def neighbour_mask(neighbours: NeighbourList) -> chex.Array:
    """``[N, capacity]`` True on real entries of ``neighbours.idx`` (False on padding)."""
    return neighbours.idx < neighbours.idx.shape[0]


def gather_neighbours(values: chex.Array, neighbours: NeighbourList, fill=0) -> chex.Array:
    """``values [N, ...]`` of each agent's neighbours: ``[N, capacity, ...]``, ``fill`` on padding."""
    pad = jnp.full((1,) + values.shape[1:], fill, values.dtype)
    return jnp.concatenate([values, pad])[neighbours.idx]


def neighbour_displacements(displacement, pos: chex.Array, neighbours: NeighbourList) -> chex.Array:
    """``[N, capacity, 2]`` displacement from each agent to each of its neighbours (0 on padding)."""
    mask = neighbour_mask(neighbours)
    safe = jnp.where(mask, neighbours.idx, 0)
    # One coordinate at a time: [N, K] planes vectorise on a CPU, [N, K, 2] gathers do not.
    planes = [displacement(pos[safe, axis], pos[:, axis, None]) for axis in range(2)]
    return jnp.where(mask[..., None], jnp.stack(planes, -1), 0.0)
