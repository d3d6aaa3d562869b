"""Checkpoints of any pytree with orbax: ``save(path, tree)`` / ``restore(path, like)``.

The tree is stored as its flat list of leaves; ``restore`` rebuilds it on the structure of
``like`` (e.g. a fresh ``init(key)`` or its ``jax.eval_shape``), so dataclass states, optax
states and PRNG keys round-trip exactly, and a mismatch gives a clear error instead of a
silently wrong tree.
"""

from __future__ import annotations

import pathlib
import shutil

import jax
import numpy as np

__all__ = ["save", "restore", "latest", "CheckpointMismatch"]


class CheckpointMismatch(ValueError):
    """The checkpoint does not hold a tree shaped like the one asked for."""


def _checkpointer():
    import orbax.checkpoint as ocp

    return ocp.StandardCheckpointer()


def save(path, tree) -> pathlib.Path:
    """Write ``tree`` to the folder ``path`` (replacing it) and wait until it is on disk."""
    path = pathlib.Path(path).absolute()
    if path.exists():
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    leaves = {f"leaf_{i:05d}": np.asarray(x) for i, x in enumerate(jax.tree_util.tree_leaves(tree))}
    checkpointer = _checkpointer()
    checkpointer.save(path, leaves)
    checkpointer.wait_until_finished()
    return path


def restore(path, like):
    """Read the checkpoint at ``path`` into the structure of ``like`` (arrays or shape structs)."""
    path = pathlib.Path(path).absolute()
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    stored = _checkpointer().restore(path)
    expected, treedef = jax.tree_util.tree_flatten(like)
    if len(stored) != len(expected):
        raise CheckpointMismatch(f"checkpoint {path} holds {len(stored)} arrays; expected {len(expected)}")
    leaves = []
    for i, want in enumerate(expected):
        got = np.asarray(stored[f"leaf_{i:05d}"])
        if got.shape != tuple(want.shape) or got.dtype != np.dtype(want.dtype):
            raise CheckpointMismatch(
                f"checkpoint {path}: array {i} is {got.dtype}{list(got.shape)}, expected "
                f"{np.dtype(want.dtype)}{list(want.shape)} (was it written with another config?)"
            )
        leaves.append(jax.numpy.asarray(got))
    return jax.tree_util.tree_unflatten(treedef, leaves)


def latest(directory) -> pathlib.Path | None:
    """The checkpoint folder with the highest step number (``step_<n>``) in ``directory``."""
    directory = pathlib.Path(directory)
    steps = sorted(directory.glob("step_*"), key=lambda p: int(p.name.split("_")[1])) if directory.exists() else []
    return steps[-1] if steps else None
