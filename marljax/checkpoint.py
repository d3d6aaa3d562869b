"""Crash-safe checkpoints of any pytree: a folder of numbered steps kept by orbax's ``CheckpointManager``.

    with Checkpoints(run_dir / "checkpoints") as store:
        store.save(step, runner)                        # atomic: all of it or nothing
        runner = store.restore(jax.eval_shape(init, key))   # the latest step, on like's structure

**What survives a kill.** Orbax writes each step into ``step_<n>.orbax-checkpoint-tmp`` and renames
it to ``step_<n>`` only once every byte is on disk, so a save killed at any moment (SIGKILL,
SIGTERM, Ctrl-C) leaves at most a temporary folder, which :class:`Checkpoints` ignores and deletes
when it next opens the folder. Only the ``keep`` latest steps are kept (default 2, so a step that
turns out unreadable still leaves the one before it).

**How a step is stored.** Two orbax items: ``layout`` (JSON: the shape and dtype of every leaf
of the flattened tree) and ``state`` (one array holding the bytes of all leaves, one after the
other). :meth:`Checkpoints.restore` rebuilds the tree on the structure of ``like`` (a fresh
``init(key)`` or its ``jax.eval_shape``), so dataclass states, optax states and PRNG keys (raw or
typed) round-trip exactly. The layout is read first, so a checkpoint of another shape raises
:class:`CheckpointMismatch` before any data is read; and the data is one read, so damaged files
raise :class:`CorruptCheckpoint` (one line naming the step folder and what to do) without the
storage layer's concurrent reads of many arrays printing errors after it.
"""

from __future__ import annotations

import pathlib
from typing import Optional

import jax
import numpy as np

__all__ = ["Checkpoints", "CheckpointMismatch", "CorruptCheckpoint", "STEP_PREFIX"]

STEP_PREFIX = "step"  # step folders are step_<n>


class CheckpointMismatch(ValueError):
    """The checkpoint does not hold a tree shaped like the one asked for."""


class CorruptCheckpoint(ValueError):
    """A checkpoint's files cannot be read (a damaged disk, a hand-edited or foreign folder)."""


class Checkpoints:
    """The numbered checkpoints in ``directory`` (created on the first save).

    Args:
      directory: folder of ``step_<n>`` sub-folders.
      keep: how many of the latest steps to keep (older ones are deleted after each save).
    """

    def __init__(self, directory, keep: int = 2):
        import orbax.checkpoint as ocp

        if int(keep) < 1:
            raise ValueError(f"keep must be at least 1; got {keep}")
        self.directory = pathlib.Path(directory).absolute()
        options = ocp.CheckpointManagerOptions(
            max_to_keep=int(keep),
            step_prefix=STEP_PREFIX,
            cleanup_tmp_directories=True,  # a save killed half-way leaves a tmp folder: drop it
            enable_async_checkpointing=False,  # save() returns once the step is committed
            create=False,
        )
        # Orbax lists and cleans an existing folder when the manager opens it; a missing folder
        # is made on the first save, so reading a run never creates anything.
        self._manager = ocp.CheckpointManager(self.directory, options=options) if self.directory.exists() else None
        self._options = options
        self._ocp = ocp

    def steps(self) -> list[int]:
        """The committed steps, oldest first (temporary folders of unfinished saves excluded)."""
        return sorted(self._manager.all_steps()) if self._manager is not None else []

    def latest_step(self) -> Optional[int]:
        """The highest committed step, or ``None`` when there is none."""
        steps = self.steps()
        return steps[-1] if steps else None

    def path(self, step: int) -> pathlib.Path:
        return self.directory / f"{STEP_PREFIX}_{int(step)}"

    def save(self, step: int, tree) -> pathlib.Path:
        """Commit ``tree`` as ``step`` (atomically) and drop steps beyond the ``keep`` latest."""
        if self._manager is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._manager = self._ocp.CheckpointManager(self.directory, options=self._options)
        leaves = [_to_numpy(x) for x in jax.tree_util.tree_leaves(tree)]
        layout = [[list(x.shape), x.dtype.name] for x in leaves]
        data = np.concatenate([np.ascontiguousarray(x).reshape(-1).view(np.uint8) for x in leaves] or [_NO_BYTES])
        args = self._ocp.args
        items = args.Composite(layout=args.JsonSave(layout), state=args.StandardSave({"bytes": data}))
        self._manager.save(int(step), args=items, force=True)
        self._manager.wait_until_finished()
        return self.path(step)

    def restore(self, like, step: Optional[int] = None):
        """Read ``step`` (default: the latest) into the structure of ``like`` (arrays or shape structs).

        Raises:
          FileNotFoundError: no committed step (or not ``step``) in the folder.
          CorruptCheckpoint: the step's files cannot be read.
          CheckpointMismatch: the step holds arrays of other shapes or dtypes than ``like``.
        """
        steps = self.steps()
        step = steps[-1] if step is None and steps else step
        if step is None or int(step) not in steps:
            raise FileNotFoundError(f"no checkpoint {'' if step is None else f'step {step} '}in {self.directory}")
        path = self.path(step)
        expected, treedef = jax.tree_util.tree_flatten(like)
        want = [_stored_form(x) for x in expected]
        args = self._ocp.args
        layout = self._read(step, steps, args.Composite(layout=args.JsonRestore())).layout
        stored = [(tuple(shape), dtype) for shape, dtype in layout]
        if len(stored) != len(want):
            raise CheckpointMismatch(f"checkpoint {path} holds {_describe(layout)}; expected {_describe(want)}")
        for i, ((shape, dtype), (want_shape, want_dtype)) in enumerate(zip(stored, want)):
            if shape != want_shape or dtype != want_dtype.name:
                raise CheckpointMismatch(
                    f"checkpoint {path}: array {i} is {dtype}{list(shape)}, expected {want_dtype.name}"
                    f"{list(want_shape)} (was it written with another config?)"
                )
        data = np.asarray(self._read(step, steps, args.Composite(state=args.StandardRestore())).state["bytes"])
        leaves, offset = [], 0
        for (shape, dtype), like_leaf in zip(want, expected):
            size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            leaf = np.frombuffer(data[offset : offset + size].tobytes(), dtype).reshape(shape)
            leaves.append(_from_numpy(leaf, like_leaf))
            offset += size
        return jax.tree_util.tree_unflatten(treedef, leaves)

    def _read(self, step: int, steps: list[int], items):
        try:
            return self._manager.restore(int(step), args=items)
        except Exception as err:  # tensorstore/JSON/orbax errors: all mean "cannot read this step"
            older = [s for s in steps if s < int(step)]
            fix = f"delete it to resume from step {older[-1]}" if older else f"delete {self.directory} to start over"
            reason = " ".join(str(err).split())[:160] or type(err).__name__
            raise CorruptCheckpoint(f"checkpoint {self.path(step)} cannot be read ({reason}); {fix}") from None

    def close(self) -> None:
        if self._manager is not None:
            self._manager.close()

    def __enter__(self) -> "Checkpoints":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_NO_BYTES = np.zeros(0, np.uint8)


def _is_typed_key(dtype) -> bool:
    return jax.numpy.issubdtype(dtype, jax.dtypes.prng_key)


def _stored_form(x) -> tuple[tuple, np.dtype]:
    """Shape and dtype a leaf is stored as (a typed PRNG key as its raw key data)."""
    if _is_typed_key(x.dtype):
        x = jax.eval_shape(jax.random.key_data, jax.ShapeDtypeStruct(x.shape, x.dtype))
    return tuple(x.shape), np.dtype(x.dtype)


def _to_numpy(x) -> np.ndarray:
    if _is_typed_key(x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype):
        return np.asarray(jax.random.key_data(x))
    return np.asarray(x)


def _from_numpy(leaf: np.ndarray, like):
    if _is_typed_key(like.dtype):
        return jax.random.wrap_key_data(leaf, impl=like.dtype._impl)
    return jax.numpy.asarray(leaf)


def _describe(layout) -> str:
    """``3 arrays: float32[2, 16], ...`` (the first few)."""
    items = [f"{dtype if isinstance(dtype, str) else dtype.name}{list(shape)}" for shape, dtype in layout]
    shown = ", ".join(items[:4]) + (", ..." if len(items) > 4 else "")
    return f"{len(items)} arrays ({shown})"
