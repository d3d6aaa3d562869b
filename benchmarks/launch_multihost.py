"""Run a marljax script on several hosts: one process per host, joined by ``jax.distributed``.

    # on every host (i = 0..H-1; host 0's address reachable from all):
    MARLJAX_COORDINATOR=10.0.0.1:8476 MARLJAX_NUM_PROCESSES=H MARLJAX_PROCESS_ID=i \\
        python benchmarks/launch_multihost.py train.py --its --args
    # TPU pods, SLURM, Open MPI: the cluster describes itself
    python benchmarks/launch_multihost.py train.py
    # one machine, N CPU processes (a rehearsal of the cluster run; what the tests do)
    python benchmarks/launch_multihost.py --local 2 --local-devices 4 train.py

Each process joins the run (:func:`marljax.distributed.initialize`) before the script imports
marljax (whose env packages create JAX arrays on import, after which JAX refuses to join), then
runs the script as ``__main__``. With ``--local N`` this launcher instead starts ``N`` copies of
itself on the CPU with the variables set, waits for them, prints their output and exits with the
first failure's status.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import runpy
import socket
import subprocess
import sys


def load_distributed():
    """``marljax/distributed.py`` as a module, without importing the ``marljax`` package (whose
    ``__init__`` would start a JAX backend before the process joins the run)."""
    package = importlib.util.find_spec("marljax")  # finds the package; runs none of it
    if package is None or not package.submodule_search_locations:
        raise SystemExit("marljax is not installed in this Python (pip install -e . in the repository)")
    path = os.path.join(list(package.submodule_search_locations)[0], "distributed.py")
    spec = importlib.util.spec_from_file_location("_marljax_distributed", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def launch_local(argv: list, num_processes: int, devices_per_process: int) -> int:
    """Start ``num_processes`` CPU processes of this launcher running ``argv``; return the exit status."""
    if num_processes < 1 or devices_per_process < 1:
        print(f"--local and --local-devices must be positive; got {num_processes}, {devices_per_process}")
        return 2
    with socket.socket() as s:  # a free port for the coordinator
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    procs = []
    for i in range(num_processes):
        env = dict(
            os.environ,
            JAX_PLATFORMS="cpu",
            XLA_FLAGS=f"--xla_force_host_platform_device_count={devices_per_process}",
            MARLJAX_COORDINATOR=f"127.0.0.1:{port}",
            MARLJAX_NUM_PROCESSES=str(num_processes),
            MARLJAX_PROCESS_ID=str(i),
        )
        command = [sys.executable, os.path.abspath(__file__), *argv]
        procs.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    status = 0
    for i, p in enumerate(procs):
        out, err = p.communicate()
        sys.stdout.write(out)
        if p.returncode:
            sys.stderr.write(f"process {i} exited with {p.returncode}:\n{err[-4000:]}\n")
            status = status or p.returncode
    return status


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--local", type=int, default=None, metavar="N", help="start N CPU processes on this machine")
    parser.add_argument("--local-devices", type=int, default=1, metavar="D", help="virtual CPU devices per process")
    parser.add_argument("script", help="the Python script every process runs")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    args = parser.parse_args(argv)
    if args.local is not None:
        return launch_local([args.script, *args.args], args.local, args.local_devices)
    load_distributed().initialize()
    sys.argv = [args.script, *args.args]
    runpy.run_path(args.script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
