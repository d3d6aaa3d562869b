"""Soccer throughput: marljax ``soccer/Soccer-v0`` vs VMAS ``football``, side by side in one process.

Both play 3 v 3 on VMAS's default pitch (3 x 1.5, goals 0.35, the same disc sizes, masses,
speeds, drag, dt and 2 physics sub-steps) with the learning (blue) team taking uniform random
actions and the red team played by each simulator's scripted AI:

- **marljax**: one jitted ``lax.scan`` over steps of the ``vmap``-ed, auto-resetting
  ``soccer/Soccer-v0`` step (scripted opponent at strength 1, uniform random discrete actions
  with kicks), keeping a reward sum as VMAS's loop does; compiled first, best of ``--repeats``.
  The ratio uses this loop with auto-reset (every env restarts when its episode ends; under
  ``vmap`` the reset is computed for every env at every step and selected). Also shown: the same
  loop without auto-reset (VMAS's loop never resets: envs go on after a goal) and
  ``marljax.rollout``, which keeps the whole trajectory in memory.
- **VMAS** ``football`` (PyTorch, batched on the CPU, ``ai_red_agents=True``, random continuous
  actions; ``torch.no_grad``), best of ``--repeats``; skipped when vmas is not installed. Torch
  runs one thread by default (``--torch-threads``): on a shared 2-core machine its two
  spin-waiting threads ran ~10x slower than one.

Prints env-steps/s and the ratio, and writes them as JSON (``--out``). The anchor on this
project's 2-core machine: VMAS ``football`` ran 52,000 env-steps/s at 4096 envs.

    python benchmarks/throughput_soccer.py --num-envs 4096 --num-steps 100
    python benchmarks/env_throughput.py --family soccer
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform

import jax
from peers import best_of  # benchmarks/ is on sys.path when run as a script or through env_throughput

import marljax
from marljax.wrappers import AutoResetWrapper

ANCHOR_VMAS = 52_000  # VMAS football, 3v3, 4096 envs, on this machine (the figure)


def marljax_soccer(num_envs: int, num_steps: int, team_size: int, repeats: int) -> dict:
    """Env-steps/s of ``soccer/Soccer-v0`` under random actions against the scripted team.

    ``"steps"``: step every env (observations, rewards, auto-reset), keep nothing but a running
    reward sum; ``"steps_no_reset"``: the same without auto-reset, as VMAS's loop;
    ``"rollout"``: ``marljax.rollout``, which also keeps the whole trajectory (observations,
    actions, rewards, metrics) in memory.
    """
    env = marljax.make("soccer/Soccer-v0", team_size=team_size, strength=1.0)
    num_agents, num_actions = env.num_agents, env.num_actions

    def step_loop(stepped):
        @jax.jit
        def steps(key):
            reset_key, run_key = jax.random.split(key)
            state, _ = jax.vmap(stepped.reset)(jax.random.split(reset_key, num_envs))

            def one(carry, key):
                state, total = carry
                action = jax.random.randint(key, (num_envs, num_agents), 0, num_actions)
                state, timestep = jax.vmap(stepped.step)(state, action)
                return (state, total + timestep.reward.sum()), None

            return jax.lax.scan(one, (state, 0.0), jax.random.split(run_key, num_steps))[0][1]

        return steps

    policy = marljax.random_policy(env)
    rollout = jax.jit(lambda key: marljax.rollout(env, policy, key, num_envs, num_steps)[1].reward)
    loops = (("steps", step_loop(AutoResetWrapper(env))), ("steps_no_reset", step_loop(env)), ("rollout", rollout))
    return {
        name: num_envs * num_steps / best_of(lambda i, f=f: f(jax.random.PRNGKey(i)).block_until_ready(), repeats)
        for name, f in loops
    }


def vmas_football(num_envs: int, num_steps: int, team_size: int, repeats: int, threads: int = 0) -> float:
    """Env-steps/s of VMAS ``football`` (scripted red team) under random blue actions, with
    ``threads`` torch threads (0: torch's default)."""
    import torch
    import vmas

    if threads:
        torch.set_num_threads(threads)

    env = vmas.make_env(
        "football",
        num_envs=num_envs,
        device="cpu",
        continuous_actions=True,
        seed=0,
        n_blue_agents=team_size,
        n_red_agents=team_size,
        ai_red_agents=True,
    )

    def run(_):
        env.reset()
        with torch.no_grad():
            for _ in range(num_steps):
                env.step([env.get_random_action(agent) for agent in env.agents])

    return num_envs * num_steps / best_of(run, repeats)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-envs", type=int, nargs="*", default=[4096])
    parser.add_argument("--num-steps", type=int, default=100)
    parser.add_argument("--team-size", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-vmas", action="store_true", help="time marljax only")
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="VMAS's torch threads (default 1: on a shared machine torch's spinning threads run ~10x slower; "
        "0 = torch's default)",
    )
    parser.add_argument("--out", default="benchmarks/figures/soccer_throughput.json", help="JSON results path")
    args = parser.parse_args(argv)

    try:
        import vmas  # noqa: F401

        has_vmas = not args.no_vmas
    except ImportError:
        has_vmas = False
    print(
        f"soccer {args.team_size}v{args.team_size}, {args.num_steps} steps/rollout, device {jax.devices()[0]}, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch threads {args.torch_threads or 'default'}; "
        f"VMAS anchor {ANCHOR_VMAS:,} env-steps/s at 4096 envs"
    )
    print(
        f"{'envs':>6} {'marljax':>12} {'(no reset)':>12} {'(rollout)':>12} {'VMAS':>12} {'ratio':>7} {'(no reset)':>10}"
    )
    rows = []
    for num_envs in args.num_envs:
        ours = marljax_soccer(num_envs, args.num_steps, args.team_size, args.repeats)
        peer = (
            vmas_football(num_envs, args.num_steps, args.team_size, args.repeats, args.torch_threads)
            if has_vmas
            else None
        )
        ratio = ours["steps"] / peer if peer else None
        ratio_no_reset = ours["steps_no_reset"] / peer if peer else None
        rows.append(
            {
                "num_envs": num_envs,
                "marljax": ours["steps"],
                "marljax_no_reset": ours["steps_no_reset"],
                "marljax_rollout": ours["rollout"],
                "vmas": peer,
                "ratio": ratio,
                "ratio_no_reset": ratio_no_reset,
            }
        )
        peer_text = f"{peer:12,.0f}" if peer else f"{'n/a':>12}"
        ratio_text = f"{ratio:6.1f}x {ratio_no_reset:9.1f}x" if ratio else f"{'n/a':>7} {'n/a':>10}"
        print(
            f"{num_envs:6d} {ours['steps']:12,.0f} {ours['steps_no_reset']:12,.0f} {ours['rollout']:12,.0f} "
            f"{peer_text} {ratio_text}"
        )
    result = {
        "benchmark": "soccer 3v3 vs VMAS football (scripted red team), env-steps/s",
        "team_size": args.team_size,
        "num_steps": args.num_steps,
        "device": str(jax.devices()[0]),
        "torch_threads": args.torch_threads,
        "vmas_anchor": ANCHOR_VMAS,
        "rows": rows,
    }
    if args.out:
        path = pathlib.Path(args.out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2))
        print(f"wrote {path}")
    return result


if __name__ == "__main__":
    main()
