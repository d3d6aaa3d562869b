"""marljax IPPO vs JaxMARL's IPPO-FF baseline on SimpleSpread, same hyper-parameters, one process.

JaxMARL's baseline script (``baselines/IPPO/ippo_ff_mpe.py`` with ``config/ippo_ff_mpe.yaml``:
16 envs, 128 steps, 4 epochs, 4 minibatches, lr 2.5e-4 annealed, gamma 0.99, GAE 0.95, clip
0.2, entropy 0.01, value 0.5, grad norm 0.5, 64 tanh units) is not part of the pip package,
so :func:`jaxmarl_make_train` below re-implements it faithfully (same network, batching,
shuffling, losses and metric) on ``jaxmarl.make("MPE_simple_spread_v3")`` with JaxMARL's
``MPELogWrapper``. Both sides report JaxMARL's statistic: the mean over the rollout of the
last finished episode's return, in ``MPELogWrapper`` units (per-agent return x num_agents).
JaxMARL's episodes last 26 steps (its ``done`` fires when ``step >= 25`` *before* the
increment), so marljax runs ``SimpleSpread(max_steps=26)`` to compare like with like.

Three rows: ``marljax`` is IPPO as shipped (time-limit truncations bootstrap from the critic,
``bootstrap_truncation=True``); ``marljax-cut`` is the same learner treating every episode end
as terminal, which is what JaxMARL's baseline does, so the gap between the two is what the
bootstrap buys and the gap between ``marljax-cut`` and ``jaxmarl`` is implementation noise.

    python benchmarks/train_ippo_mpe.py                      # 10M steps each (about 10 minutes)
    python benchmarks/train_ippo_mpe.py --total-steps 1e6    # quick look
    python benchmarks/train_ippo_mpe.py --seeds 3            # mean over seeds (run one after another)
"""

from __future__ import annotations

import argparse
import time

import distrax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax.linen.initializers import constant, orthogonal

from marljax.envs.mpe import SimpleSpread
from marljax.solvers import ippo

BASELINE = dict(
    num_envs=16,
    num_steps=128,
    update_epochs=4,
    num_minibatches=4,
    lr=2.5e-4,
    anneal_lr=True,
    gamma=0.99,
    gae_lambda=0.95,
    clip_eps=0.2,
    ent_coef=0.01,
    vf_coef=0.5,
    max_grad_norm=0.5,
    hidden_size=64,
    activation="tanh",
)
REFERENCE = {"steps_per_s": 41_900, "final_return": -58.0, "seconds_for_10M": 239}  # JaxMARL on this machine


# ----- JaxMARL's IPPO-FF baseline (re-implemented from baselines/IPPO/ippo_ff_mpe.py) --------
class _ActorCritic(nn.Module):
    action_dim: int

    @nn.compact
    def __call__(self, x):
        dense = lambda n, s: nn.Dense(n, kernel_init=orthogonal(s), bias_init=constant(0.0))  # noqa: E731
        a = nn.tanh(dense(64, np.sqrt(2))(x))
        a = nn.tanh(dense(64, np.sqrt(2))(a))
        logits = dense(self.action_dim, 0.01)(a)
        c = nn.tanh(dense(64, np.sqrt(2))(x))
        c = nn.tanh(dense(64, np.sqrt(2))(c))
        return distrax.Categorical(logits=logits), jnp.squeeze(dense(1, 1.0)(c), -1)


def jaxmarl_make_train(total_steps: int):
    import jaxmarl
    from jaxmarl.wrappers.baselines import MPELogWrapper

    c = BASELINE
    env = MPELogWrapper(jaxmarl.make("MPE_simple_spread_v3"))
    agents, num_envs, num_steps = env.agents, c["num_envs"], c["num_steps"]
    num_actors = env.num_agents * num_envs
    num_updates = total_steps // num_steps // num_envs
    minibatch = num_actors * num_steps // c["num_minibatches"]
    batchify = lambda x: jnp.stack([x[a] for a in agents]).reshape((num_actors, -1))  # noqa: E731

    def schedule(count):
        return c["lr"] * (1.0 - (count // (c["num_minibatches"] * c["update_epochs"])) / num_updates)

    def train(rng):
        network = _ActorCritic(env.action_space(agents[0]).n)
        rng, init_rng, reset_rng, run_rng = jax.random.split(rng, 4)
        params = network.init(init_rng, jnp.zeros(env.observation_space(agents[0]).shape))
        tx = optax.chain(optax.clip_by_global_norm(c["max_grad_norm"]), optax.adam(schedule, eps=1e-5))
        opt_state = tx.init(params)
        obs, env_state = jax.vmap(env.reset)(jax.random.split(reset_rng, num_envs))

        def update_step(runner, _):
            def env_step(runner, _):
                params, opt_state, env_state, last_obs, rng = runner
                obs_batch = batchify(last_obs)
                rng, act_rng, step_rng = jax.random.split(rng, 3)
                pi, value = network.apply(params, obs_batch)
                action = pi.sample(seed=act_rng)
                log_prob = pi.log_prob(action)
                env_act = {a: v for a, v in zip(agents, action.reshape((env.num_agents, num_envs)))}
                obs, env_state, reward, done, info = jax.vmap(env.step)(
                    jax.random.split(step_rng, num_envs), env_state, env_act
                )
                info = jax.tree.map(lambda x: x.reshape((num_actors,)), info)
                transition = (
                    batchify(done).squeeze(),
                    action,
                    value,
                    batchify(reward).squeeze(),
                    log_prob,
                    obs_batch,
                    info["returned_episode_returns"],
                )
                return (params, opt_state, env_state, obs, rng), transition

            runner, traj = jax.lax.scan(env_step, runner, None, num_steps)
            params, opt_state, env_state, last_obs, rng = runner
            _, last_val = network.apply(params, batchify(last_obs))

            def gae_step(carry, t):
                gae, next_value = carry
                done, value, reward = t[0], t[2], t[3]
                delta = reward + c["gamma"] * next_value * (1 - done) - value
                gae = delta + c["gamma"] * c["gae_lambda"] * (1 - done) * gae
                return (gae, value), gae

            _, adv = jax.lax.scan(gae_step, (jnp.zeros_like(last_val), last_val), traj, reverse=True, unroll=8)
            targets = adv + traj[2]

            def loss_fn(params, batch):
                (done, action, old_value, _, old_log_prob, obs, _), gae, target = batch
                pi, value = network.apply(params, obs)
                log_prob = pi.log_prob(action)
                value_clipped = old_value + (value - old_value).clip(-c["clip_eps"], c["clip_eps"])
                value_loss = 0.5 * jnp.maximum(jnp.square(value - target), jnp.square(value_clipped - target)).mean()
                ratio = jnp.exp(log_prob - old_log_prob)
                gae = (gae - gae.mean()) / (gae.std() + 1e-8)
                actor_loss = -jnp.minimum(
                    ratio * gae, jnp.clip(ratio, 1 - c["clip_eps"], 1 + c["clip_eps"]) * gae
                ).mean()
                return actor_loss + c["vf_coef"] * value_loss - c["ent_coef"] * pi.entropy().mean()

            def minibatch_step(state, batch):
                params, opt_state = state
                grads = jax.grad(loss_fn)(params, batch)
                updates, opt_state = tx.update(grads, opt_state)
                return (optax.apply_updates(params, updates), opt_state), None

            def epoch(state, _):
                params, opt_state, rng = state
                rng, perm_rng = jax.random.split(rng)
                size = minibatch * c["num_minibatches"]
                perm = jax.random.permutation(perm_rng, size)
                batch = jax.tree.map(lambda x: x.reshape((size,) + x.shape[2:]), (traj, adv, targets))
                batch = jax.tree.map(
                    lambda x: jnp.take(x, perm, axis=0).reshape((c["num_minibatches"], -1) + x.shape[1:]), batch
                )
                (params, opt_state), _ = jax.lax.scan(minibatch_step, (params, opt_state), batch)
                return (params, opt_state, rng), None

            (params, opt_state, rng), _ = jax.lax.scan(epoch, (params, opt_state, rng), None, c["update_epochs"])
            return (params, opt_state, env_state, last_obs, rng), traj[6].mean()

        runner = (params, opt_state, env_state, obs, run_rng)
        return jax.lax.scan(update_step, runner, None, num_updates)[1]

    return train


# ----- marljax --------------------------------------------------------------------------------
def marljax_make_train(total_steps: int, bootstrap_truncation: bool = True):
    env = SimpleSpread(max_steps=26)
    config = ippo.PPOConfig(total_steps=total_steps, bootstrap_truncation=bootstrap_truncation, **BASELINE)
    train = ippo.make_train(config, env)
    # JaxMARL's statistic: mean over agents of the returned-episode return, times num_agents.
    return lambda key: train(key)[1]["episode_return"].mean(-1) * env.num_agents


def _steps(total_steps: int) -> int:
    per_update = BASELINE["num_envs"] * BASELINE["num_steps"]
    return (total_steps // per_update) * per_update


def measure(make_train, total_steps: int, seeds: int) -> dict:
    """Compile, then train once per seed (one after another: JaxMARL's env deadlocks XLA:CPU
    under ``vmap`` over seeds here): compile time, wall time and the seed-mean learning curve."""
    train = jax.jit(make_train(total_steps))
    keys = jax.random.split(jax.random.PRNGKey(30), seeds)  # JaxMARL's config seed
    tic = time.perf_counter()
    compiled = train.lower(keys[0]).compile()
    compile_s = time.perf_counter() - tic
    curves, run_s = [], 0.0
    for key in keys:
        tic = time.perf_counter()
        curves.append(np.asarray(jax.block_until_ready(compiled(key))))
        run_s += time.perf_counter() - tic
    curves = np.stack(curves)
    final = curves[:, -10:].mean(1)  # per seed: mean of the last 10 updates
    return {
        "compile_s": compile_s,
        "run_s": run_s / seeds,
        "steps_per_s": _steps(total_steps) * seeds / run_s,
        "final_return": float(final.mean()),
        "final_std": float(final.std()),
        "last_100": float(curves[:, -100:].mean()),
        "returns": curves.mean(0),
    }


def interleaved_speed(makers: dict, total_steps: int, repeats: int) -> dict:
    """Env-steps/s of each side, best of ``repeats`` runs taken in turns (A B A B ...), so a
    change in machine load (the CPU here is shared) hits both sides alike."""
    key = jax.random.PRNGKey(0)
    compiled = {name: jax.jit(make(total_steps)).lower(key).compile() for name, make in makers.items()}
    best = {name: float("inf") for name in makers}
    for i in range(repeats):
        for name, fn in compiled.items():
            tic = time.perf_counter()
            jax.block_until_ready(fn(jax.random.fold_in(key, i)))
            best[name] = min(best[name], time.perf_counter() - tic)
    return {name: _steps(total_steps) / s for name, s in best.items()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total-steps", type=float, default=1e7)
    parser.add_argument("--seeds", type=int, default=1, help="training runs per side (keys split from 30)")
    parser.add_argument("--plot", help="write the learning curves to this PNG")
    parser.add_argument("--speed-steps", type=float, default=1e6, help="env steps of each timed speed run")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved speed runs per side")
    args = parser.parse_args(argv)
    total = int(args.total_steps)
    print(
        f"device: {jax.devices()[0]} (jax {jax.__version__}); SimpleSpread, {total:,} env steps x {args.seeds} "
        f"seed(s), IPPO-FF hyper-parameters {BASELINE}"
    )
    makers = {
        "marljax": marljax_make_train,
        "marljax-cut": lambda t: marljax_make_train(t, False),
        "jaxmarl": jaxmarl_make_train,
    }
    try:
        import jaxmarl  # noqa: F401
    except ImportError as err:
        print(f"jaxmarl not installed ({err}); pip install -e .[bench]. Its figures on this machine: {REFERENCE}")
        del makers["jaxmarl"]
    results = {name: measure(make, total, args.seeds) for name, make in makers.items()}
    speed = interleaved_speed(makers, int(args.speed_steps), args.repeats)
    print(
        f"{'':<12}{'compile s':>10}{'run s':>9}{'env-steps/s':>14}{'interleaved':>13}{'final return':>16}"
        f"{'last 100 upd.':>15}"
    )
    for name, r in results.items():
        final = f"{r['final_return']:.2f}" + (f" +-{r['final_std']:.1f}" if args.seeds > 1 else "")
        print(
            f"{name:<12}{r['compile_s']:>10.1f}{r['run_s']:>9.1f}{r['steps_per_s']:>14,.0f}"
            f"{speed[name]:>13,.0f}{final:>16}{r['last_100']:>15.2f}"
        )
    m, c = results["marljax"], results["marljax-cut"]
    print(f"time-limit bootstrap: return {m['final_return']:.2f} vs {c['final_return']:.2f} with every end terminal")
    if "jaxmarl" in results:
        j = results["jaxmarl"]
        print(
            f"marljax / jaxmarl: {speed['marljax'] / speed['jaxmarl']:.2f}x env-steps/s (interleaved best of "
            f"{args.repeats} x {int(args.speed_steps):,} steps), {m['steps_per_s'] / j['steps_per_s']:.2f}x over "
            f"the {total:,}-step runs; return {m['final_return']:.2f} vs {j['final_return']:.2f} (mean of the last "
            f"10 updates; the issue's anchor {REFERENCE['final_return']})"
        )
    if args.plot:
        from marljax.viz import plot_curves

        steps = lambda r: np.arange(1, len(r["returns"]) + 1) * BASELINE["num_envs"] * BASELINE["num_steps"]  # noqa: E731
        plot_curves(
            {name: (steps(r), r["returns"]) for name, r in results.items()},
            args.plot,
            "env steps",
            "episode return (MPELogWrapper units)",
            "IPPO-FF on SimpleSpread",
        )


if __name__ == "__main__":
    main()
