"""Several hosts (GPU clusters, TPU pods): one process per host, joined by ``jax.distributed``.

JAX runs one program on every host (SPMD). Each process joins the run with :func:`initialize`
before anything initialises a JAX backend; ``jax.devices()`` then lists every host's devices, so
a :func:`marljax.sharding.batch_mesh` spans them all and marljax's sharded learners, Shapley
explainers and PSRO meta-games run unchanged. No communication layer of marljax's own: the
collectives are XLA's (NCCL on GPUs, ICI on TPUs, gloo on CPUs).

**Call it before importing marljax.** Importing an env package creates JAX arrays (Jumanji's
step types), which starts the backend, after which ``jax.distributed.initialize`` refuses to run.
This module imports nothing but the standard library and ``jax`` at the top, so the launcher
``benchmarks/launch_multihost.py`` loads it from its file, joins the run, and only then runs your
script (which imports marljax as usual)::

    # on host i of H (i = 0 on the coordinator, whose address every host can reach):
    MARLJAX_COORDINATOR=10.0.0.1:8476 MARLJAX_NUM_PROCESSES=H MARLJAX_PROCESS_ID=i \\
        python benchmarks/launch_multihost.py my_training_script.py --its --args
    # TPU pods, SLURM and Open MPI describe the cluster themselves: no variables needed
    python benchmarks/launch_multihost.py my_training_script.py
    # try it on one machine: 2 CPU processes with 4 virtual devices each
    python benchmarks/launch_multihost.py --local 2 --local-devices 4 my_training_script.py

(Without the launcher: make ``import jax; jax.distributed.initialize()`` the first lines of the
script.) Inside the script every process runs the same code on the same inputs (keys, configs);
outputs sharded over other hosts' devices are read with :func:`gather`, or made whole on every
device inside jit with :func:`marljax.sharding.replicate`; files are written by the process for
which :func:`is_primary` holds.
"""

from __future__ import annotations

import os
from typing import Optional

__all__ = ["initialize", "is_primary", "gather", "ENV_COORDINATOR", "ENV_NUM_PROCESSES", "ENV_PROCESS_ID"]

ENV_COORDINATOR = "MARLJAX_COORDINATOR"
ENV_NUM_PROCESSES = "MARLJAX_NUM_PROCESSES"
ENV_PROCESS_ID = "MARLJAX_PROCESS_ID"


def _env_int(name: str) -> Optional[int]:
    text = os.environ.get(name)
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{name} must be an integer; got {text!r}") from None


def initialize(
    coordinator_address: Optional[str] = None,
    num_processes: Optional[int] = None,
    process_id: Optional[int] = None,
) -> dict:
    """Join this process to a multi-host JAX run (``jax.distributed.initialize``); call it first.

    Arguments left ``None`` are read from ``MARLJAX_COORDINATOR`` (``host:port`` of process 0),
    ``MARLJAX_NUM_PROCESSES`` and ``MARLJAX_PROCESS_ID``; when none is set either way, JAX detects
    the cluster itself (TPU pods, SLURM, Open MPI). On the CPU the processes talk through gloo
    collectives (``jax_cpu_collectives_implementation``).

    Args:
      coordinator_address: ``host:port`` of process 0, reachable from every host.
      num_processes: number of processes (one per host).
      process_id: this process's index in ``0..num_processes-1``.

    Returns:
      ``{"process_index", "process_count", "local_devices", "devices", "platform"}``.

    Raises:
      ValueError: some but not all of the three given, or values out of range.
    """
    import jax

    coordinator_address = coordinator_address or os.environ.get(ENV_COORDINATOR) or None
    num_processes = _env_int(ENV_NUM_PROCESSES) if num_processes is None else int(num_processes)
    process_id = _env_int(ENV_PROCESS_ID) if process_id is None else int(process_id)
    given = [x is not None for x in (coordinator_address, num_processes, process_id)]
    if any(given) and not all(given):
        raise ValueError(
            f"set all of {ENV_COORDINATOR} (host:port), {ENV_NUM_PROCESSES} and {ENV_PROCESS_ID}, or none "
            f"(cluster auto-detection); got coordinator={coordinator_address!r}, num_processes={num_processes!r}, "
            f"process_id={process_id!r}"
        )
    if all(given) and (num_processes < 1 or not 0 <= process_id < num_processes):
        raise ValueError(
            f"need num_processes >= 1 and 0 <= process_id < num_processes; got {num_processes}, {process_id}"
        )
    if os.environ.get("JAX_PLATFORMS", "").startswith("cpu"):
        jax.config.update("jax_cpu_collectives_implementation", "gloo")  # CPU processes need a collectives backend
    if all(given):
        jax.distributed.initialize(coordinator_address, num_processes, process_id)
    else:
        jax.distributed.initialize()
    return {
        "process_index": jax.process_index(),
        "process_count": jax.process_count(),
        "local_devices": jax.local_device_count(),
        "devices": jax.device_count(),
        "platform": jax.devices()[0].platform,
    }


def is_primary() -> bool:
    """True on process 0, the one that writes files and prints."""
    import jax

    return jax.process_index() == 0


def gather(tree):
    """Every leaf as a whole host ``numpy`` array on every process (shards of other hosts fetched)."""
    from jax.experimental import multihost_utils

    return multihost_utils.process_allgather(tree, tiled=True)
