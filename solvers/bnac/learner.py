r"""BN-MAPPO: MAPPO whose joint policy is a (context-aware) Bayesian network over agents.

    from marljax.solvers import bnac
    config = bnac.BNConfig(total_steps=200_000, gamma=0.95)              # dag="learned"
    train = bnac.make_train(config, marljax.make("coordination/CoordinationGame-v0"))
    runner, metrics = jax.jit(jax.vmap(train))(jax.random.split(jax.random.PRNGKey(0), 4))

Each step, every env samples a DAG :math:`G \sim p_\phi(G | o)` (:mod:`.dag`, edge and
permutation logits from the :class:`~.policy.DAGNetwork` over all agents' observations), then
the agents act in its topological order (:func:`~.policy.sample_in_order`). The PPO ratio uses
the **joint** log-probability :math:`\sum_i \log \pi_i(a_i | o_i, a_{\mathrm{Pa}(i)})` under the
rollout's DAG, re-sampled in the loss from the stored noise with the current parameters so
that the DAG network gets straight-through gradients. The critic is MAPPO's (``global_state``).
With the **sparsity annealing** of Chen & Zhang 2023 the loss adds

.. math::

    \alpha_t \,\big|\, \mathrm{open\_ratio}(G) - \mathrm{threshold}_t \big|, \qquad
    \mathrm{open\_ratio} = |E(G)| / \tbinom{n}{2},

with the threshold 1 until ``anneal_start`` (40%) of training, falling linearly to 0 at
``anneal_end`` (70%), after which :math:`\alpha` rises linearly from ``sparsity_alpha`` to
``sparsity_alpha_final``: the executed policy ends (nearly) edgeless, i.e. it runs without
communication. ``dag="empty"`` is plain MAPPO (independent conditionals), ``dag="full"`` the
autoregressive policy in index order (both without the DAG network and the penalty).

**What is reused from the PPO core** (:mod:`marljax.solvers.learners.ppo`): the config fields
and their validation, the optimiser, the auto-reset/episode-statistics wrappers, the critic
(:class:`~marljax.solvers.learners.networks.ActorCritic`), the time-limit bootstrap and GAE,
the minibatch shuffling and :func:`~marljax.solvers.learners.losses.ppo_loss`. The rollout and
the loss are this module's, because the core's actor samples every agent at once.

References:
    Chen & Zhang 2023, "Context-aware Bayesian Network Actor-Critic Methods for Cooperative
    Multi-Agent Reinforcement Learning", ICML; Yu et al. 2022 (MAPPO).
"""

from __future__ import annotations

import dataclasses
from typing import Callable, NamedTuple, Optional

import chex
import jax
import jax.numpy as jnp

from marljax.sharding import check_batch_divides, constrain_batch
from marljax.solvers.bnac.dag import DAG_KINDS, fixed_dag, mode_dag, open_ratio, sample_dag
from marljax.solvers.bnac.policy import DAGNetwork, log_prob_entropy, sample_in_order
from marljax.solvers.learners import ppo
from marljax.solvers.learners.advantages import bootstrap_truncated_rewards, generalized_advantages
from marljax.solvers.learners.losses import ppo_loss
from marljax.solvers.learners.networks import ActorCritic, Tower
from marljax.solvers.learners.registry import register_learner
from marljax.types import Observation
from marljax.wrappers import AutoResetWrapper, EpisodeStatistics

__all__ = ["BNConfig", "make_learner", "make_train", "sparsity_schedule"]


@dataclasses.dataclass(frozen=True)
class BNConfig(ppo.PPOConfig):
    """PPO's hyper-parameters plus the DAG's (MAPPO's centralised critic, shared feed-forward towers)."""

    dag: str = "learned"  # "learned" (context-aware, annealed), "empty" (MAPPO) or "full" (autoregressive)
    dag_hidden_size: int = 32
    tau: float = 1.0  # temperature of the Gumbel-Sinkhorn and Gumbel-softmax relaxations
    sinkhorn_iters: int = 20
    edge_bias: float = 1.0  # initial edge logit (open)
    sparsity_alpha: float = 0.1
    sparsity_alpha_final: float = 2.0
    anneal_start: float = 0.4  # fraction of training where the threshold starts falling from 1
    anneal_end: float = 0.7  # ... and reaches 0; alpha rises after it
    centralised_critic: bool = True
    recurrent: bool = False
    share_parameters: bool = True


FIXED = {"centralised_critic": True, "recurrent": False, "share_parameters": True}


def sparsity_schedule(progress, alpha: float, alpha_final: float, start: float = 0.4, end: float = 0.7):
    """``(threshold, alpha)`` at ``progress`` in [0, 1] of training (module docstring)."""
    threshold = jnp.clip((end - progress) / (end - start), 0.0, 1.0)
    rise = jnp.clip((progress - end) / max(1.0 - end, 1e-6), 0.0, 1.0)
    return threshold, alpha + (alpha_final - alpha) * rise


def validate(config: BNConfig, env) -> None:
    """PPO's checks plus the DAG's options (``ValueError`` naming the problem)."""
    ppo.validate(config, env)
    if env.action_type != "discrete":
        raise ValueError(f"bn-mappo needs discrete actions (one-hot parent actions); {env!r} is {env.action_type}")
    if config.dag not in DAG_KINDS:
        raise ValueError(f"unknown DAG kind {config.dag!r}; choose one of {DAG_KINDS}")
    clash = {k: getattr(config, k) for k, v in FIXED.items() if getattr(config, k) != v}
    if clash:
        raise ValueError(f"bn-mappo uses a centralised critic and shared feed-forward towers; got {clash}")
    if config.tau <= 0 or config.sinkhorn_iters < 1 or config.dag_hidden_size < 1:
        raise ValueError("tau, sinkhorn_iters and dag_hidden_size must be positive")
    if config.sparsity_alpha < 0 or config.sparsity_alpha_final < 0:
        raise ValueError("sparsity_alpha and sparsity_alpha_final must be >= 0")
    if not 0.0 <= config.anneal_start < config.anneal_end <= 1.0:
        raise ValueError(f"need 0 <= anneal_start < anneal_end <= 1; got {config.anneal_start}, {config.anneal_end}")


class BNTransition(NamedTuple):
    """One rollout step for ``E`` envs and ``N`` agents."""

    observation: Observation
    reset: chex.Array  # [E, N] (unused by feed-forward towers; kept for the core's batching)
    action: chex.Array  # [E, N]
    log_prob: chex.Array  # [E, N] the joint log-probability, the same for every agent
    dag_key: chex.Array  # [E, 2] the noise of the step's DAG (re-sampled in the loss)
    value: chex.Array
    reward: chex.Array
    done: chex.Array
    open_ratio: chex.Array  # [E]
    episode_return: chex.Array
    episode_metrics: dict


def make_train(config: BNConfig, env, progress: Optional[Callable] = None, *, mesh=None):
    """``train(key) -> (runner_state, metrics)``: the full run in one jittable function."""
    learner = make_learner(config, env, progress, mesh=mesh)
    return lambda key: learner.run(learner.init(key), learner.config.num_updates)


def make_learner(config: BNConfig, env, progress: Optional[Callable] = None, *, mesh=None) -> ppo.Learner:
    """BN-MAPPO's pure functions (``init``, ``update``, ``run``, ``act``), a :class:`~ppo.Learner`;
    ``mesh`` splits the env axis over its devices as in :func:`marljax.solvers.learners.ppo.make_learner`."""
    validate(config, env)
    check_batch_divides(config.num_envs, mesh, "num_envs")
    config = dataclasses.replace(config, total_steps=int(config.total_steps))
    num_envs, n, num_actions = config.num_envs, env.num_agents, env.num_actions
    nets = ActorCritic.for_env(env, config.hidden_size, config.activation, False, True, True)
    actor = Tower(num_actions, config.hidden_size, config.activation, head_scale=0.01)
    dag_net = DAGNetwork(config.dag_hidden_size, config.edge_bias)
    learned = config.dag == "learned"
    fixed = None if learned else jnp.asarray(fixed_dag(config.dag, n), jnp.float32)
    optimiser = ppo.make_optimiser(config)
    wrapped = EpisodeStatistics(AutoResetWrapper(env, next_obs_in_extras=config.bootstrap_truncation))
    seq = lambda x: jax.tree_util.tree_map(lambda y: y[None], x)  # noqa: E731

    def dag_of(params, features, dag_key):
        """``(adjacency [..., N, N], order [..., N])`` of each env's DAG (sampled, or fixed)."""
        batch = features.shape[:-2]
        if not learned:
            return jnp.broadcast_to(fixed, batch + (n, n)), jnp.broadcast_to(jnp.arange(n), batch + (n,))
        perm_logits, edge_logits = dag_net.apply(params["dag"], features)
        sample = jnp.vectorize(
            lambda k, p, e: tuple(sample_dag(k, p, e, config.tau, config.sinkhorn_iters)[:2]),
            signature="(k),(n,n),(n,n)->(n,n),(n)",
        )
        return sample(dag_key, perm_logits, edge_logits)

    def init(key) -> ppo.RunnerState:
        key, k_actor, k_critic, k_dag, k_env = jax.random.split(key, 5)
        _, ts = env.reset(k_env)
        params = {"critic": nets.init(k_actor, k_critic, ts.observation)["critic"]}
        features = nets.features(ts.observation, False)
        x = jnp.zeros((1, features.shape[-1] + n * num_actions))
        params["actor"] = actor.init(k_actor, jnp.zeros((1,)), x, jnp.zeros(1, bool))
        if learned:
            params["dag"] = dag_net.init(k_dag, features)
        env_state, ts = constrain_batch(jax.vmap(wrapped.reset)(jax.random.split(k_env, num_envs)), mesh)
        return ppo.RunnerState(
            params=params,
            opt_state=optimiser.init(params),
            env_state=env_state,
            observation=ts.observation,
            reset=jnp.ones((num_envs, n), bool),
            carry={},
            key=key,
            update=jnp.int32(0),
            episode_key=jax.random.split(jax.random.fold_in(key, 1), num_envs),
        )

    def act(params, carry, obs, reset, key, greedy=False):
        """Joint actions ``[E, N]`` for ``E`` envs: the DAG's mode and each conditional's mode if greedy."""
        features = nets.features(obs, False)
        k_dag, k_act = jax.random.split(key)
        if greedy and learned:
            perm_logits, edge_logits = dag_net.apply(params["dag"], features)
            dag = jax.vmap(lambda p, e: mode_dag(p, e, config.sinkhorn_iters))(perm_logits, edge_logits)
            adjacency, order = dag.adjacency, dag.order
        else:
            adjacency, order = dag_of(params, features, jax.random.split(k_dag, features.shape[0]))
        sample = jax.vmap(lambda f, m, g, o, k: sample_in_order(actor, params["actor"], f, m, g, o, k, greedy))
        action, _ = sample(features, obs.action_mask, adjacency, order, jax.random.split(k_act, features.shape[0]))
        return carry, action

    def env_step(runner: ppo.RunnerState, _):
        key, k_dag, k_act = jax.random.split(runner.key, 3)
        obs = runner.observation
        features = nets.features(obs, False)
        dag_keys = jax.random.split(k_dag, num_envs)
        adjacency, order = dag_of(runner.params, features, dag_keys)
        sample = jax.vmap(lambda f, m, g, o, k: sample_in_order(actor, runner.params["actor"], f, m, g, o, k))
        action, log_probs = sample(features, obs.action_mask, adjacency, order, jax.random.split(k_act, num_envs))
        no_carry = {"critic": jnp.zeros((num_envs, n, 1))}
        _, value = nets.value(runner.params["critic"], no_carry["critic"], seq(obs), seq(runner.reset))
        value = value[0]
        env_state, ts = constrain_batch(jax.vmap(wrapped.step)(runner.env_state, action), mesh)
        done = jnp.broadcast_to(ts.last()[:, None], (num_envs, n))
        reward = ts.reward
        if config.bootstrap_truncation:
            _, v_final = nets.value(runner.params["critic"], no_carry["critic"], seq(ts.extras["next_obs"]), seq(done))
            reward = bootstrap_truncated_rewards(reward, done, ts.discount, v_final[0], config.gamma)
        transition = BNTransition(
            observation=nets.model_inputs(obs),
            reset=runner.reset,
            action=action,
            log_prob=jnp.broadcast_to(log_probs.sum(-1, keepdims=True), (num_envs, n)),
            dag_key=dag_keys,
            value=value,
            reward=reward,
            done=done,
            open_ratio=open_ratio(adjacency),
            episode_return=ts.extras["episode_return"],
            episode_metrics=ts.extras["episode_metrics"],
        )
        runner = runner.replace(env_state=env_state, observation=ts.observation, reset=done, key=key)
        return runner, transition

    def loss(params, minibatch, threshold, alpha):
        traj, _, advantages, targets = minibatch
        obs = traj.observation
        features = nets.features(obs, False)
        adjacency, _ = dag_of(params, features, traj.dag_key)
        log_probs, entropy = log_prob_entropy(actor, params["actor"], features, obs.action_mask, adjacency, traj.action)
        joint = jnp.broadcast_to(log_probs.sum(-1, keepdims=True), log_probs.shape)
        _, values = nets.value(params["critic"], None, obs, jnp.zeros(traj.value.shape, bool))
        total, terms = ppo_loss(
            joint,
            traj.log_prob,
            entropy,
            values,
            traj.value,
            advantages,
            targets,
            clip_eps=config.clip_eps,
            vf_coef=config.vf_coef,
            ent_coef=config.ent_coef,
        )
        penalty = alpha * jnp.mean(jnp.abs(open_ratio(adjacency) - threshold)) if learned else jnp.float32(0.0)
        return total + penalty, {**terms, "sparsity_penalty": penalty}

    def update(runner: ppo.RunnerState):
        frac = runner.update.astype(jnp.float32) / config.num_updates
        threshold, alpha = sparsity_schedule(
            frac, config.sparsity_alpha, config.sparsity_alpha_final, config.anneal_start, config.anneal_end
        )
        runner, traj = jax.lax.scan(env_step, runner, None, config.num_steps)
        traj = constrain_batch(traj, mesh, batch_dim=1)
        _, last_value = nets.value(
            runner.params["critic"], jnp.zeros((num_envs, n, 1)), seq(runner.observation), seq(runner.reset)
        )
        advantages, targets = generalized_advantages(
            traj.reward, traj.value, traj.done, last_value[0], config.gamma, config.gae_lambda
        )
        needed = traj._replace(reward=None, done=None, episode_return=None, episode_metrics=None, open_ratio=None)
        sequences, _ = ppo.loss_sequences(config, (needed, advantages, targets), None)

        key, k_epochs = jax.random.split(runner.key)
        (params, opt_state), info = ppo.optimise(
            lambda p, minibatch: loss(p, minibatch, threshold, alpha),
            optimiser,
            config,
            (runner.params, runner.opt_state),
            sequences,
            None,
            k_epochs,
            mesh=mesh,
        )
        runner = runner.replace(params=params, opt_state=opt_state, key=key, update=runner.update + 1)
        metrics = {
            "episode_return": traj.episode_return.mean(axis=(0, 1)),
            "env_steps": runner.update * config.steps_per_update,
            "value": traj.value.mean(),
            "open_ratio": traj.open_ratio.mean(),  # of the sampled DAGs during the rollout
            "executed_open_ratio": executed_open_ratio(params, runner.observation),
            "sparsity_threshold": threshold,
            "sparsity_alpha": alpha,
            **jax.tree_util.tree_map(jnp.mean, info),
            "env_metrics": jax.tree_util.tree_map(jnp.mean, traj.episode_metrics),
        }
        if progress is not None:
            jax.debug.callback(progress, runner.update)
        return runner, metrics

    def executed_open_ratio(params, obs):
        """Open ratio of the noise-free DAG the greedy policy executes, mean over the envs' observations."""
        if not learned:
            return open_ratio(fixed)
        perm_logits, edge_logits = dag_net.apply(params["dag"], nets.features(obs, False))
        dag = jax.vmap(lambda p, e: mode_dag(p, e, config.sinkhorn_iters))(perm_logits, edge_logits)
        return open_ratio(dag.adjacency).mean()

    def run(runner: ppo.RunnerState, num_updates: int):
        return jax.lax.scan(lambda r, _: update(r), runner, None, num_updates)

    def initial_carry(num_envs_: int) -> dict:
        return {"actor": jnp.zeros((num_envs_, n, 1), jnp.float32)}

    return ppo.Learner(config, env, init, update, run, act, initial_carry)


register_learner(
    "bn-mappo",
    BNConfig,
    lambda config, env, progress=None, mesh=None: make_learner(config, env, progress, mesh=mesh),
    "BN-MAPPO: MAPPO with a context-aware Bayesian-network joint policy and sparsity annealing (Chen & Zhang 2023)",
    fixed=FIXED,
    hidden=("trained_agents",),
)
