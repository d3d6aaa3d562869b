"""Multi-agent PPO (IPPO and MAPPO) in the PureJaxRL style: the whole loop in one jit.

    train = make_train(PPOConfig(...), env)        # validated here, before anything compiles
    runner, metrics = jax.jit(jax.vmap(train))(jax.random.split(key, 4))   # 4 seeds at once

Each update collects ``num_steps`` steps from ``num_envs`` auto-resetting envs, computes
generalised advantage estimates (Schulman et al. 2016) per agent, then runs ``update_epochs``
epochs of ``num_minibatches`` clipped-surrogate steps (Schulman et al. 2017):

    L = -E[min(r A, clip(r, 1-eps, 1+eps) A)] + c_v E[max((V-R)^2, (V_clip-R)^2)] / 2 - c_e H[pi]

with ``r = pi(a|o) / pi_old(a|o)`` and advantages normalised per minibatch. IPPO (de Witt
et al. 2020) gives every agent's critic its own observation; MAPPO (Yu et al. 2022) feeds the
critic the env's ``global_state``. Hyper-parameter defaults are JaxMARL's IPPO-FF baseline.

Agents share one network (with a one-hot ``agent_type`` input so heterogeneous agents can
specialise) or have their own (``share_parameters=False``); discrete policies respect the
env's ``action_mask``; continuous ones are diagonal Gaussians.

**Time limits.** An episode that ends by termination (discount 0) cuts the advantage trace.
One cut short by the time limit (truncation, discount 1) did not reach a terminal state, so
with ``bootstrap_truncation=True`` its last reward is completed with the critic's value of the
final observation, ``r_T + gamma * discount_T * V(o_T)`` (partial-episode bootstrapping, Pardo
et al. 2018, "Time Limits in Reinforcement Learning"). The value target then no longer depends
on a clock the agents cannot see. ``False`` treats every end as terminal, as JaxMARL's
baselines do.

**Stopping and resuming.** :func:`make_learner` exposes ``init(key)`` and
``run(runner, num_updates)``: the runner state holds everything (parameters, optimiser,
envs, PRNG key, update counter), so a run stopped after a segment, checkpointed and resumed
with the same segment lengths is bit for bit the uninterrupted run (``marljax.runs`` does this).

**Best responses (PSRO oracles).** ``make_train(config, env, opponent_policy=fn)`` with
``config.trained_agents=(i,)`` trains only agent ``i``; the other agents act by
``fn(key, observation, episode_key) -> action [N]`` (one env, leading agent axis; only the
entries of the untrained agents are used). ``key`` is fresh every step; ``episode_key`` stays
the same for a whole episode and is redrawn when it ends, so whatever the opponents must keep
for an episode (PSRO: which population policy plays it) is drawn from ``episode_key``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, NamedTuple, Optional

import chex
import jax
import jax.numpy as jnp
import optax
from flax import struct
from jumanji import specs

from marljax.checks import check_positive
from marljax.solvers.learners.networks import ACTIVATIONS, MASKED_LOGIT, Tower, apply_per_agent, policy_distribution
from marljax.types import Observation
from marljax.wrappers import AutoResetWrapper, EpisodeStatistics

__all__ = ["PPOConfig", "Learner", "RunnerState", "make_learner", "make_train", "validate", "num_parameters", "variant"]


@dataclasses.dataclass(frozen=True)
class PPOConfig:
    """Hyper-parameters of IPPO/MAPPO (defaults: JaxMARL's IPPO-FF on MPE)."""

    total_steps: int = 1_000_000  # env steps, summed over the parallel envs
    num_envs: int = 16
    num_steps: int = 128  # rollout length per update
    update_epochs: int = 4
    num_minibatches: int = 4
    lr: float = 2.5e-4
    anneal_lr: bool = True
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_eps: float = 0.2
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    hidden_size: int = 64
    activation: str = "tanh"
    recurrent: bool = False  # GRU policies and critics
    share_parameters: bool = True
    centralised_critic: bool = False  # MAPPO: the critic reads global_state
    trained_agents: Optional[tuple] = None  # None: every agent learns
    bootstrap_truncation: bool = True  # time-limit ends bootstrap from V(final obs); False: JaxMARL's cut

    @property
    def steps_per_update(self) -> int:
        return self.num_envs * self.num_steps

    @property
    def num_updates(self) -> int:
        return int(self.total_steps) // self.steps_per_update


class Transition(NamedTuple):
    observation: Observation
    reset: chex.Array  # [E, N] the step starts a fresh episode (recurrent state restarts)
    action: chex.Array
    log_prob: chex.Array  # [E, N]
    value: chex.Array  # [E, N]
    reward: chex.Array  # [E, N]
    done: chex.Array  # [E, N] the step ended the episode
    episode_return: chex.Array  # [E, N] return of the last finished episode (0 before one)


@struct.dataclass
class RunnerState:
    """Everything a run needs to continue: a checkpoint is exactly this pytree."""

    params: dict  # {"actor": ..., "critic": ...}
    opt_state: optax.OptState
    env_state: chex.ArrayTree
    observation: Observation
    reset: chex.Array  # [E, N]
    carry: dict  # recurrent states {"actor": [E, N, H], "critic": [E, N, H]}
    key: chex.PRNGKey
    update: chex.Array  # [] int32 updates done
    episode_key: chex.PRNGKey  # [E] per-env key, constant over an episode (opponent_policy's third argument)


def validate(config: PPOConfig, env, opponent_policy=None) -> None:
    """Raise a clear ``ValueError`` for a config or env the learner cannot run (no compiling)."""
    check_positive(
        total_steps=config.total_steps,
        num_envs=config.num_envs,
        num_steps=config.num_steps,
        update_epochs=config.update_epochs,
        num_minibatches=config.num_minibatches,
        lr=config.lr,
        hidden_size=config.hidden_size,
        clip_eps=config.clip_eps,
        max_grad_norm=config.max_grad_norm,
    )
    if not 0.0 < config.gamma <= 1.0 or not 0.0 <= config.gae_lambda <= 1.0:
        raise ValueError(f"need 0 < gamma <= 1 and 0 <= gae_lambda <= 1; got {config.gamma}, {config.gae_lambda}")
    if config.ent_coef < 0 or config.vf_coef < 0:
        raise ValueError(f"ent_coef and vf_coef must be >= 0; got {config.ent_coef}, {config.vf_coef}")
    if config.activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}; got {config.activation!r}")
    if config.num_updates < 1:
        raise ValueError(
            f"total_steps={config.total_steps} is less than one update of num_envs * num_steps = "
            f"{config.steps_per_update} env steps"
        )
    # Recurrent minibatches are whole env sequences; feed-forward ones any (step, env) pairs.
    units, what = (
        (config.num_envs, "num_envs") if config.recurrent else (config.steps_per_update, "num_envs * num_steps")
    )
    if units % config.num_minibatches:
        raise ValueError(f"num_minibatches={config.num_minibatches} does not divide the batch: {what} = {units}")
    action_type = getattr(env, "action_type", None)
    spec = env.action_spec
    if action_type == "discrete" and not isinstance(spec, specs.MultiDiscreteArray):
        raise ValueError(f"a discrete env needs a MultiDiscreteArray action spec; {env!r} has {type(spec).__name__}")
    if action_type == "continuous" and not (isinstance(spec, specs.BoundedArray) and len(spec.shape) == 2):
        raise ValueError(f"a continuous env needs a BoundedArray [N, d] action spec; {env!r} has {spec}")
    if action_type not in ("discrete", "continuous"):
        raise ValueError(f"PPO handles discrete and continuous actions; {env!r} has action type {action_type!r}")
    view = env.observation_spec.agents_view.shape
    if len(view) != 2:
        raise ValueError(f"PPO's MLP/GRU towers need flat observations [N, D]; {env!r} gives agents_view {view}")
    trained = config.trained_agents
    if trained is not None:
        if not trained or any(not 0 <= int(i) < env.num_agents for i in trained):
            raise ValueError(f"trained_agents must name agents in 0..{env.num_agents - 1}; got {trained}")
        if len(set(trained)) < env.num_agents and opponent_policy is None:
            raise ValueError("trained_agents leaves agents untrained: pass opponent_policy to drive them")


class Learner(NamedTuple):
    """The pieces of a PPO learner (all pure; ``run`` is jitted with ``num_updates`` static)."""

    config: PPOConfig
    env: object
    init: Callable  # key -> RunnerState
    update: Callable  # RunnerState -> (RunnerState, metrics)
    run: Callable  # (RunnerState, num_updates) -> (RunnerState, metrics [num_updates, ...])
    act: Callable  # (params, actor carry, observation [E,N], reset [E,N], key, greedy) -> (carry, action)
    initial_carry: Callable  # num_envs -> {"actor": [E,N,H], "critic": [E,N,H]}


def make_train(config: PPOConfig, env, opponent_policy: Optional[Callable] = None, progress: Optional[Callable] = None):
    """``train(key) -> (runner_state, metrics)``: the full run in one jittable function."""
    learner = make_learner(config, env, opponent_policy, progress)

    def train(key):
        return learner.run(learner.init(key), learner.config.num_updates)

    return train


def make_learner(
    config: PPOConfig, env, opponent_policy: Optional[Callable] = None, progress: Optional[Callable] = None
) -> Learner:
    """Build the learner's pure functions; ``progress(update)`` is called from inside jit."""
    validate(config, env, opponent_policy)
    config = dataclasses.replace(config, total_steps=int(config.total_steps))
    n = env.num_agents
    continuous = env.action_type == "continuous"
    num_types = int(env.observation_spec.agent_type.maximum) + 1
    trained = (
        jnp.ones(n, bool)
        if config.trained_agents is None
        else jnp.zeros(n, bool).at[jnp.asarray(config.trained_agents)].set(True)
    )
    bootstrap = config.bootstrap_truncation
    wrapped = EpisodeStatistics(AutoResetWrapper(env, next_obs_in_extras=bootstrap))
    num_outputs = env.num_actions
    tower = dict(hidden_size=config.hidden_size, activation=config.activation, recurrent=config.recurrent)
    actor = Tower(num_outputs, head_scale=0.01, log_std=continuous, **tower)
    critic = Tower(1, head_scale=1.0, **tower)
    shared = config.share_parameters
    hsize = actor.carry_size()
    minibatches, epochs = config.num_minibatches, config.update_epochs

    def model_inputs(obs: Observation) -> Observation:
        """Only the observation fields the networks read (None for the rest), so rollouts store
        and minibatches shuffle no more than the loss needs."""
        return obs._replace(
            step_count=None,
            global_state=obs.global_state if config.centralised_critic else None,
            agent_type=obs.agent_type if num_types > 1 else None,
            action_mask=None if continuous else obs.action_mask,
        )

    def features(obs: Observation, centralised: bool):
        x = obs.global_state if centralised else obs.agents_view.astype(jnp.float32)
        if num_types > 1:  # heterogeneous agents: tell the shared network who is acting
            x = jnp.concatenate([x, jax.nn.one_hot(obs.agent_type, num_types)], -1)
        return x

    def policy(params, carry, obs, reset):
        """Sequences: obs leaves ``[T, B, N, ...]``, reset ``[T, B, N]``, carry ``[B, N, H]``."""
        carry, out = apply_per_agent(actor, shared, params, carry, features(obs, False), reset)
        return carry, policy_distribution(out, obs.action_mask, continuous)

    def value(params, carry, obs, reset):
        carry, out = apply_per_agent(critic, shared, params, carry, features(obs, config.centralised_critic), reset)
        return carry, out[..., 0]

    def initial_carry(num_envs: int):
        zeros = jnp.zeros((num_envs, n, hsize), jnp.float32)
        return {"actor": zeros, "critic": zeros}

    def schedule(count):
        frac = 1.0 - (count // (minibatches * epochs)) / config.num_updates
        return config.lr * frac

    optimiser = optax.chain(
        optax.clip_by_global_norm(config.max_grad_norm),
        optax.adam(schedule if config.anneal_lr else config.lr, eps=1e-5),
    )

    def init(key) -> RunnerState:
        key, k_actor, k_critic, k_env = jax.random.split(key, 4)
        _, ts = env.reset(k_env)
        sample = jax.tree_util.tree_map(lambda x: x[None, None], ts.observation)  # [1, 1, N, ...]
        reset = jnp.zeros((1, 1, n), bool)
        carry = initial_carry(1)

        def init_tower(tower, key, x):
            if shared:
                return tower.init(key, carry["actor"], x, reset)
            keys = jax.random.split(key, n)
            return jax.vmap(lambda k, c, xi, r: tower.init(k, c, xi, r), in_axes=(0, 1, 2, 2))(
                keys, carry["actor"], x, reset
            )

        params = {
            "actor": init_tower(actor, k_actor, features(sample, False)),
            "critic": init_tower(critic, k_critic, features(sample, config.centralised_critic)),
        }
        env_state, ts = jax.vmap(wrapped.reset)(jax.random.split(k_env, config.num_envs))
        return RunnerState(
            params=params,
            opt_state=optimiser.init(params),
            env_state=env_state,
            observation=ts.observation,
            reset=jnp.ones((config.num_envs, n), bool),
            carry=initial_carry(config.num_envs),
            key=key,
            update=jnp.int32(0),
            episode_key=jax.random.split(jax.random.fold_in(key, 1), config.num_envs),
        )

    def act(params, carry, obs, reset, key, greedy=False):
        """One step for ``[E, N]`` agents: ``(carry, action)`` (sampled, or the mode if greedy);
        ``carry`` is the actor's recurrent state ``[E, N, H]``."""
        seq = lambda x: x[None]  # noqa: E731
        carry, pi = policy(params["actor"], carry, jax.tree_util.tree_map(seq, obs), seq(reset))
        action = pi.mode() if greedy else pi.sample(seed=key)
        return carry, action[0]

    def env_step(runner: RunnerState, _):
        key, k_act, k_opp = jax.random.split(runner.key, 3)
        seq = lambda x: x[None]  # noqa: E731
        obs, reset = jax.tree_util.tree_map(seq, runner.observation), seq(runner.reset)
        carry_c, v = value(runner.params["critic"], runner.carry["critic"], obs, reset)
        if continuous:
            carry_a, pi = policy(runner.params["actor"], runner.carry["actor"], obs, reset)
            action = pi.sample(seed=k_act)
            log_prob, action = pi.log_prob(action)[0], action[0]
        else:  # distrax's masked categorical, sampled and scored straight from log_softmax
            carry_a, log_p = log_policy(runner.params["actor"], runner.carry["actor"], obs, reset)
            action = jax.random.categorical(k_act, log_p[0])
            log_prob = jnp.take_along_axis(log_p[0], action[..., None], -1)[..., 0]
        v = v[0]
        if opponent_policy is not None:
            k_opp, k_episode = jax.random.split(k_opp)
            fixed = jax.vmap(opponent_policy)(
                jax.random.split(k_opp, config.num_envs), runner.observation, runner.episode_key
            )
            keep = trained.reshape((1, n) + (1,) * (action.ndim - 2))
            action = jnp.where(keep, action, fixed.astype(action.dtype))
        env_state, ts = jax.vmap(wrapped.step)(runner.env_state, action)
        done = jnp.broadcast_to(ts.last()[:, None], (config.num_envs, n))
        reward = ts.reward
        if bootstrap:  # the auto-reset put o_T in extras; discount 0 (termination) adds nothing

            def final_value():  # only run on steps where some episode ended (1 in max_steps)
                final_obs = jax.tree_util.tree_map(seq, ts.extras["next_obs"])
                return value(runner.params["critic"], carry_c, final_obs, seq(jnp.zeros_like(done)))[1][0]

            v_final = jax.lax.cond(done.any(), final_value, lambda: jnp.zeros_like(v))
            reward = reward + jnp.where(done, config.gamma * ts.discount * v_final, 0.0)
        transition = Transition(
            observation=model_inputs(runner.observation),
            reset=runner.reset,
            action=action,
            log_prob=log_prob,
            value=v,
            reward=reward,
            done=done,
            episode_return=ts.extras["episode_return"],
        )
        runner = runner.replace(
            env_state=env_state,
            observation=ts.observation,
            reset=done,
            carry={"actor": carry_a, "critic": carry_c},
            key=key,
        )
        if opponent_policy is not None:  # a finished episode's env gets a new episode key
            fresh = jax.random.split(k_episode, config.num_envs)
            pick = jax.vmap(jnp.where)  # per env, so raw [E, 2] and typed [E] keys both work
            runner = runner.replace(episode_key=pick(ts.last(), fresh, runner.episode_key))
        return runner, transition

    def advantages(traj: Transition, last_value):
        def backward(carry, t: Transition):
            gae, next_value = carry
            live = 1.0 - t.done
            delta = t.reward + config.gamma * next_value * live - t.value
            gae = delta + config.gamma * config.gae_lambda * live * gae
            return (gae, t.value), gae

        _, adv = jax.lax.scan(backward, (jnp.zeros_like(last_value), last_value), traj, reverse=True, unroll=8)
        return adv, adv + traj.value

    def log_policy(params, carry, obs, reset):
        """Discrete policies: ``(carry, log pi(.|obs))``, masked actions at probability 0."""
        carry, out = apply_per_agent(actor, shared, params, carry, features(obs, False), reset)
        return carry, jax.nn.log_softmax(jnp.where(obs.action_mask, out, MASKED_LOGIT))

    def log_prob_entropy(params, carry, obs, reset, action):
        """``log pi(action|obs)`` and the policy's entropy. Discrete: the masked categorical's
        (distrax's maths, computed straight from ``log_softmax`` to keep the hot loss lean)."""
        if continuous:
            _, pi = policy(params, carry, obs, reset)
            return pi.log_prob(action), pi.entropy()
        _, log_p = log_policy(params, carry, obs, reset)
        log_prob = jnp.take_along_axis(log_p, action[..., None].astype(jnp.int32), -1)[..., 0]
        p = jnp.exp(log_p)
        entropy = -jnp.sum(jnp.where(p == 0, 0.0, log_p) * p, -1)
        return log_prob, entropy

    def loss(params, batch):
        traj, carry, adv, target = batch
        if carry is None:  # feed-forward: the carry and resets are unused, so never shuffled
            carry = initial_carry(traj.value.shape[1])
        reset = traj.reset if traj.reset is not None else jnp.zeros(traj.value.shape, bool)
        log_prob, entropy = log_prob_entropy(params["actor"], carry["actor"], traj.observation, reset, traj.action)
        _, v = value(params["critic"], carry["critic"], traj.observation, reset)
        if config.trained_agents is None:
            mean = jnp.mean
        else:
            weight = jnp.broadcast_to(trained, traj.value.shape).astype(jnp.float32)
            mean = lambda x: jnp.sum(x * weight) / jnp.sum(weight)  # noqa: E731
        v_clipped = traj.value + jnp.clip(v - traj.value, -config.clip_eps, config.clip_eps)
        value_loss = 0.5 * mean(jnp.maximum(jnp.square(v - target), jnp.square(v_clipped - target)))
        ratio = jnp.exp(log_prob - traj.log_prob)
        adv_mean = mean(adv)
        adv = (adv - adv_mean) / (jnp.sqrt(mean(jnp.square(adv - adv_mean))) + 1e-8)
        surrogate = jnp.minimum(ratio * adv, jnp.clip(ratio, 1.0 - config.clip_eps, 1.0 + config.clip_eps) * adv)
        actor_loss = -mean(surrogate)
        entropy = mean(entropy)
        total = actor_loss + config.vf_coef * value_loss - config.ent_coef * entropy
        approx_kl = mean((ratio - 1.0) - jnp.log(ratio))
        return total, {"actor_loss": actor_loss, "value_loss": value_loss, "entropy": entropy, "approx_kl": approx_kl}

    def sgd_step(state, batch):
        params, opt_state = state
        (total, aux), grads = jax.value_and_grad(loss, has_aux=True)(params, batch)
        updates, opt_state = optimiser.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), {"loss": total, **aux}

    def as_sequences(batch, start_carry):
        """Time-major ``[T, E, N, ...]`` data -> ``[T', B, N, ...]`` sequences plus their start
        carries ``[B, N, H]``: whole env sequences (recurrent), or single steps (feed-forward,
        without the resets and carries, which a feed-forward tower ignores: carry ``None``)."""
        if config.recurrent:
            return batch, start_carry
        t, e = config.num_steps, config.num_envs
        traj, adv, target = batch
        flat = jax.tree_util.tree_map(
            lambda x: x.reshape((1, t * e) + x.shape[2:]), (traj._replace(reset=None), adv, target)
        )
        return flat, None

    def epoch(state, key):
        params_opt, seqs, carry = state
        num = seqs[1].shape[1]
        perm = jax.random.permutation(key, num)

        def split(x, axis):  # shuffle along `axis`, then cut it into minibatches (new leading axis)
            shuffled = jnp.take(x, perm, axis=axis)
            return jnp.moveaxis(shuffled.reshape(x.shape[:axis] + (minibatches, -1) + x.shape[axis + 1 :]), axis, 0)

        mb_seqs = jax.tree_util.tree_map(lambda x: split(x, 1), seqs)
        mb_carry = None if carry is None else jax.tree_util.tree_map(lambda x: split(x, 0), carry)
        traj, adv, target = mb_seqs
        params_opt, info = jax.lax.scan(sgd_step, params_opt, (traj, mb_carry, adv, target))
        return (params_opt, seqs, carry), info

    def update(runner: RunnerState):
        start_carry = runner.carry
        runner, traj = jax.lax.scan(env_step, runner, None, config.num_steps)
        obs, reset = jax.tree_util.tree_map(lambda x: x[None], runner.observation), runner.reset[None]
        _, last_value = value(runner.params["critic"], runner.carry["critic"], obs, reset)
        adv, target = advantages(traj, last_value[0])
        needed = traj._replace(reward=None, done=None, episode_return=None)  # the loss reads the rest
        seqs, carry = as_sequences((needed, adv, target), start_carry)
        key, k_epochs = jax.random.split(runner.key)
        ((params, opt_state), _, _), info = jax.lax.scan(
            epoch, ((runner.params, runner.opt_state), seqs, carry), jax.random.split(k_epochs, epochs)
        )
        runner = runner.replace(params=params, opt_state=opt_state, key=key, update=runner.update + 1)
        metrics = {
            "episode_return": traj.episode_return.mean(axis=(0, 1)),  # [N], JaxMARL's statistic
            "env_steps": runner.update * config.steps_per_update,
            "value": traj.value.mean(),  # the critic's mean prediction over the rollout
            **jax.tree_util.tree_map(jnp.mean, info),
        }
        if progress is not None:
            jax.debug.callback(progress, runner.update)
        return runner, metrics

    def run(runner: RunnerState, num_updates: int):
        return jax.lax.scan(lambda r, _: update(r), runner, None, num_updates)

    return Learner(config, env, init, update, run, act, initial_carry)


def num_parameters(params) -> int:
    """Number of scalars in a parameter pytree."""
    return sum(math.prod(x.shape) for x in jax.tree_util.tree_leaves(params))


def variant(centralised_critic: bool):
    """``(make_learner, make_train)`` with the critic's input fixed (IPPO: False, MAPPO: True)."""

    def fix(config: PPOConfig) -> PPOConfig:
        return dataclasses.replace(config, centralised_critic=centralised_critic)

    def learner(config: PPOConfig, env, **kwargs) -> Learner:
        return make_learner(fix(config), env, **kwargs)

    def train(config: PPOConfig, env, **kwargs):
        """``train(key) -> (runner_state, metrics)``; kwargs: ``opponent_policy``, ``progress``."""
        return make_train(fix(config), env, **kwargs)

    return learner, train
