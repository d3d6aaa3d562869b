"""Checkpoints: exact round trips of any pytree, retention, unfinished saves, clear errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from marljax.checkpoint import CheckpointMismatch, Checkpoints, CorruptCheckpoint


def _tree(seed: int):
    return {
        "weights": jnp.arange(6.0).reshape(2, 3) * seed,
        "half": jnp.full((3,), seed, jnp.bfloat16),
        "done": jnp.array([True, False]),
        "count": jnp.int32(seed),
        "empty": jnp.zeros((0, 4)),
        "raw_key": jax.random.PRNGKey(seed),
        "typed_key": jax.random.key(seed),
    }


def _equal(a, b) -> bool:
    unwrap = lambda x: jax.random.key_data(x) if jnp.issubdtype(x.dtype, jax.dtypes.prng_key) else x  # noqa: E731
    return all(
        x.dtype == y.dtype and x.shape == y.shape and np.array_equal(unwrap(x), unwrap(y))
        for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b))
    )


def test_round_trip_retention_and_unfinished_saves(tmp_path):
    folder = tmp_path / "checkpoints"
    store = Checkpoints(folder)
    assert store.latest_step() is None and not folder.exists()  # reading creates nothing
    with pytest.raises(FileNotFoundError):
        store.restore(_tree(0))
    for step in (1, 2, 3):
        store.save(step, _tree(step))
    store.close()
    assert sorted(p.name for p in folder.iterdir()) == ["step_2", "step_3"]
    # A save killed half-way leaves orbax's temporary folder: ignored, then cleaned on the next open.
    (folder / "step_4.orbax-checkpoint-tmp" / "state").mkdir(parents=True)
    with Checkpoints(folder) as store:
        assert store.steps() == [2, 3]
        assert _equal(store.restore(jax.eval_shape(lambda: _tree(0))), _tree(3))
        assert _equal(store.restore(_tree(0), step=2), _tree(2))
    assert sorted(p.name for p in folder.iterdir()) == ["step_2", "step_3"]


def test_mismatch_and_corruption_are_clear(tmp_path):
    folder = tmp_path / "checkpoints"
    with Checkpoints(folder) as store:
        store.save(1, _tree(1))
        store.save(2, _tree(2))
        with pytest.raises(CheckpointMismatch, match=r"holds 7 arrays .* expected 1 arrays \(float32\[3\]\)"):
            store.restore({"a": np.zeros(3, np.float32)})
        with pytest.raises(CheckpointMismatch, match=r"array 6 is float32\[2, 3\], expected float32\[3, 2\]"):
            store.restore({**_tree(0), "weights": jnp.zeros((3, 2))})
    for path in (folder / "step_2").rglob("*"):
        if path.is_file() and path.parent.name == "d":
            path.write_bytes(b"garbage")
    with Checkpoints(folder) as store:
        with pytest.raises(CorruptCheckpoint) as err:
            store.restore(_tree(0))
        assert str(folder / "step_2") in str(err.value) and "delete it to resume from step 1" in str(err.value)
        assert "\n" not in str(err.value) and len(str(err.value)) < 400
        assert _equal(store.restore(_tree(0), step=1), _tree(1))
