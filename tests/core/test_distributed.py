"""marljax.distributed's checks (the two-process run itself is in test_sharding.py, beside the
8-device subprocess it shares the machine with)."""

import pytest

from marljax import distributed


def test_initialize_rejects_a_partial_or_malformed_set_of_variables(monkeypatch):
    monkeypatch.setenv("MARLJAX_COORDINATOR", "127.0.0.1:1234")
    monkeypatch.delenv("MARLJAX_NUM_PROCESSES", raising=False)
    monkeypatch.delenv("MARLJAX_PROCESS_ID", raising=False)
    with pytest.raises(ValueError, match="set all of MARLJAX_COORDINATOR"):
        distributed.initialize()
    monkeypatch.setenv("MARLJAX_NUM_PROCESSES", "two")
    monkeypatch.setenv("MARLJAX_PROCESS_ID", "0")
    with pytest.raises(ValueError, match="MARLJAX_NUM_PROCESSES must be an integer"):
        distributed.initialize()
    monkeypatch.setenv("MARLJAX_NUM_PROCESSES", "2")
    monkeypatch.setenv("MARLJAX_PROCESS_ID", "2")
    with pytest.raises(ValueError, match="0 <= process_id < num_processes; got 2, 2"):
        distributed.initialize()


def test_the_single_process_is_primary_and_gather_returns_whole_arrays():
    import jax.numpy as jnp
    import numpy as np

    assert distributed.is_primary()
    np.testing.assert_array_equal(distributed.gather(jnp.arange(6.0)), np.arange(6.0))
