"""Swarms throughput: Vicsek from 10 to 10,000 agents (all-pairs vs cell list) and Flocking beside VMAS.

    python benchmarks/throughput_swarms.py                       # everything, short runs
    python benchmarks/throughput_swarms.py --sizes 10 100 1000 10000 --num-steps 50
    python benchmarks/throughput_swarms.py --skip-vmas           # no torch
    python benchmarks/throughput_swarms.py --returns             # random vs classic returns per env

**Scaling in N.** Each row times one jitted ``lax.scan`` of Vicsek-v0 steps under the classic
(Vicsek) policy, vmapped over ``max(1, 10,000 // N)`` envs so that every row steps about
10,000 agents per step (a lone 10-agent env measures dispatch, not physics); the figure is
agent-steps/s = envs x N x steps / seconds (best of 3, after compiling). Both neighbour methods
run at every N where they can (the cell list needs ``L / r >= 3``; all-pairs above 10,000
agents needs ``N^2`` memory); the crossover is the smallest N where the cell list wins.
Every timed run is checked for neighbour overflow (an overflowed run is reported, not timed).

**Memory at N = 10,000.** XLA's compiled memory (temporaries + arguments + outputs) of one
step, per method, and the process's peak resident memory.

**Flocking beside VMAS.** Flocking-v0 and VMAS ``flocking`` (same defaults: 4 agents, 5
obstacles, 12 lidar rays), 4,096 envs, uniform random actions in [-1, 1], in one process:
env-steps/s and the ratio (VMAS's anchor on this machine: 38,500 env-steps/s).
"""

from __future__ import annotations

import argparse
import platform
import resource

import jax
import jax.numpy as jnp
from peers import best_of  # benchmarks/ is on sys.path when run as a script or through env_throughput

import marljax
from marljax.envs.swarms import classic_policy
from marljax.physics.neighbours import NeighbourOverflowError, check_overflow

VMAS_ANCHOR = 38_500  # env-steps/s, VMAS flocking at 4096 envs on this machine (issue 14)
AGENTS_PER_ROW = 10_000


def vicsek_rollout(num_agents: int, method: str, num_envs: int, num_steps: int):
    """A jitted ``key -> (order parameters, overflow flags)`` of Vicsek-v0 under the classic policy."""
    env = marljax.make("swarms/Vicsek-v0", num_agents=num_agents, neighbour_method=method)
    policy = classic_policy(env)

    @jax.jit
    def run(key):
        reset_key, run_key = jax.random.split(key)
        carry = jax.vmap(env.reset)(jax.random.split(reset_key, num_envs))

        def one_step(carry, step_key):
            state, timestep = carry
            action = jax.vmap(policy)(jax.random.split(step_key, num_envs), timestep.observation)
            state, timestep = jax.vmap(env.step)(state, action)
            return (state, timestep), (
                timestep.extras["order_parameter"],
                timestep.extras["metrics"]["neighbour_overflow"],
            )

        return jax.lax.scan(one_step, carry, jax.random.split(run_key, num_steps))[1]

    return env, run


def vicsek_scaling(sizes, num_steps: int, repeats: int) -> list[dict]:
    rows = []
    for n in sizes:
        num_envs = max(1, AGENTS_PER_ROW // n)
        row = {"N": n, "envs": num_envs}
        for method in ("all_pairs", "cell_list"):
            if method == "all_pairs" and n > AGENTS_PER_ROW:
                row[method] = "skipped (N^2 memory)"
                continue
            try:
                _, run = vicsek_rollout(n, method, num_envs, num_steps)
            except ValueError as err:  # the cell list in a box under 3 radii
                row[method] = "n/a (L < 3r)" if "box too small" in str(err) else f"error: {err}"
                continue
            try:
                _, overflow = run(jax.random.PRNGKey(0))
                check_overflow(overflow)
            except NeighbourOverflowError:
                row[method] = "overflow"
                continue
            seconds = best_of(lambda i: run(jax.random.PRNGKey(i))[0].block_until_ready(), repeats)
            row[method] = num_envs * n * num_steps / seconds
        rows.append(row)
        print(_scaling_line(row), flush=True)
    return rows


def _scaling_line(row: dict) -> str:
    cells = []
    for method in ("all_pairs", "cell_list"):
        value = row[method]
        cells.append(f"{value:>14,.0f}" if isinstance(value, float) else f"{value:>14}")
    ratio = ""
    if all(isinstance(row[m], float) for m in ("all_pairs", "cell_list")):
        ratio = f"{row['cell_list'] / row['all_pairs']:>8.2f}x"
    return f"{row['N']:>7,} {row['envs']:>6} " + " ".join(cells) + f" {ratio}"


def crossover(rows: list[dict]):
    """The smallest N where the cell list beats all-pairs (None if it never does)."""
    for row in rows:
        if all(isinstance(row[m], float) for m in ("all_pairs", "cell_list")) and row["cell_list"] > row["all_pairs"]:
            return row["N"]
    return None


def memory_at(num_agents: int) -> dict:
    """Compiled bytes of one Vicsek step at ``num_agents`` for each method."""
    out = {}
    for method in ("all_pairs", "cell_list"):
        env = marljax.make("swarms/Vicsek-v0", num_agents=num_agents, neighbour_method=method)
        state, _ = env.reset(jax.random.PRNGKey(0))
        compiled = jax.jit(env.step).lower(state, jnp.zeros((num_agents, 1), jnp.float32)).compile()
        stats = compiled.memory_analysis()
        if stats is None:
            out[method] = None
            continue
        total = stats.temp_size_in_bytes + stats.argument_size_in_bytes + stats.output_size_in_bytes
        out[method] = total
    return out


def flocking_steps_per_second(num_envs: int, num_steps: int, repeats: int) -> float:
    """Flocking-v0: steps only (the envs are reset once, outside the timer, as for VMAS)."""
    env = marljax.make("swarms/Flocking-v0")
    state, _ = jax.jit(jax.vmap(env.reset))(jax.random.split(jax.random.PRNGKey(0), num_envs))

    @jax.jit
    def run(state, key):
        def one_step(state, step_key):
            # One draw for the whole batch, as VMAS's torch.rand: per-env key splits would time the PRNG.
            action = jax.random.uniform(step_key, (num_envs, env.num_agents, 2), jnp.float32, -1.0, 1.0)
            state, timestep = jax.vmap(env.step)(state, action)
            return state, timestep.reward[:, 0]

        return jax.lax.scan(one_step, state, jax.random.split(key, num_steps))[1]

    seconds = best_of(lambda i: run(state, jax.random.PRNGKey(i)).block_until_ready(), repeats)
    return num_envs * num_steps / seconds


def vmas_flocking_steps_per_second(num_envs: int, num_steps: int, repeats: int) -> float:
    """VMAS ``flocking`` on the CPU (torch, batched over envs), uniform random continuous actions;
    steps only (reset once, outside the timer; VMAS flocking never ends by itself)."""
    import torch
    import vmas

    env = vmas.make_env("flocking", num_envs=num_envs, device="cpu", continuous_actions=True, seed=0)
    env.reset()

    def run(_):
        with torch.no_grad():
            for _ in range(num_steps):
                env.step([torch.rand(num_envs, 2) * 2 - 1 for _ in env.agents])

    return num_envs * num_steps / best_of(run, repeats)


def policy_returns(episodes: int) -> list[dict]:
    """Mean episode return and order parameter of the random and the classic policy per env."""
    from marljax.evaluation import play_episodes, summarise

    settings = {
        "swarms/Vicsek-v0": {"num_agents": 10, "box_size": 2.5},
        "swarms/Kuramoto-v0": {"num_agents": 20},
        "swarms/Aggregation-v0": {"num_agents": 10},
        "swarms/Flocking-v0": {},
    }
    rows = []
    for name, kwargs in settings.items():
        env = marljax.make(name, **kwargs)
        for label, agent_policy in (("random", marljax.random_policy(env)), ("classic", classic_policy(env))):

            def batch_policy(carry, observation, first, key, agent_policy=agent_policy):
                keys = jax.random.split(key, first.shape[0])
                return carry, jax.vmap(agent_policy)(keys, observation)

            summary = summarise(play_episodes(env, batch_policy, jax.random.PRNGKey(0), episodes))
            row = {
                "env": name,
                "kwargs": kwargs,
                "policy": label,
                "mean_return": float(summary["mean_return"]),
                "order_parameter": float(summary["metrics"]["order_parameter"]),
            }
            rows.append(row)
            print(f"{name:<24} {label:<8} return {row['mean_return']:>10.2f}  order {row['order_parameter']:.3f}")
    return rows


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 10000])
    parser.add_argument("--num-steps", type=int, default=50, help="steps per timed Vicsek rollout")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--flocking-envs", type=int, default=4096)
    parser.add_argument("--flocking-steps", type=int, default=50)
    parser.add_argument("--skip-vmas", action="store_true", help="do not run VMAS (torch)")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--skip-flocking", action="store_true")
    parser.add_argument("--returns", action="store_true", help="only: random vs classic returns per env")
    parser.add_argument("--episodes", type=int, default=32)
    args = parser.parse_args(argv)
    print(
        f"machine: {platform.processor() or platform.machine()}, jax {jax.__version__} on {jax.devices()[0].platform}"
    )
    if args.returns:
        return {"returns": policy_returns(args.episodes)}
    result = {}
    if not args.skip_scaling:
        print(
            f"\nVicsek-v0 agent-steps/s (classic policy, ~{AGENTS_PER_ROW:,} agents per step, {args.num_steps} steps)"
        )
        print(f"{'N':>7} {'envs':>6} {'all-pairs':>14} {'cell list':>14} {'cell/all':>9}")
        rows = vicsek_scaling(args.sizes, args.num_steps, args.repeats)
        result["scaling"] = rows
        result["crossover"] = crossover(rows)
        print(f"crossover: the cell list is faster from N = {result['crossover']} on (of the sizes measured)")
        big = max(args.sizes)
        memory = memory_at(big)
        result["memory"] = memory
        for method, total in memory.items():
            shown = "n/a" if total is None else f"{total / 2**20:,.1f} MiB"
            print(f"compiled memory of one step at N = {big:,}, {method}: {shown}")
    if not args.skip_flocking:
        print(f"\nFlocking at {args.flocking_envs} envs, {args.flocking_steps} steps, random actions (env-steps/s)")
        ours = flocking_steps_per_second(args.flocking_envs, args.flocking_steps, args.repeats)
        result["flocking"] = ours
        print(f"marljax Flocking-v0  {ours:>12,.0f}   ({ours / VMAS_ANCHOR:.1f}x the 38,500 anchor)")
        if not args.skip_vmas:
            try:
                peer = vmas_flocking_steps_per_second(args.flocking_envs, args.flocking_steps, args.repeats)
            except ImportError:
                print("VMAS flocking         not installed (pip install vmas)")
            else:
                result["vmas_flocking"] = peer
                print(f"VMAS flocking        {peer:>12,.0f}")
                print(f"ratio marljax / VMAS {ours / peer:>12.1f}x  (target 10x)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    result["peak_rss_mib"] = peak
    print(f"\npeak resident memory of this process: {peak:,.0f} MiB")
    return result


if __name__ == "__main__":
    main()
