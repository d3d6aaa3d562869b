"""Multi-agent PPO (IPPO and MAPPO) in the PureJaxRL style: the whole loop in one jit.

    train = make_train(PPOConfig(...), env)        # validated here, before anything compiles
    runner, metrics = jax.jit(jax.vmap(train))(jax.random.split(key, 4))   # 4 seeds at once

Each update collects ``num_steps`` steps from ``num_envs`` auto-resetting envs, computes
generalised advantage estimates per agent (:func:`~marljax.solvers.learners.advantages.generalized_advantages`,
Schulman et al. 2016), then runs ``update_epochs`` epochs of ``num_minibatches`` steps on the
clipped PPO loss (:func:`~marljax.solvers.learners.losses.ppo_loss`, Schulman et al. 2017):

    L = -E[min(r A, clip(r, 1-eps, 1+eps) A)] + c_v E[max((V-R)^2, (V_clip-R)^2)] / 2 - c_e H[pi]

with ``r = pi(a|o) / pi_old(a|o)`` and advantages normalised per minibatch. The networks and
their inputs are :class:`~marljax.solvers.learners.networks.ActorCritic`. IPPO (de Witt
et al. 2020) gives every agent's critic its own observation; MAPPO (Yu et al. 2022) feeds the
critic the env's ``global_state``. Hyper-parameter defaults are JaxMARL's IPPO-FF baseline.

Agents share one network (with a one-hot ``agent_type`` input so heterogeneous agents can
specialise) or have their own (``share_parameters=False``); discrete policies respect the
env's ``action_mask``; continuous ones are diagonal Gaussians.

**Time limits.** An episode that ends by termination (discount 0) cuts the advantage trace.
One cut short by the time limit (truncation, discount 1) did not reach a terminal state, so
with ``bootstrap_truncation=True`` its last reward is completed with the critic's value of the
final observation, ``r_T + gamma * discount_T * V(o_T)`` (partial-episode bootstrapping, Pardo
et al. 2018, "Time Limits in Reinforcement Learning";
:func:`~marljax.solvers.learners.advantages.bootstrap_truncated_rewards`). The value target then no longer depends
on a clock the agents cannot see. ``False`` treats every end as terminal, as JaxMARL's
baselines do.

**Metrics.** ``run`` returns per update (leading axis ``[num_updates]``): ``episode_return
[N]`` and ``env_metrics`` (``{name: scalar}``, the env's metrics of :mod:`marljax.metrics`),
each the last finished episode's value averaged over the rollout (JaxMARL's statistic; zeros
before the first episode ends), ``env_steps``, the critic's mean ``value`` and the mean over
minibatch steps of ``loss``, ``actor_loss``, ``value_loss``, ``entropy`` and ``approx_kl``.

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

**Many devices.** ``make_learner(..., mesh=batch_mesh(8))`` (:mod:`marljax.sharding`) splits the
env axis of the rollout, the trajectory and every minibatch over the mesh's devices (GSPMD
sharding constraints); parameters and optimiser state are replicated. The loss is a mean over
the global minibatch, so its gradient is the average of the devices' gradients with no explicit
``pmean``, and PRNG draws do not depend on the sharding: the run equals the one-device run for
the same key up to the order of float reductions. ``num_envs`` must be a multiple of the mesh size.
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
from jax.sharding import Mesh
from jumanji import specs

from marljax.checks import check_positive
from marljax.sharding import check_batch_divides, constrain_batch, mesh_size
from marljax.solvers.learners.advantages import bootstrap_truncated_rewards, generalized_advantages
from marljax.solvers.learners.losses import ppo_loss
from marljax.solvers.learners.networks import ACTIVATIONS, ActorCritic
from marljax.types import Observation
from marljax.wrappers import AutoResetWrapper, EpisodeStatistics

__all__ = [
    "PPOConfig",
    "Learner",
    "RunnerState",
    "make_learner",
    "make_train",
    "make_optimiser",
    "optimise",
    "validate",
    "num_parameters",
    "variant",
]


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
    """One step of the rollout for ``E`` envs and ``N`` agents (time-major once scanned)."""

    observation: Observation  # only the fields the towers read (ActorCritic.model_inputs)
    reset: chex.Array  # [E, N] the step starts a fresh episode (recurrent state restarts)
    action: chex.Array
    log_prob: chex.Array  # [E, N]
    value: chex.Array  # [E, N]
    reward: chex.Array  # [E, N] (time-limit ends bootstrapped)
    done: chex.Array  # [E, N] the step ended the episode
    episode_return: chex.Array  # [E, N] return of the last finished episode (0 before one)
    episode_metrics: dict  # {name: [E]} env metrics of the last finished episode (marljax.metrics)


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


def validate(config: PPOConfig, env, opponent_policy=None, mesh=None) -> None:
    """Raise a clear ``ValueError`` for a config, env or mesh the learner cannot run (no compiling)."""
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
    check_batch_divides(config.num_envs, mesh, "num_envs")
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


def make_train(
    config: PPOConfig,
    env,
    opponent_policy: Optional[Callable] = None,
    progress: Optional[Callable] = None,
    *,
    mesh: Optional[Mesh] = None,
):
    """``train(key) -> (runner_state, metrics)``: the full run in one jittable function
    (``mesh``: the env axis split over its devices, see the module docstring)."""
    learner = make_learner(config, env, opponent_policy, progress, mesh=mesh)

    def train(key):
        return learner.run(learner.init(key), learner.config.num_updates)

    return train


def make_learner(
    config: PPOConfig,
    env,
    opponent_policy: Optional[Callable] = None,
    progress: Optional[Callable] = None,
    *,
    mesh: Optional[Mesh] = None,
) -> Learner:
    """Build the learner's pure functions; ``progress(update)`` is called from inside jit.

    Reads in the order it runs: the networks and optimiser, ``init``, then one ``update`` =
    collect a rollout (``env_step``) -> advantages (:func:`generalized_advantages`) ->
    ``update_epochs`` epochs of minibatch SGD on :func:`ppo_loss`.

    Args:
      config: the hyper-parameters (checked by :func:`validate`).
      env: a marljax env (unwrapped).
      opponent_policy: drives the agents outside ``config.trained_agents`` (module docstring).
      progress: ``progress(update)``, called from inside jit after every update.
      mesh: a 1-D :func:`marljax.sharding.batch_mesh`; the env axis (``num_envs``, a multiple of
        its size) is split over its devices. ``None``: one device.

    Raises:
      ValueError: a config, env or mesh the learner cannot run.
    """
    validate(config, env, opponent_policy, mesh)
    config = dataclasses.replace(config, total_steps=int(config.total_steps))
    num_envs, n = config.num_envs, env.num_agents
    nets = ActorCritic.for_env(
        env, config.hidden_size, config.activation, config.recurrent, config.share_parameters, config.centralised_critic
    )
    optimiser = make_optimiser(config)
    wrapped = EpisodeStatistics(AutoResetWrapper(env, next_obs_in_extras=config.bootstrap_truncation))
    # Only the trained agents' entries count in the loss (PSRO oracles train one agent).
    trained = (
        jnp.ones(n, bool)
        if config.trained_agents is None
        else jnp.zeros(n, bool).at[jnp.asarray(config.trained_agents)].set(True)
    )
    seq = lambda x: jax.tree_util.tree_map(lambda y: y[None], x)  # noqa: E731  one step as a length-1 sequence

    def init(key) -> RunnerState:
        key, k_actor, k_critic, k_env = jax.random.split(key, 4)
        _, ts = env.reset(k_env)
        params = nets.init(k_actor, k_critic, ts.observation)
        env_state, ts = jax.vmap(wrapped.reset)(jax.random.split(k_env, num_envs))
        env_state, observation, reset, carry, episode_key = constrain_batch(
            (
                env_state,
                ts.observation,
                jnp.ones((num_envs, n), bool),
                nets.initial_carry(num_envs),
                jax.random.split(jax.random.fold_in(key, 1), num_envs),
            ),
            mesh,
        )
        return RunnerState(
            params=params,
            opt_state=optimiser.init(params),
            env_state=env_state,
            observation=observation,
            reset=reset,
            carry=carry,
            key=key,
            update=jnp.int32(0),
            episode_key=episode_key,
        )

    def act(params, carry, obs, reset, key, greedy=False):
        """One step for ``[E, N]`` agents: ``(carry, action)`` (sampled, or the mode if greedy);
        ``carry`` is the actor's recurrent state ``[E, N, H]``."""
        carry, pi = nets.policy(params["actor"], carry, seq(obs), seq(reset))
        action = pi.mode() if greedy else pi.sample(seed=key)
        return carry, action[0]

    # ----- 1. collect a rollout -------------------------------------------------------------
    def env_step(runner: RunnerState, _):
        key, k_act, k_opp = jax.random.split(runner.key, 3)
        obs, reset = seq(runner.observation), seq(runner.reset)
        carry_c, value = nets.value(runner.params["critic"], runner.carry["critic"], obs, reset)
        carry_a, action, log_prob = nets.sample(runner.params["actor"], runner.carry["actor"], obs, reset, k_act)
        action, log_prob, value = action[0], log_prob[0], value[0]
        if opponent_policy is not None:
            k_opp, k_episode = jax.random.split(k_opp)
            fixed = jax.vmap(opponent_policy)(jax.random.split(k_opp, num_envs), runner.observation, runner.episode_key)
            keep = trained.reshape((1, n) + (1,) * (action.ndim - 2))
            action = jnp.where(keep, action, fixed.astype(action.dtype))
        env_state, ts = constrain_batch(jax.vmap(wrapped.step)(runner.env_state, action), mesh)
        done = jnp.broadcast_to(ts.last()[:, None], (num_envs, n))
        reward = ts.reward
        if config.bootstrap_truncation:  # the auto-reset put o_T in extras

            def final_value():  # only run on steps where some episode ended (1 in max_steps)
                final_obs = seq(ts.extras["next_obs"])
                return nets.value(runner.params["critic"], carry_c, final_obs, seq(jnp.zeros_like(done)))[1][0]

            v_final = jax.lax.cond(done.any(), final_value, lambda: jnp.zeros_like(value))
            reward = bootstrap_truncated_rewards(reward, done, ts.discount, v_final, config.gamma)
        transition = Transition(
            observation=nets.model_inputs(runner.observation),
            reset=runner.reset,
            action=action,
            log_prob=log_prob,
            value=value,
            reward=reward,
            done=done,
            episode_return=ts.extras["episode_return"],
            episode_metrics=ts.extras["episode_metrics"],
        )
        runner = runner.replace(
            env_state=env_state,
            observation=ts.observation,
            reset=done,
            carry={"actor": carry_a, "critic": carry_c},
            key=key,
        )
        if opponent_policy is not None:  # a finished episode's env gets a new episode key
            fresh = jax.random.split(k_episode, num_envs)
            pick = jax.vmap(jnp.where)  # per env, so raw [E, 2] and typed [E] keys both work
            runner = runner.replace(episode_key=pick(ts.last(), fresh, runner.episode_key))
        return runner, transition

    # ----- 3. minibatch SGD on the PPO loss ---------------------------------------------------
    def loss(params, minibatch):
        traj, carry, advantages, targets = minibatch
        if carry is None:  # feed-forward: the carry and resets are unused, so never shuffled
            carry = nets.initial_carry(traj.value.shape[1])
        reset = traj.reset if traj.reset is not None else jnp.zeros(traj.value.shape, bool)
        log_prob, entropy = nets.log_prob_entropy(params["actor"], carry["actor"], traj.observation, reset, traj.action)
        _, values = nets.value(params["critic"], carry["critic"], traj.observation, reset)
        weight = None
        if config.trained_agents is not None:
            weight = jnp.broadcast_to(trained, traj.value.shape).astype(jnp.float32)
        return ppo_loss(
            log_prob,
            traj.log_prob,
            entropy,
            values,
            traj.value,
            advantages,
            targets,
            clip_eps=config.clip_eps,
            vf_coef=config.vf_coef,
            ent_coef=config.ent_coef,
            weight=weight,
        )

    # ----- one update: rollout -> advantages -> epochs ----------------------------------------
    def update(runner: RunnerState):
        start_carry = runner.carry
        runner, traj = jax.lax.scan(env_step, runner, None, config.num_steps)
        traj = constrain_batch(traj, mesh, batch_dim=1)  # [T, E, ...]: envs stay split
        # ----- 2. advantages (GAE), bootstrapped from the value of the observation after the rollout
        _, last_value = nets.value(
            runner.params["critic"], runner.carry["critic"], seq(runner.observation), seq(runner.reset)
        )
        advantages, targets = generalized_advantages(
            traj.reward, traj.value, traj.done, last_value[0], config.gamma, config.gae_lambda
        )
        needed = traj._replace(
            reward=None, done=None, episode_return=None, episode_metrics=None
        )  # the loss reads the rest
        sequences, carry = loss_sequences(config, (needed, advantages, targets), start_carry)
        key, k_epochs = jax.random.split(runner.key)
        (params, opt_state), info = optimise(
            loss, optimiser, config, (runner.params, runner.opt_state), sequences, carry, k_epochs, mesh=mesh
        )
        runner = runner.replace(params=params, opt_state=opt_state, key=key, update=runner.update + 1)
        metrics = {
            "episode_return": traj.episode_return.mean(axis=(0, 1)),  # [N], JaxMARL's statistic
            "env_steps": runner.update * config.steps_per_update,
            "value": traj.value.mean(),  # the critic's mean prediction over the rollout
            **jax.tree_util.tree_map(jnp.mean, info),
            # Like episode_return: the last finished episode's metrics, averaged over the rollout.
            "env_metrics": jax.tree_util.tree_map(jnp.mean, traj.episode_metrics),
        }
        if progress is not None:
            jax.debug.callback(progress, runner.update)
        return runner, metrics

    def run(runner: RunnerState, num_updates: int):
        return jax.lax.scan(lambda r, _: update(r), runner, None, num_updates)

    return Learner(config, env, init, update, run, act, nets.initial_carry)


def optimise(loss: Callable, optimiser, config: PPOConfig, params_opt, sequences, carry, key, mesh=None):
    """PPO's optimisation stage: ``update_epochs`` passes over one rollout, each shuffled into
    ``num_minibatches`` minibatches with one optimiser step per minibatch.

    Args:
      loss: ``loss(params, minibatch) -> (total, terms)``; its gradient drives the step.
      optimiser: an optax transformation (:func:`make_optimiser`).
      config: supplies ``update_epochs`` and ``num_minibatches``.
      params_opt: ``(params, opt_state)`` before the stage.
      sequences, carry: the rollout as :func:`loss_sequences` returns it.
      key: PRNG key of the shuffles.
      mesh: split each minibatch's sequences over this mesh (:func:`shuffle_into_minibatches`);
        the loss is a mean over the whole minibatch, so the gradient is the devices' average.

    Returns:
      ``((params, opt_state), info)``; ``info`` holds ``loss`` and the loss terms
      ``[update_epochs, num_minibatches]``.
    """

    def sgd_step(state, minibatch):
        params, opt_state = state
        (total, terms), grads = jax.value_and_grad(loss, has_aux=True)(params, minibatch)
        updates, opt_state = optimiser.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), {"loss": total, **terms}

    def epoch(state, epoch_key):
        minibatches = shuffle_into_minibatches(epoch_key, sequences, carry, config.num_minibatches, mesh)
        return jax.lax.scan(sgd_step, state, minibatches)

    return jax.lax.scan(epoch, params_opt, jax.random.split(key, config.update_epochs))


def make_optimiser(config: PPOConfig) -> optax.GradientTransformation:
    """Adam after global-norm clipping; with ``anneal_lr`` the step size falls linearly from
    ``lr`` to 0 over the run, one step down per update (all its minibatch steps share one)."""
    steps_per_update = config.num_minibatches * config.update_epochs

    def schedule(count):
        return config.lr * (1.0 - (count // steps_per_update) / config.num_updates)

    return optax.chain(
        optax.clip_by_global_norm(config.max_grad_norm),
        optax.adam(schedule if config.anneal_lr else config.lr, eps=1e-5),
    )


def loss_sequences(config: PPOConfig, batch, start_carry):
    """Time-major ``[T, E, N, ...]`` rollout data -> the sequences the loss is applied to,
    ``[T', B, N, ...]``, and their start carries ``[B, N, H]``: whole env sequences
    (recurrent: ``T' = T, B = E``), or single steps (feed-forward: ``T' = 1, B = T E``,
    without the resets and carries, which a feed-forward tower ignores: carry ``None``)."""
    if config.recurrent:
        return batch, start_carry
    t, e = config.num_steps, config.num_envs
    traj, advantages, targets = batch
    flat = jax.tree_util.tree_map(
        lambda x: x.reshape((1, t * e) + x.shape[2:]), (traj._replace(reset=None), advantages, targets)
    )
    return flat, None


def shuffle_into_minibatches(key, sequences, carry, num_minibatches: int, mesh: Optional[Mesh] = None):
    """Shuffle the ``B`` sequences (axis 1 of every leaf; axis 0 of the carries) with one
    permutation and cut them into ``num_minibatches`` along a new leading axis:
    ``(traj, carry, advantages, targets)`` ready for ``lax.scan``. With a ``mesh`` whose size
    divides the minibatch, each minibatch's sequences are split over its devices."""
    perm = jax.random.permutation(key, sequences[1].shape[1])

    def split(x, axis):
        shuffled = jnp.take(x, perm, axis=axis)
        return jnp.moveaxis(shuffled.reshape(x.shape[:axis] + (num_minibatches, -1) + x.shape[axis + 1 :]), axis, 0)

    traj, advantages, targets = jax.tree_util.tree_map(lambda x: split(x, 1), sequences)
    mb_carry = None if carry is None else jax.tree_util.tree_map(lambda x: split(x, 0), carry)
    if sequences[1].shape[1] // num_minibatches % mesh_size(mesh) == 0:
        traj, advantages, targets = constrain_batch((traj, advantages, targets), mesh, batch_dim=2)
        mb_carry = constrain_batch(mb_carry, mesh, batch_dim=1)
    return traj, mb_carry, advantages, targets


def num_parameters(params) -> int:
    """Number of scalars in a parameter pytree."""
    return sum(math.prod(x.shape) for x in jax.tree_util.tree_leaves(params))


def variant(name: str, description: str, centralised_critic: bool):
    """Register the PPO variant ``name`` whose critic input is fixed (IPPO: own observation,
    MAPPO: ``global_state``) and return its ``(make_learner, make_train)``.

    The fixed field is stated once, here: the registry applies it to configs built from flags
    and these functions apply it to configs passed from code.
    """
    from marljax.solvers.learners.registry import register_learner

    fixed = {"centralised_critic": centralised_critic}

    def fix(config: PPOConfig) -> PPOConfig:
        return dataclasses.replace(config, **fixed)

    def learner(config: PPOConfig, env, **kwargs) -> Learner:
        return make_learner(fix(config), env, **kwargs)

    def train(config: PPOConfig, env, **kwargs):
        """``train(key) -> (runner_state, metrics)``; kwargs: ``opponent_policy``, ``progress``, ``mesh``."""
        return make_train(fix(config), env, **kwargs)

    register_learner(name, PPOConfig, learner, description, fixed=fixed, hidden=("trained_agents",))
    return learner, train
