"""Scale over devices and hosts: a 1-D mesh over the batch (env, episode, coalition or seed) axis.

Everything in marljax batches with ``vmap``; to spread a batch over devices, lay the batch axis
out over a 1-D ``jax.sharding.Mesh`` and let XLA's GSPMD partition the jitted program
(:func:`constrain_batch` inside jit), or split a batch of independent runs with ``shard_map``
(:func:`split_seeds`). A mean over a sharded axis is the mean over the whole (global) batch, so a
loss written as a mean gives gradients averaged over devices with no ``pmean``; PRNG draws do not
depend on the sharding (``jax_threefry_partitionable``, on by default), so a sharded run equals the
one-device run for the same keys up to the order of float reductions.

    mesh = batch_mesh(8)                                     # the first 8 devices
    train = ippo.make_train(config, env, mesh=mesh)          # env axis split over them
    runner, metrics = jax.jit(train)(key)

On several hosts, call :func:`marljax.distributed.initialize` first; ``jax.devices()`` then spans
every host and the same code runs unchanged. On one CPU, try it with
``XLA_FLAGS=--xla_force_host_platform_device_count=8`` (set before jax is imported).
"""

from __future__ import annotations

from typing import Callable, Optional

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

__all__ = [
    "BATCH_AXIS",
    "batch_mesh",
    "check_num_devices",
    "check_batch_divides",
    "mesh_size",
    "shard_batch",
    "constrain_batch",
    "replicate",
    "split_seeds",
    "map_batch",
]

BATCH_AXIS = "batch"


def check_num_devices(num_devices) -> int:
    """``num_devices`` checked against the devices JAX sees (every host's after ``jax.distributed``).

    Raises:
      ValueError: not a positive integer, or more than ``jax.device_count()``.
    """
    available = jax.device_count()
    if isinstance(num_devices, bool) or not isinstance(num_devices, (int, np.integer)) or num_devices < 1:
        raise ValueError(f"the number of devices must be a positive integer; got {num_devices!r}")
    if num_devices > available:
        kind = jax.devices()[0].platform
        raise ValueError(
            f"asked for {num_devices} devices but JAX sees {available} ({kind}); "
            "on a CPU, XLA_FLAGS=--xla_force_host_platform_device_count=N (set before jax is imported) makes N"
        )
    return int(num_devices)


def batch_mesh(devices=None) -> Mesh:
    """A 1-D mesh named ``"batch"``.

    Args:
      devices: ``None`` (every device of every host), a count (the first ``n`` of ``jax.devices()``,
        checked by :func:`check_num_devices`) or a sequence of devices.
    """
    if devices is None:
        devices = jax.devices()
    elif isinstance(devices, (int, np.integer)) and not isinstance(devices, bool):
        devices = jax.devices()[: check_num_devices(devices)]
    elif isinstance(devices, bool) or not len(devices):
        raise ValueError(f"devices must be None, a positive count or a non-empty list of devices; got {devices!r}")
    return Mesh(np.asarray(devices), (BATCH_AXIS,))


def mesh_size(mesh: Optional[Mesh]) -> int:
    """Devices in ``mesh`` (1 for ``None``)."""
    return 1 if mesh is None else int(mesh.devices.size)


def check_batch_divides(size: int, mesh: Optional[Mesh], what: str) -> None:
    """A ``ValueError`` naming ``what`` when the batch ``size`` does not split evenly over ``mesh``.

    Raises:
      ValueError: ``mesh`` is not a 1-D mesh with axis ``"batch"``, or its size does not divide ``size``.
    """
    if mesh is None:
        return
    if not isinstance(mesh, Mesh) or mesh.axis_names != (BATCH_AXIS,):
        raise ValueError(f"mesh must be a 1-D jax.sharding.Mesh with axis {BATCH_AXIS!r} (batch_mesh()); got {mesh!r}")
    devices = mesh_size(mesh)
    if int(size) % devices:
        raise ValueError(
            f"{what}={size} does not split over {devices} devices: pick a multiple of {devices} or fewer devices"
        )


def _spec(leaf, batch_dim: int) -> PartitionSpec:
    return PartitionSpec(*([None] * batch_dim), BATCH_AXIS) if leaf.ndim > batch_dim else PartitionSpec()


def shard_batch(tree, mesh: Mesh, batch_dim: int = 0):
    """Place every leaf of ``tree`` with its ``batch_dim`` axis split over the mesh (outside jit).

    Works on several hosts too: every process passes the same whole (host) array and keeps the
    shards of its own devices (``jax.make_array_from_callback``)."""

    def place(x):
        x = np.asarray(x)
        sharding = NamedSharding(mesh, _spec(x, batch_dim))
        return jax.make_array_from_callback(x.shape, sharding, lambda index: x[index])

    return jax.tree_util.tree_map(place, tree)


def constrain_batch(tree, mesh: Mesh | None, batch_dim: int = 0):
    """Inside jit: ask XLA to keep axis ``batch_dim`` of every leaf split over ``mesh``
    (a no-op when ``mesh`` is None; leaves with no such axis are replicated)."""
    if mesh is None:
        return tree
    return jax.tree_util.tree_map(
        lambda x: jax.lax.with_sharding_constraint(x, NamedSharding(mesh, _spec(x, batch_dim))), tree
    )


def replicate(tree, mesh: Mesh | None):
    """Inside jit: every leaf whole on every device (so each host can read it; a no-op for ``None``)."""
    if mesh is None:
        return tree
    return jax.tree_util.tree_map(
        lambda x: jax.lax.with_sharding_constraint(x, NamedSharding(mesh, PartitionSpec())), tree
    )


def split_seeds(fn: Callable, mesh: Mesh) -> Callable:
    """``jax.vmap(fn)`` over a leading seed axis that ``shard_map`` splits over ``mesh``.

    Each device runs ``jax.vmap(fn)`` on its own block of seeds with no communication: the
    cheapest way to use many devices when there are at least as many independent runs (e.g.
    ``marljax train --seeds 8``). Every argument has the leading seed axis, whose size must be a
    multiple of the mesh size; bind the others first (``functools.partial``).

    Args:
      fn: ``fn(*args)`` for one seed.
      mesh: a 1-D :func:`batch_mesh`.

    Returns:
      ``split(*args)``: the outputs with the leading seed axis, split over ``mesh`` (call it inside jit).
    """
    spec = PartitionSpec(BATCH_AXIS)

    def split(*args):
        # check_vma=False: env code (e.g. Jumanji's auto-reset lax.cond) mixes per-device and constant
        # values in one branch; every value here is per-device anyway.
        per_device = jax.shard_map(
            jax.vmap(fn), mesh=mesh, in_specs=(spec,) * len(args), out_specs=spec, check_vma=False
        )
        return per_device(*args)

    return split


def map_batch(fn: Callable, batch, mesh: Optional[Mesh] = None, shared=None, batch_size: Optional[int] = None):
    """``fn(shared, x)`` for every ``x`` along the leading axis of ``batch``, the batch split over ``mesh``.

    Each device evaluates its own block of the batch (``shard_map``; ``shared`` is replicated), with
    ``jax.vmap`` or, given ``batch_size``, ``jax.lax.map`` in chunks of that size to bound memory.
    A batch whose size is not a multiple of the mesh size is padded with copies of its last
    element, whose results are dropped. For independent items (coalitions, meta-game entries,
    each with its own key) the results are those of ``jax.vmap``, device count notwithstanding.

    Args:
      fn: ``fn(shared, x) -> pytree`` for one element ``x`` (a pytree slice of ``batch``).
      batch: pytree whose leaves share the leading (batch) axis.
      mesh: a 1-D :func:`batch_mesh`, or ``None`` (one device).
      shared: pytree passed whole to every call (e.g. parameters).
      batch_size: per-device chunk size for ``lax.map`` (``None``: one ``vmap``; 1: one element at a time).

    Returns:
      The stacked outputs, leading axis the batch size.
    """

    def local(shared_, block):
        if batch_size is None:
            return jax.vmap(fn, in_axes=(None, 0))(shared_, block)
        chunk = None if batch_size == 1 else batch_size  # 1: a plain sequential map
        return jax.lax.map(lambda x: fn(shared_, x), block, batch_size=chunk)

    if mesh is None:
        return local(shared, batch)
    size = jax.tree_util.tree_leaves(batch)[0].shape[0]
    padded = -size % mesh_size(mesh)
    if padded:
        batch = jax.tree_util.tree_map(lambda x: jax.numpy.concatenate([x, jax.numpy.repeat(x[-1:], padded, 0)]), batch)
    split = PartitionSpec(BATCH_AXIS)
    out = jax.shard_map(local, mesh=mesh, in_specs=(PartitionSpec(), split), out_specs=split, check_vma=False)(
        shared, batch
    )
    return jax.tree_util.tree_map(lambda x: x[:size], out) if padded else out
