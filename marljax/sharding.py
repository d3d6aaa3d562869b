"""Scale over devices and hosts: a mesh over the environment (batch) axis.

Everything in marljax batches with ``vmap``; to spread a batch over devices, lay the batch
axis out over a 1-D ``jax.sharding.Mesh`` and let XLA's GSPMD partition the jitted program.
On several hosts, call ``jax.distributed.initialize()`` first; ``jax.devices()`` then spans
every host and the same code runs unchanged. On one CPU, try it with
``XLA_FLAGS=--xla_force_host_platform_device_count=8``.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

__all__ = ["batch_mesh", "shard_batch", "constrain_batch", "BATCH_AXIS"]

BATCH_AXIS = "batch"


def batch_mesh(devices=None) -> Mesh:
    """A 1-D mesh named ``"batch"`` over ``devices`` (default: every device of every host)."""
    devices = jax.devices() if devices is None else devices
    return Mesh(np.asarray(devices), (BATCH_AXIS,))


def _spec(leaf, batch_dim: int) -> PartitionSpec:
    return PartitionSpec(*([None] * batch_dim), BATCH_AXIS) if leaf.ndim > batch_dim else PartitionSpec()


def shard_batch(tree, mesh: Mesh, batch_dim: int = 0):
    """Place every leaf of ``tree`` with its ``batch_dim`` axis split over the mesh."""
    return jax.tree_util.tree_map(lambda x: jax.device_put(x, NamedSharding(mesh, _spec(x, batch_dim))), tree)


def constrain_batch(tree, mesh: Mesh | None, batch_dim: int = 0):
    """Inside jit: ask XLA to keep axis ``batch_dim`` of every leaf split over ``mesh``
    (a no-op when ``mesh`` is None)."""
    if mesh is None:
        return tree
    return jax.tree_util.tree_map(
        lambda x: jax.lax.with_sharding_constraint(x, NamedSharding(mesh, _spec(x, batch_dim))), tree
    )
