"""Peer implementations of marljax's envs, for ``benchmarks/env_throughput.py``.

``PEER_ROLLOUTS[env_name][peer](num_envs, num_steps) -> env-steps/s`` of the peer's own
random-action rollout, timed like marljax's (compiled first, best of 3). A peer that is not
installed raises ``ImportError`` (``pip install -e .[bench]`` installs them).
"""

from __future__ import annotations

import time

__all__ = ["PEER_ROLLOUTS", "best_of", "jaxmarl_simple_spread", "vmas_simple_spread"]


def best_of(run, repeats: int = 3) -> float:
    """Fastest of ``repeats`` timed calls ``run(i)`` after one warm-up call ``run(0)`` (compiles)."""
    run(0)  # compile / warm up
    best = float("inf")
    for i in range(1, repeats + 1):
        tic = time.perf_counter()
        run(i)
        best = min(best, time.perf_counter() - tic)
    return best


def jaxmarl_simple_spread(num_envs: int, num_steps: int) -> float:
    """JaxMARL ``MPE_simple_spread_v3``: ``lax.scan`` over steps of the vmapped ``env.step``
    (which auto-resets), uniform random discrete actions."""
    import jax
    import jaxmarl

    env = jaxmarl.make("MPE_simple_spread_v3")

    @jax.jit
    def rollout(key):
        reset_key, run_key = jax.random.split(key)
        _, state = jax.vmap(env.reset)(jax.random.split(reset_key, num_envs))

        def step(state, key):
            act_key, step_key = jax.random.split(key)
            act_keys = jax.random.split(act_key, env.num_agents)
            actions = {a: jax.random.randint(k, (num_envs,), 0, 5) for a, k in zip(env.agents, act_keys)}
            _, state, reward, _, _ = jax.vmap(env.step)(jax.random.split(step_key, num_envs), state, actions)
            return state, reward[env.agents[0]]

        return jax.lax.scan(step, state, jax.random.split(run_key, num_steps))[1]

    seconds = best_of(lambda i: rollout(jax.random.PRNGKey(i)).block_until_ready())
    return num_envs * num_steps / seconds


def vmas_simple_spread(num_envs: int, num_steps: int) -> float:
    """VMAS ``simple_spread`` on the CPU (torch, batched over envs), random discrete actions."""
    import torch
    import vmas

    env = vmas.make_env("simple_spread", num_envs=num_envs, device="cpu", continuous_actions=False, seed=0)

    def run(_):
        env.reset()
        with torch.no_grad():
            for _ in range(num_steps):
                env.step([env.get_random_action(agent) for agent in env.agents])

    return num_envs * num_steps / best_of(run)


PEER_ROLLOUTS = {
    "mpe/SimpleSpread-v0": {"jaxmarl": jaxmarl_simple_spread, "vmas": vmas_simple_spread},
}
