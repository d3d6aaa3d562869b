"""Exact Shapley values from rollouts: all coalitions in one vmapped batch vs. Python loops.

The same IPPO policy (a freshly initialised network; speed does not depend on training) on SimpleTag with ``n`` predators and a scripted
prey, noop replacement, ``E`` episodes per coalition, all ``2^n`` coalitions:

- ``vmapped``: :func:`marljax.solvers.shapley.exact` -- every coalition's episodes in one jitted
  ``vmap`` (coalition masks are arrays);
- ``loop over coalitions``: a Python loop calling the jitted episode batch of one coalition
  ``2^n`` times (what a JAX user writes without vmapping the masks);
- ``loop over steps`` (the way the paper's public code works): for each coalition and episode,
  a Python loop over time calling the jitted policy and ``env.step`` of one env; it is timed on
  ``--step-loop-episodes`` episodes per coalition and reported per episode.

Each is warmed up first (compilation is reported apart), then the three are timed in turn for
``--rounds`` rounds and each one's best time is kept. Printed: episodes per second and the
speed-up of the vmapped batch over each loop; all three give the same values up to episode noise.

    nice -n 10 python benchmarks/shapley.py --predators 3 5 --episodes 64 512
"""

from __future__ import annotations

import argparse
import itertools
import json
import time

import jax
import jax.numpy as jnp
import numpy as np

import marljax
from marljax.solvers import shapley
from marljax.solvers.learners.registry import get_learner


def make_game(num_predators: int, episodes: int, key):
    speeds = list(np.linspace(0.6, 1.4, num_predators)) + [1.3]
    env = marljax.make("mpe/SimpleTag-v0", num_predators=num_predators, prey="scripted", speeds=speeds)
    spec = get_learner("ippo")
    learner = spec.make_learner(spec.config(total_steps=1e5), env)
    params = learner.init(key).params
    carry = learner.initial_carry(episodes)["actor"]
    game = shapley.rollout_game(
        env, shapley.learner_policy(learner), key, episodes, "noop", initial_carry=(params, carry)
    )
    return env, learner, params, game


def timed_rounds(fns: dict, rounds: int):
    """Warm each of ``fns`` up once (compiling), then time them in turn for ``rounds`` rounds: interleaving
    spreads a shared machine's load over all of them. Returns ``{name: (result, best seconds, warm-up seconds)}``."""
    out = {}
    for name, fn in fns.items():
        tic = time.perf_counter()
        out[name] = [fn(), float("inf"), time.perf_counter() - tic]
    for _ in range(rounds):
        for name, fn in fns.items():
            tic = time.perf_counter()
            out[name][0] = fn()
            out[name][1] = min(out[name][1], time.perf_counter() - tic)
    return {name: tuple(v) for name, v in out.items()}


def loop_over_coalitions(one, n: int):
    """``one = jax.jit(game.samples)``, built once (the mask is its argument), called per coalition."""
    table = np.stack([np.asarray(one(jnp.asarray(m)), np.float64) for m in shapley.coalition_masks(n)])
    return shapley.shapley_weights(n) @ table.mean(1)


def loop_over_steps(env, learner, params, n: int, episodes: int, key):
    """Per coalition, per episode, per step: the jitted policy and env.step of one env, driven from Python."""
    act = jax.jit(
        lambda p, obs, k: learner.act(p, learner.initial_carry(1)["actor"], obs, jnp.zeros((1, n), bool), k)[1]
    )
    step = jax.jit(env.step)
    reset = jax.jit(env.reset)
    masks = shapley.coalition_masks(n)
    worths = np.zeros(len(masks))
    for c, mask in enumerate(masks):
        total = 0.0
        for e in range(episodes):
            state, timestep = reset(jax.random.fold_in(key, e))
            for t in range(env.max_steps):
                observation = jax.tree_util.tree_map(lambda x: x[None], timestep.observation)
                action = np.asarray(act(params, observation, jax.random.fold_in(key, 1000 * e + t))[0])
                action = np.where(mask, action, 0)  # noop for non-members
                state, timestep = step(state, jnp.asarray(action, jnp.int32))
                total += float(np.sum(timestep.reward))
        worths[c] = total / episodes
    return shapley.shapley_weights(n) @ worths


def main(argv=None) -> list:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--predators", type=int, nargs="+", default=[3, 5], help="players n (default 3 5)")
    parser.add_argument(
        "--episodes", type=int, nargs="+", default=[64, 512], help="episodes per coalition (default 64 512)"
    )
    parser.add_argument("--step-loop-episodes", type=int, default=2, help="episodes per coalition of the step loop")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds after the warm-up (best kept)")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)

    print(f"device: {jax.devices()[0]}; SimpleTag (scripted prey), IPPO policy, noop replacement, exact values")
    rows = []
    for n, episodes in itertools.product(args.predators, args.episodes):
        key = jax.random.PRNGKey(n)
        env, learner, params, game = make_game(n, episodes, key)
        coalitions = 2**n
        total = coalitions * episodes
        one = jax.jit(game.samples)
        timings = timed_rounds(
            {
                "vmapped": lambda: shapley.exact(game, n),
                "coalition_loop": lambda: loop_over_coalitions(one, n),
                "step_loop": lambda: loop_over_steps(env, learner, params, n, args.step_loop_episodes, key),
            },
            args.rounds,
        )
        (vmapped, vmapped_s, vmapped_first), (looped, looped_s, _), (stepped, stepped_s, _) = timings.values()
        stepped_rate = coalitions * args.step_loop_episodes / stepped_s
        row = {
            "players": n,
            "coalitions": coalitions,
            "episodes_per_coalition": episodes,
            "vmapped_episodes_per_s": total / vmapped_s,
            "coalition_loop_episodes_per_s": total / looped_s,
            "step_loop_episodes_per_s": stepped_rate,
            "speedup_over_coalition_loop": looped_s / vmapped_s,
            "speedup_over_step_loop": (total / vmapped_s) / stepped_rate,
            "vmapped_compile_and_run_s": vmapped_first,
            "max_value_difference_loop": float(np.max(np.abs(looped - vmapped.values))),
            "values": vmapped.values.tolist(),
            "step_loop_values": stepped.tolist(),
        }
        rows.append(row)
    header = (
        f"{'n':>3} {'coalitions':>10} {'episodes':>8} {'vmapped ep/s':>13} {'coalition loop':>15} {'step loop':>10} "
        + (f"{'x coalition loop':>17} {'x step loop':>12}")
    )
    print(header)
    for r in rows:
        print(
            f"{r['players']:>3} {r['coalitions']:>10} {r['episodes_per_coalition']:>8} "
            f"{r['vmapped_episodes_per_s']:>13,.0f} "
            f"{r['coalition_loop_episodes_per_s']:>15,.0f} {r['step_loop_episodes_per_s']:>10,.1f} "
            f"{r['speedup_over_coalition_loop']:>16.1f}x {r['speedup_over_step_loop']:>11,.0f}x"
        )
    print(
        "(episodes of 25 steps; the loop over coalitions computes the same values: max difference "
        f"{max(r['max_value_difference_loop'] for r in rows):.2e})"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)
    return rows


if __name__ == "__main__":
    main()
