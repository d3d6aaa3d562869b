"""Scaling over devices: env-steps/s of rollouts and of IPPO training on 1, 2, 4, 8 devices.

    python benchmarks/scaling.py                      # 1..8 devices (8 virtual CPU devices on a CPU)
    python benchmarks/scaling.py --devices 1 2 --quick
    python benchmarks/scaling.py --json scaling.json  # also write the figures

Every row runs the same workload with the batch axis split over ``d`` devices by a
:func:`marljax.sharding.batch_mesh` (the PPO learner's ``mesh=``, ``marljax.rollout(mesh=)``),
in one process, side by side with the one-device row it is divided by (the ratio column):

- **rollout**: ``mpe/SimpleSpread-v0``, ``--envs`` envs x ``--steps`` steps, random actions;
- **swarm rollout**: ``swarms/Vicsek-v0`` with ``--swarm-agents`` agents (default 10,000; cell-list
  neighbours) under its classic policy, one env per device at the largest count;
- **training**: IPPO on SimpleSpread (``--train-envs`` envs x 32 steps per update), env steps per
  second of the whole update (rollout, GAE, 4 epochs of 2 minibatches), and updates per second.

On a CPU, JAX shows one device unless ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` is
set before it is imported; this script sets 8 (unless XLA_FLAGS is set already). Those virtual
devices share the machine's cores, so on a CPU the ratio is bounded by the core count (and
``os.cpu_count()`` is printed beside it); on GPUs or TPUs each device is its own chip. The
device kind (``jax.devices()[0].device_kind``) is recorded with the figures. Times: best of 3
after one compiling call (``benchmarks/peers.best_of``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")  # before jax is imported

import jax  # noqa: E402
from peers import best_of  # noqa: E402  benchmarks/ is on sys.path when run as a script

import marljax  # noqa: E402
from marljax.envs.swarms import classic_policy  # noqa: E402
from marljax.sharding import batch_mesh  # noqa: E402
from marljax.solvers import ippo  # noqa: E402


def rollout_rate(env, policy, num_envs: int, num_steps: int, mesh, repeats: int) -> float:
    """Env steps per second of ``marljax.rollout`` with the env axis split over ``mesh``."""

    def run(i):
        _, trajectory = marljax.rollout(env, policy, jax.random.PRNGKey(i), num_envs, num_steps, mesh=mesh)
        jax.block_until_ready(trajectory.reward)

    return num_envs * num_steps / best_of(run, repeats)


def training_rate(env, config, mesh, repeats: int) -> tuple:
    """``(env steps/s, updates/s)`` of IPPO training with the env axis split over ``mesh``."""
    learner = ippo.make_learner(config, env, mesh=mesh)
    run = jax.jit(learner.run, static_argnums=1)
    runner = jax.jit(learner.init)(jax.random.PRNGKey(0))
    updates = config.num_updates

    def train(i):
        jax.block_until_ready(run(runner, updates)[1]["loss"])

    seconds = best_of(train, repeats)
    return updates * config.steps_per_update / seconds, updates / seconds


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, nargs="+", default=None, help="device counts (default 1 2 4 8)")
    parser.add_argument("--envs", type=int, default=4096, help="SimpleSpread rollout envs (default 4096)")
    parser.add_argument("--steps", type=int, default=100, help="rollout steps (default 100)")
    parser.add_argument("--swarm-agents", type=int, default=10_000, help="Vicsek agents per env (default 10,000)")
    parser.add_argument("--swarm-steps", type=int, default=20, help="Vicsek rollout steps (default 20)")
    parser.add_argument("--train-envs", type=int, default=256, help="IPPO envs per update (default 256)")
    parser.add_argument("--train-updates", type=int, default=4, help="IPPO updates per timed run (default 4)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per row, best taken (default 3)")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    if args.quick:
        args.envs, args.steps, args.swarm_agents, args.swarm_steps = 256, 20, 1000, 5
        args.train_envs, args.train_updates, args.repeats = 64, 2, 1
    available = jax.device_count()
    counts = args.devices or [d for d in (1, 2, 4, 8) if d <= available]
    for d in counts:
        if d < 1 or d > available:
            parser.error(f"--devices {d}: JAX sees {available} devices")
    widest = max(counts)
    device = jax.devices()[0]
    machine = {
        "platform": device.platform,
        "device_kind": device.device_kind,
        "devices": available,
        "cpu_count": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "jax": jax.__version__,
    }
    print(f"devices: {available} x {device.device_kind} ({device.platform}); host CPU cores: {os.cpu_count()}")
    if device.platform == "cpu":
        print("(virtual CPU devices share the host's cores: the speed-up is bounded by the core count)")

    spread = marljax.make("mpe/SimpleSpread-v0")
    swarm = marljax.make("swarms/Vicsek-v0", num_agents=args.swarm_agents)
    swarm_envs = widest  # one env per device at the widest mesh
    config = ippo.PPOConfig(
        total_steps=args.train_updates * args.train_envs * 32,
        num_envs=args.train_envs,
        num_steps=32,
        update_epochs=4,
        num_minibatches=2,
        anneal_lr=False,
    )
    rows = []
    for d in counts:
        mesh = batch_mesh(d)
        row = {"devices": d}
        row["rollout_env_steps_per_s"] = rollout_rate(
            spread, marljax.random_policy(spread), args.envs, args.steps, mesh, args.repeats
        )
        row["swarm_agent_steps_per_s"] = args.swarm_agents * rollout_rate(
            swarm, classic_policy(swarm), swarm_envs, args.swarm_steps, mesh, args.repeats
        )
        row["train_env_steps_per_s"], row["train_updates_per_s"] = training_rate(spread, config, mesh, args.repeats)
        rows.append(row)
        print(f"  measured {d} device(s)", file=sys.stderr, flush=True)

    base = rows[0]
    header = (
        f"| devices | SimpleSpread rollout env-steps/s ({args.envs} envs) | x | "
        f"Vicsek N={args.swarm_agents:,} agent-steps/s ({swarm_envs} envs) | x | "
        f"IPPO training env-steps/s ({args.train_envs} envs) | updates/s | x |"
    )
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    for row in rows:
        print(
            f"| {row['devices']} | {row['rollout_env_steps_per_s']:,.0f} | "
            f"{row['rollout_env_steps_per_s'] / base['rollout_env_steps_per_s']:.2f}x | "
            f"{row['swarm_agent_steps_per_s']:,.0f} | "
            f"{row['swarm_agent_steps_per_s'] / base['swarm_agent_steps_per_s']:.2f}x | "
            f"{row['train_env_steps_per_s']:,.0f} | {row['train_updates_per_s']:.2f} | "
            f"{row['train_env_steps_per_s'] / base['train_env_steps_per_s']:.2f}x |"
        )
    result = {"machine": machine, "settings": vars(args), "rows": rows}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == "__main__":
    main()
