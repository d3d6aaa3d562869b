"""The JaxMARL bridge's overhead: bridged envs beside the raw JaxMARL envs, in one process.

For each env, two loops that do the same work -- ``lax.scan`` over steps of a vmapped, auto-resetting
step with uniform random actions among the available ones -- timed side by side (best of
``--repeats`` after a compiling warm-up):

- **raw JaxMARL**: ``jaxmarl.make(name)``'s own ``step`` (which auto-resets), dict actions, and
  ``get_avail_actions`` each step where the env has it (as JaxMARL's baselines do), the actions
  drawn as the bridge's random policy draws them, the latest observations kept in the loop's carry;
- **bridge**: the same loop over ``marljax.make("jaxmarl/<name>")`` in Jumanji's auto-reset wrapper,
  actions sampled from the mask in the observation (agent axis, mask, global state and metrics built
  by the bridge every step).

A third column runs ``marljax.rollout`` on the bridged env, which also keeps the whole trajectory
(observations, masks, global states) in memory: the cost of storing it, not of the bridge.

The ratio ``bridge time / raw time - 1`` is the bridge's overhead (target: under 10%). SMAX runs at
``--num-envs`` (default 1,024) envs, in ``marljax.rollout`` too.

Run: ``python benchmarks/throughput_bridges.py [--num-envs 1024 --num-steps 32 --repeats 3]``.
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp

import marljax
from marljax.rollout import sample_valid_actions
from marljax.wrappers import AutoResetWrapper

# (JaxMARL name, kwargs, what it shows)
ENVS = (
    ("MPE_simple_spread_v3", {}, "3 alike agents"),
    ("MPE_simple_tag_v3", {}, "3+1 agents, observations 16 and 14 (padded)"),
    ("HeuristicEnemySMAX", {}, "5 allies vs scripted enemies, available actions"),
)


def raw_jaxmarl(name: str, kwargs: dict, num_envs: int, num_steps: int):
    """``run(i)``: the raw JaxMARL loop (see the module docstring), blocking until done."""
    from marljax.bridges.jaxmarl import import_jaxmarl

    env = import_jaxmarl().make(name, **kwargs)
    agents = env.agents
    num_actions = [int(env.action_space(a).n) for a in agents]
    try:
        env.get_avail_actions(env.reset(jax.random.PRNGKey(0))[1])
        has_avail = True
    except NotImplementedError:
        has_avail = False

    def act(key, state):
        # The bridge's random policy, written for dicts: one categorical draw over the available
        # actions for all agents at once (the same random numbers as marljax.sample_valid_actions).
        avail = (
            env.get_avail_actions(state) if has_avail else {a: jnp.ones(n, bool) for a, n in zip(agents, num_actions)}
        )
        width = max(num_actions)
        mask = jnp.stack([jnp.pad(avail[a], (0, width - n)) for a, n in zip(agents, num_actions)])
        actions = sample_valid_actions(key, mask)
        return {a: actions[i] for i, a in enumerate(agents)}

    @jax.jit
    def run(key):
        reset_key, run_key = jax.random.split(key)
        carry = jax.vmap(env.reset)(jax.random.split(reset_key, num_envs))

        def one_step(carry, step_key):
            # The observations stay in the carry, as in any learner's loop (and as in the bridge's
            # timestep): XLA may not drop their computation.
            _, state = carry
            act_key, env_key = jax.random.split(step_key)
            actions = jax.vmap(act)(jax.random.split(act_key, num_envs), state)
            obs, state, rewards, dones, _ = jax.vmap(env.step)(jax.random.split(env_key, num_envs), state, actions)
            return (obs, state), rewards[agents[0]].sum()

        return jax.lax.scan(one_step, carry, jax.random.split(run_key, num_steps))[1]

    return lambda i: jax.block_until_ready(run(jax.random.PRNGKey(i)))


def bridged(name: str, kwargs: dict, num_envs: int, num_steps: int):
    """``run(i)``: the same loop through the bridge -- ``lax.scan`` over the vmapped, auto-resetting
    bridged step, actions sampled from the observation's mask -- blocking until done."""
    env = AutoResetWrapper(marljax.make("jaxmarl/" + name, **kwargs))
    policy = marljax.random_policy(env.unwrapped) if env.unwrapped.action_type != "discrete" else None

    def act(key, observation):
        return policy(key, observation) if policy else sample_valid_actions(key, observation.action_mask)

    @jax.jit
    def run(key):
        reset_key, run_key = jax.random.split(key)
        carry = jax.vmap(env.reset)(jax.random.split(reset_key, num_envs))

        def one_step(carry, step_key):
            state, timestep = carry
            actions = jax.vmap(act)(jax.random.split(step_key, num_envs), timestep.observation)
            state, timestep = jax.vmap(env.step)(state, actions)
            return (state, timestep), timestep.reward[:, 0].sum()

        return jax.lax.scan(one_step, carry, jax.random.split(run_key, num_steps))[1]

    return lambda i: jax.block_until_ready(run(jax.random.PRNGKey(i)))


def rollout(name: str, kwargs: dict, num_envs: int, num_steps: int):
    """``run(i)``: ``marljax.rollout`` of the bridged env (the whole trajectory kept), blocking."""
    env = marljax.make("jaxmarl/" + name, **kwargs)
    policy = marljax.random_policy(env)
    return lambda i: jax.block_until_ready(marljax.rollout(env, policy, jax.random.PRNGKey(i), num_envs, num_steps)[1])


def measure(num_envs: int, num_steps: int, repeats: int, names=None) -> list[dict]:
    rows = []
    for name, kwargs, what in ENVS:
        if names and name not in names:
            continue
        runs = [make(name, kwargs, num_envs, num_steps) for make in (raw_jaxmarl, bridged, rollout)]
        for run in runs:  # compile
            run(0)
        raw, bridge, full = float("inf"), float("inf"), float("inf")
        for i in range(1, repeats + 1):  # interleaved, so that a busy machine slows all alike
            raw = min(raw, _time(runs[0], i))
            bridge = min(bridge, _time(runs[1], i))
            full = min(full, _time(runs[2], i))
        steps = num_envs * num_steps
        rows.append(
            {
                "env": name,
                "what": what,
                "num_envs": num_envs,
                "num_steps": num_steps,
                "raw_steps_per_s": steps / raw,
                "bridge_steps_per_s": steps / bridge,
                "rollout_steps_per_s": steps / full,
                "overhead": bridge / raw - 1.0,
            }
        )
        print(_line(rows[-1]), flush=True)
    return rows


def _time(run, i) -> float:
    tic = time.perf_counter()
    run(i)
    return time.perf_counter() - tic


def _line(row: dict) -> str:
    return (
        f"| {row['env']:<22} | {row['num_envs']:>5} x {row['num_steps']:<4} | {row['raw_steps_per_s']:>12,.0f} | "
        f"{row['bridge_steps_per_s']:>12,.0f} | {row['bridge_steps_per_s'] / row['raw_steps_per_s']:>6.3f}x | "
        f"{100 * row['overhead']:>+7.1f}% | {row['rollout_steps_per_s']:>12,.0f} |"
    )


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-envs", type=int, default=1024, help="envs stepped in parallel (default 1024)")
    parser.add_argument("--num-steps", type=int, default=32, help="steps per timed rollout (default 32)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats, best kept (default 3)")
    parser.add_argument("--envs", nargs="*", help=f"only these JaxMARL envs (default: {[e[0] for e in ENVS]})")
    args = parser.parse_args(argv)
    for flag in ("num_envs", "num_steps", "repeats"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be positive")
    print(f"JaxMARL bridge overhead ({jax.devices()[0].platform}, one process, best of {args.repeats})")
    print(
        "| env                    | envs x steps | raw JaxMARL steps/s | bridge steps/s | ratio | overhead "
        "| marljax.rollout steps/s |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    rows = measure(args.num_envs, args.num_steps, args.repeats, args.envs)
    return {"rows": rows}


if __name__ == "__main__":
    main()
