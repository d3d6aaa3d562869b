"""Heterogeneous highway throughput: marljax (jit + vmap) beside highway-env (numpy), one process.

marljax's ``traffic/HeterogeneousHighway-v0`` (default: 5 agents, 50 NPCs, 8 lanes, 5 sim
sub-steps per policy step) runs random meta-actions for ``--num-steps`` policy steps in one jitted
``marljax.rollout`` per batch size; highway-env's ``highway-v0`` runs multi-agent (4 controlled
vehicles, 20 others, DiscreteMetaAction, Kinematics observations, its default 15 Hz simulation at
1 Hz policy) for ``--peer-steps`` steps, one env (it has no batching). Printed: env-steps/s (one
env-step = one joint action of all agents), the ratio to highway-env, and controlled agent-steps/s.

    python benchmarks/throughput_traffic.py                       # 1, 1024, 4096 envs
    python benchmarks/throughput_traffic.py --num-envs 1 1024 --num-steps 20
    python benchmarks/env_throughput.py --family traffic          # the same, through the shared entry
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np

import marljax

PEER_AGENTS, PEER_OTHERS = 4, 20


def marljax_rate(num_envs: int, num_steps: int, env_kwargs: dict, repeats: int = 2) -> float:
    """Env-steps/s of a jitted random rollout of ``num_envs`` highways (compile excluded)."""
    env = marljax.make("traffic/HeterogeneousHighway-v0", **env_kwargs)
    policy = marljax.random_policy(env)
    run = jax.jit(lambda k: marljax.rollout(env, policy, k, num_envs, num_steps)[1].reward)
    key = jax.random.PRNGKey(0)
    run(key).block_until_ready()
    best = float("inf")
    for i in range(repeats):
        tic = time.perf_counter()
        run(jax.random.fold_in(key, i + 1)).block_until_ready()
        best = min(best, time.perf_counter() - tic)
    return num_envs * num_steps / best


def highway_env_rate(num_steps: int, seed: int = 0) -> float:
    """Env-steps/s of highway-env's multi-agent highway with random meta-actions; an episode that
    ends is reset inside the timed loop, as a rollout would."""
    import gymnasium as gym
    import highway_env  # noqa: F401  (registers the envs)

    config = {
        "controlled_vehicles": PEER_AGENTS,
        "vehicles_count": PEER_OTHERS,
        "action": {"type": "MultiAgentAction", "action_config": {"type": "DiscreteMetaAction"}},
        "observation": {"type": "MultiAgentObservation", "observation_config": {"type": "Kinematics"}},
    }
    env = gym.make("highway-v0", config=config)
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    tic = time.perf_counter()
    for _ in range(num_steps):
        _, _, terminated, truncated, _ = env.step(tuple(int(a) for a in rng.integers(0, 5, PEER_AGENTS)))
        if terminated or truncated:
            env.reset()
    rate = num_steps / (time.perf_counter() - tic)
    env.close()
    return rate


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-envs", nargs="*", type=int, default=[1, 1024, 4096])
    parser.add_argument("--num-steps", type=int, default=20, help="policy steps per marljax rollout")
    parser.add_argument("--peer-steps", type=int, default=60, help="policy steps of highway-env")
    parser.add_argument("--num-agents", type=int, default=5)
    parser.add_argument("--num-npcs", type=int, default=50)
    parser.add_argument("--traffic", default="mild")
    args = parser.parse_args(argv)
    kwargs = {"num_agents": args.num_agents, "num_npcs": args.num_npcs, "traffic": args.traffic}

    print(f"device: {jax.devices()[0]}  (jax {jax.__version__}); random meta-actions")
    try:
        peer = highway_env_rate(args.peer_steps)
        print(
            f"highway-env highway-v0, {PEER_AGENTS} controlled + {PEER_OTHERS} others, 1 env: "
            f"{peer:,.1f} env-steps/s  ({peer * PEER_AGENTS:,.0f} agent-steps/s)"
        )
    except ImportError as err:
        peer = float("nan")
        print(f"highway-env not installed ({err}); pip install highway-env")
    print(f"marljax traffic/HeterogeneousHighway-v0, {args.num_agents} agents + {args.num_npcs} NPCs ({args.traffic})")
    print(f"{'envs':>8}{'env-steps/s':>16}{'x highway-env':>16}{'agent-steps/s':>16}")
    for n in args.num_envs:
        rate = marljax_rate(n, args.num_steps, kwargs)
        print(f"{n:>8,}{rate:>16,.0f}{rate / peer:>15,.0f}x{rate * args.num_agents:>16,.0f}", flush=True)


if __name__ == "__main__":
    main()
