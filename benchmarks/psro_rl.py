"""PSRO with an RL oracle on Kuhn poker: marljax (PPO, jitted) beside OpenSpiel's ``psro_v2``
(its ``RLOracle`` with a policy-gradient best response), in one run, scored by exact NashConv.

Both sides run PSRO with the Nash meta-solver on two-player Kuhn poker for ``--iterations``
iterations. After every iteration, each side's meta-strategy mixture is turned into one
behaviour policy per information set (weighting each population member by its own reach
probability) and scored by the *exact* NashConv:

- marljax: :func:`marljax.solvers.psro_rl.make_rl_psro` on ``cards/KuhnPoker-v0`` (teams
  ``(0,), (1,)``), each iteration the solver's ``update`` (jitted pieces, each compiled once;
  both players' PPO best responses are one compiled program); every population actor is read as a
  ``[12, 2]`` table on the 12 information-set observations and mixed by
  :func:`marljax.envs.cards.kuhn.tree.mixture_policy`; NashConv by
  :func:`marljax.envs.cards.kuhn.tree.nash_conv`.
- OpenSpiel: ``psro_v2.PSROSolver`` with ``rl_oracle.RLOracle`` and OpenSpiel's own
  ``rl_policy.rl_policy_factory`` wrapper around its PyTorch ``PolicyGradient`` (the example's
  JAX/TF policy gradient needs haiku/rlax or TensorFlow, not installed here; the PyTorch one is
  the same algorithm), loss ``qpg`` and the example's optimiser settings; NashConv of
  ``policy_aggregator``'s aggregate by ``exploitability.nash_conv`` (the number
  ``psro_v2_example.py`` prints as "Exploitabilities"), cross-checked against ours.

Wall-clock counts the PSRO iterations only (the exact scoring is done outside both clocks);
marljax's includes its compilation. Target: reach OpenSpiel's final NashConv in a tenth of its
wall-clock. Prints a table with seconds per iteration and the ratio; writes a JSON record and
one plot (NashConv vs wall-clock, two curves). OpenSpiel's budget: ``--openspiel-budget
example`` (default, the faithful setting: ``psro_v2_example.py``'s 10,000 training episodes per
best response and 1,000 episodes per meta-game entry) or ``reduced`` (2,000 and 200).

    nice -n 10 .venv/bin/python benchmarks/psro_rl.py --iterations 8 [--openspiel-budget reduced]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import sys
import time
import types

import jax
import jax.numpy as jnp
import numpy as np

import marljax
import marljax.envs.cards  # noqa: F401 (registers cards/KuhnPoker-v0 until envs/__init__ imports it)
from marljax.envs.cards.kuhn import tree
from marljax.envs.cards.kuhn.env import infoset_views
from marljax.solvers import psro_rl
from marljax.solvers.learners.networks import ActorCritic
from marljax.solvers.learners.ppo import PPOConfig
from marljax.solvers.psro import meta_solvers
from marljax.types import Observation

# --------------------------------------------------------------------------- marljax


def kuhn_config(args) -> psro_rl.RLOracleConfig:
    ppo = PPOConfig(
        total_steps=args.ppo_steps,
        num_envs=64,
        num_steps=8,
        lr=3e-3,
        ent_coef=0.0,
        hidden_size=32,
        update_epochs=4,
        num_minibatches=4,
    )
    return psro_rl.RLOracleConfig(ppo=ppo, sims_per_entry=args.sims_per_entry, teams=((0,), (1,)), eval_episodes=256)


def tabulariser(env, ppo: PPOConfig):
    """``tables(actors) -> [2, K, 12, 2]``: every population actor's action probabilities at the
    12 information-set observations (player ``t``'s rows as agent ``t``)."""
    nets = ActorCritic.for_env(
        env, ppo.hidden_size, ppo.activation, ppo.recurrent, ppo.share_parameters, ppo.centralised_critic
    )
    views = jnp.asarray(infoset_views())  # [12, 11]
    owner = jnp.arange(tree.NUM_INFOSETS) // 6
    agents_view = jnp.zeros((tree.NUM_INFOSETS, 2, views.shape[1])).at[jnp.arange(12), owner].set(views)
    obs = Observation(
        agents_view=agents_view[None],
        action_mask=jnp.ones((1, tree.NUM_INFOSETS, 2, 2), bool),
        step_count=jnp.zeros((1, tree.NUM_INFOSETS), jnp.int32),
        global_state=jnp.zeros((1, tree.NUM_INFOSETS, 2, 2 * views.shape[1])),
        agent_type=jnp.broadcast_to(jnp.arange(2), (1, tree.NUM_INFOSETS, 2)),
    )
    carry = nets.initial_carry(tree.NUM_INFOSETS)["actor"]
    reset = jnp.zeros((1, tree.NUM_INFOSETS, 2), bool)

    def table(actor_params):
        _, pi = nets.policy(actor_params, carry, obs, reset)
        probs = pi.probs[0]  # [12, 2 agents, 2 actions]
        return probs[jnp.arange(tree.NUM_INFOSETS), owner]

    return jax.jit(jax.vmap(jax.vmap(table)))


def behaviour_nash_conv(tables, sigma) -> float:
    """Exact NashConv of the meta-strategy ``sigma [2, K]`` over the tabularised population."""
    player0 = tree.mixture_policy(tables[0], sigma[0])
    player1 = tree.mixture_policy(tables[1], sigma[1])
    return float(tree.nash_conv(jnp.concatenate([player0[:6], player1[6:]])))


def run_marljax(args) -> dict:
    env = marljax.make("cards/KuhnPoker-v0")
    config = kuhn_config(args)
    # psro_v2's "nash" meta-solver is the zero-sum LP (meta_strategies.nash_strategy); Kuhn's
    # simulated meta-game is exactly zero-sum (every episode pays +-x), so ours is the same LP.
    meta = meta_solvers.make_meta_solver("nash_zero_sum")
    solver = psro_rl.make_rl_psro(env, meta, args.iterations + 1, config)
    # The solver's own init/update: each calls jitted pieces compiled once (jitting them whole
    # would compile everything again). The clock also covers the meta-strategy of the
    # population each iteration produced (the one scored), as psro_v2 solves its meta-game
    # inside its iteration.
    start = time.perf_counter()
    state = jax.block_until_ready(solver.init(jax.random.PRNGKey(args.seed)))
    clock, sigmas, seconds = [], [], []
    for _ in range(args.iterations):
        tick = time.perf_counter()
        state = solver.update(state)
        sigmas.append(np.asarray(solver.meta_strategy(state)))  # blocks until the iteration is done
        seconds.append(time.perf_counter() - tick)
        clock.append(time.perf_counter() - start)
    tables = tabulariser(env, config.ppo)(state.actors)
    return {
        "wall_clock": clock,
        "nash_conv": [behaviour_nash_conv(tables, s) for s in sigmas],  # after each iteration
        "seconds_per_iteration": seconds,
        "seconds_before_first_iteration": clock[0] - seconds[0],
        "budget": {
            "ppo_steps_per_best_response": args.ppo_steps,
            "sims_per_entry": args.sims_per_entry,
            "ppo": dataclasses.asdict(config.ppo),
        },
    }


# --------------------------------------------------------------------------- OpenSpiel


def openspiel_pg_policy_class():
    """OpenSpiel's ``rl_policy`` wrapper around its PyTorch ``PolicyGradient``. ``rl_policy``
    imports the JAX agents at module level (haiku, rlax: not installed), so those two modules
    are stubbed before the import; nothing of them is used."""
    for name in ("dqn", "policy_gradient"):
        full = f"open_spiel.python.jax.{name}"
        if full not in sys.modules:
            stub = types.ModuleType(full)
            setattr(stub, "DQN" if name == "dqn" else "PolicyGradient", object)
            sys.modules[full] = stub
    from open_spiel.python.algorithms.psro_v2 import rl_policy
    from open_spiel.python.pytorch import policy_gradient

    class PolicyGradient(policy_gradient.PolicyGradient):
        """The PyTorch agent's ``copy_with_noise`` indexes ``.weight`` on its ``Sequential``
        layers and fails; with the example's ``sigma = 0`` it is: a fresh agent with the same
        settings, given this one's network weights (what OpenSpiel's copy does without noise)."""

        def copy_with_noise(self, sigma=0.0, copy_weights=True):
            if sigma:
                raise ValueError("this benchmark copies OpenSpiel policies with sigma = 0")
            copied = type(self)(**{k: v for k, v in self._kwargs.items() if k not in ("self", "__class__")})
            if copy_weights:
                for name in ("_net_torso", "_policy_logits_layer", "_q_values_layer", "_baseline_layer"):
                    if hasattr(self, name):
                        getattr(copied, name).load_state_dict(getattr(self, name).state_dict())
            return copied

    return rl_policy.rl_policy_factory(PolicyGradient)


def openspiel_table(game, aggregated) -> np.ndarray:
    """OpenSpiel's aggregated policy as our ``[12, 2]`` table: its action probabilities at a
    state of each information set (deal the owner's card, any other card to the other player,
    replay the public history)."""
    table = np.zeros((tree.NUM_INFOSETS, 2))
    for index, (card, history) in enumerate(zip(tree.INFOSET_CARDS, tree.INFOSET_HISTORIES)):
        owner, other = index // 6, (card + 1) % 3
        state = game.new_initial_state()
        state.apply_action(card if owner == 0 else other)
        state.apply_action(other if owner == 0 else card)
        for move in history:
            state.apply_action(int(move == "b"))
        assert state.information_state_string(owner) == tree.OPENSPIEL_KEYS[index]
        for action, prob in aggregated.action_probabilities(state).items():
            table[index, action] = prob
    return table


def run_openspiel(args, episodes: int, sims_per_entry: int) -> dict:
    import pyspiel
    import torch
    from open_spiel.python import rl_environment
    from open_spiel.python.algorithms import exploitability, policy_aggregator
    from open_spiel.python.algorithms.psro_v2 import psro_v2, rl_oracle

    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    game = pyspiel.load_game_as_turn_based("kuhn_poker", {"players": 2})
    env = rl_environment.Environment(game)
    agent_class = openspiel_pg_policy_class()
    agent_kwargs = {  # psro_v2_example.py's PG settings (its 256 x 4 network by default)
        "info_state_size": env.observation_spec()["info_state"][0],
        "num_actions": env.action_spec()["num_actions"],
        "loss_str": "qpg",
        "loss_class": False,
        "hidden_layers_sizes": [args.os_hidden] * args.os_layers,
        "batch_size": 32,
        "entropy_cost": 0.001,
        "critic_learning_rate": 1e-2,
        "pi_learning_rate": 1e-3,
        "num_critic_before_pi": 8,
        "optimizer_str": "adam",
    }
    oracle = rl_oracle.RLOracle(
        env, agent_class, agent_kwargs, number_training_episodes=episodes, self_play_proportion=0.0, sigma=0.0
    )
    agents = [agent_class(env, player, **agent_kwargs) for player in range(2)]
    for agent in agents:
        agent.freeze()
    start = time.perf_counter()
    solver = psro_v2.PSROSolver(
        env.game,
        oracle,
        initial_policies=agents,
        training_strategy_selector="probabilistic",
        rectifier="",
        sims_per_entry=sims_per_entry,
        number_policies_selected=1,
        meta_strategy_method="nash",
        prd_iterations=50000,
        prd_gamma=1e-10,
        sample_from_marginals=True,
        symmetric_game=False,
    )
    setup = time.perf_counter() - start
    clock, curve, ours, seconds, elapsed = [], [], [], [], setup
    for _ in range(args.iterations):
        tick = time.perf_counter()
        solver.iteration()
        seconds.append(time.perf_counter() - tick)
        elapsed += seconds[-1]
        clock.append(elapsed)
        aggregated = policy_aggregator.PolicyAggregator(env.game).aggregate(
            range(2), solver.get_policies(), solver.get_meta_strategies()
        )
        curve.append(float(exploitability.nash_conv(env.game, aggregated)))
        ours.append(float(tree.nash_conv(jnp.asarray(openspiel_table(game, aggregated), jnp.float32))))
        print(f"  OpenSpiel iteration {len(clock)}: {elapsed:.1f} s, NashConv {curve[-1]:.4f}", flush=True)
    return {
        "wall_clock": clock,
        "nash_conv": curve,
        "nash_conv_by_marljax_tree": ours,
        "seconds_per_iteration": seconds,
        "setup_seconds": setup,
        "budget": {
            "training_episodes_per_best_response": episodes,
            "sims_per_entry": sims_per_entry,
            "hidden_layers": [args.os_hidden] * args.os_layers,
        },
    }


# --------------------------------------------------------------------------- report


#: OpenSpiel's (training episodes per best response, episodes per meta-game entry).
OPENSPIEL_BUDGETS = {"example": (10_000, 1_000), "reduced": (2_000, 200)}


def time_to_reach(clock, curve, level) -> float | None:
    for t, value in zip(clock, curve):
        if value <= level + 1e-9:
            return float(t)
    return None


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ppo-steps", type=int, default=16_384, help="marljax: env steps per PPO best response")
    parser.add_argument("--sims-per-entry", type=int, default=256, help="marljax: episodes per meta-game entry")
    parser.add_argument(
        "--openspiel-budget",
        choices=[*OPENSPIEL_BUDGETS, "both"],
        default="example",
        help="OpenSpiel's training episodes per best response and episodes per meta-game entry: "
        "psro_v2_example.py's defaults (example: 10,000 and 1,000, the faithful setting), a fifth of them "
        "(reduced), or both runs after one marljax run",
    )
    parser.add_argument("--os-hidden", type=int, default=256)
    parser.add_argument("--os-layers", type=int, default=4)
    parser.add_argument("--skip-openspiel", action="store_true")
    parser.add_argument("--out", default="results/psro_rl")
    args = parser.parse_args(argv)
    budgets = [] if args.skip_openspiel else [b for b in OPENSPIEL_BUDGETS if args.openspiel_budget in (b, "both")]

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    save = lambda: (out / "psro_rl.json").write_text(json.dumps({"args": vars(args), **results}, indent=1))  # noqa: E731

    # Other jobs slow OpenSpiel's PyTorch oracle far more than marljax: the load goes with the figures.
    results = {"load_average_1min": {"start": os.getloadavg()[0]}, "marljax": run_marljax(args)}
    marl = results["marljax"]
    print(f"marljax done: NashConv {marl['nash_conv'][-1]:.4f} after {marl['wall_clock'][-1]:.1f} s", flush=True)
    print("  wall-clock " + " ".join(f"{t:.1f}" for t in marl["wall_clock"]), flush=True)
    print("  NashConv   " + " ".join(f"{v:.3f}" for v in marl["nash_conv"]), flush=True)
    save()  # partial results survive a long OpenSpiel run
    for budget in budgets:
        results[f"openspiel_{budget}"] = run_openspiel(args, *OPENSPIEL_BUDGETS[budget])
        print(f"OpenSpiel ({budget} budget) done", flush=True)
        save()
    results["load_average_1min"]["end"] = os.getloadavg()[0]

    runs = {name: r for name, r in results.items() if name == "marljax" or name.startswith("openspiel_")}
    print(f"\nPSRO (Nash meta-solver, RL oracle) on Kuhn poker, {args.iterations} iterations, exact NashConv")
    print(f"{'':18s} {'final NashConv':>15s} {'wall-clock s':>13s} {'s/iteration':>12s} {'(after the 1st)':>16s}")
    for name, r in runs.items():
        per = r["seconds_per_iteration"]
        later = np.mean(per[1:]) if len(per) > 1 else float("nan")
        print(f"{name:18s} {r['nash_conv'][-1]:15.4f} {r['wall_clock'][-1]:13.1f} {np.mean(per):12.2f} {later:16.2f}")
    print(
        f"marljax before its first iteration (compilation): {results['marljax']['seconds_before_first_iteration']:.1f} s"
    )
    results["target"] = {}
    for budget in budgets:
        peer = results[f"openspiel_{budget}"]
        target, total = peer["nash_conv"][-1], peer["wall_clock"][-1]
        reached = time_to_reach(results["marljax"]["wall_clock"], results["marljax"]["nash_conv"], target)
        results["target"][budget] = {
            "openspiel_final_nash_conv": target,
            "marljax_seconds_to_reach": reached,
            "openspiel_seconds": total,
            "ratio": None if reached is None else reached / total,
        }
        if reached is None:
            print(f"[{budget}] marljax did not reach OpenSpiel's final NashConv {target:.4f} within its run")
        else:
            print(
                f"[{budget}] marljax reached OpenSpiel's final NashConv {target:.4f} after {reached:.1f} s = "
                f"{reached / total:.3f} x OpenSpiel's {total:.1f} s (target <= 0.1)"
            )
        gap = np.max(np.abs(np.subtract(peer["nash_conv"], peer["nash_conv_by_marljax_tree"])))
        print(
            f"[{budget}] OpenSpiel's NashConv vs marljax's exact tree on the same aggregated policies: max gap {gap:.2e}"
        )
    load = results["load_average_1min"]
    print(f"load average (1 min, 2-core CPU): {load['start']:.1f} at the start, {load['end']:.1f} at the end")

    save()
    from marljax.viz import plot_curves

    curves = {
        f"{name} ({r['wall_clock'][-1]:.0f} s)": (np.asarray(r["wall_clock"]), np.asarray(r["nash_conv"]))
        for name, r in runs.items()
    }
    plot = plot_curves(
        curves,
        out / "psro_rl.png",
        "wall-clock seconds",
        "exact NashConv of the meta-strategy",
        "PSRO with an RL oracle on Kuhn poker (2-core CPU)",
        logy=True,
    )
    print(f"wrote {out / 'psro_rl.json'} and {plot}")
    return results


if __name__ == "__main__":
    main()
