"""MFC: Dec-POMFC mean-field control trained with the PPO core, executed agent by agent at any N.

    from marljax.solvers import mfc
    learner = mfc.make_learner(mfc.MFCConfig(total_steps=200_000), marljax.make("swarms/Vicsek-v0"))
    runner, metrics = jax.jit(learner.run, static_argnums=1)(learner.init(key), learner.config.num_updates)

Training (centralised): PPO (:mod:`marljax.solvers.learners.ppo`, unchanged) learns the
upper-level policy of the :class:`~marljax.solvers.mfc.mdp.MeanFieldMDP` of the finite-``N`` env,
batched over ``num_envs`` envs: from the embedded mean field and the time (or the time only,
``open_loop``) it outputs the parameters of a linear-Gaussian decision rule; reward: the mean
agent reward. Execution (decentralised): ``act`` embeds the swarm's states (its observation's
``global_state`` rows, :class:`~marljax.solvers.mfc.mdp.MeanFieldView`), takes the rule's
parameters from the upper level (shared by all agents at time ``t``) and each agent draws its
own action from the rule applied to its own view; nothing depends on ``N``, so a rule trained
at ``N = 100`` runs at ``N = 10,000``. ``run`` reports ``episode_return [N]`` (the shared mean
reward's return, repeated per agent as the run folders expect) and PPO's other metrics.

References:
    Cui, Fabian, Tahir and Koeppl 2024, "Learning Decentralized Partially Observable Mean Field
    Control for Artificial Collective Behavior" (ICLR), https://arxiv.org/abs/2307.06175;
    Schulman et al. 2017, "Proximal Policy Optimization Algorithms".
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Optional

import jax
import jax.numpy as jnp

from marljax.checks import check_positive
from marljax.solvers.learners import ppo
from marljax.solvers.learners.registry import register_learner
from marljax.solvers.mfc.embeddings import EMBEDDINGS, MeanFieldEmbedding, embedding_for_env
from marljax.solvers.mfc.mdp import LOG_STD_MAX, LOG_STD_MIN, MeanFieldMDP, MeanFieldView, upper_input
from marljax.types import Observation

__all__ = ["MFCConfig", "make_learner", "make_train", "make_mdp"]


@dataclasses.dataclass(frozen=True)
class MFCConfig(ppo.PPOConfig):
    """PPO's hyper-parameters (of the upper level) plus the mean-field ones.

    Attributes:
      lr: PPO's step size (default 2e-3 here).
      embedding: ``"kernel"`` (RBF kernel mean embedding) or ``"histogram"``.
      open_loop: the upper level reads the time only (fully decentralised execution).
      centres_per_dim: kernel/bin centres per agent-state column, on a grid over ``[-1, 1]^d``.
      bandwidth: the RBF kernel's sigma (> 0).
      rule_bound: the decision rule's parameters are clipped to ``[-rule_bound, rule_bound]``.
      rule_scale: the rule's parameters are ``rule_scale`` times the upper level's action (its
        exploration noise, PPO's std 1 at the start, in rule units; see :mod:`~marljax.solvers.mfc.mdp`).
      rule_log_std: the rule's log standard deviation when its ``log s`` parameter is 0 (the agents'
        own noise starts small: it is no exploration for the upper level and blurs the swarm).
    """

    lr: float = 2e-3  # the upper level has one agent's samples per env step: a larger step than IPPO's default
    embedding: str = "kernel"
    open_loop: bool = False
    centres_per_dim: int = 3
    bandwidth: float = 0.5
    rule_bound: float = 3.0
    rule_scale: float = 0.5
    rule_log_std: float = -3.0


def _validate(config: MFCConfig) -> None:
    if config.embedding not in EMBEDDINGS:
        raise ValueError(f"embedding must be one of {EMBEDDINGS}; got {config.embedding!r}")
    if isinstance(config.centres_per_dim, bool) or int(config.centres_per_dim) != config.centres_per_dim:
        raise ValueError(f"centres_per_dim must be a positive integer; got {config.centres_per_dim!r}")
    check_positive(centres_per_dim=config.centres_per_dim, bandwidth=config.bandwidth, rule_bound=config.rule_bound)
    check_positive(rule_scale=config.rule_scale)
    if not LOG_STD_MIN <= config.rule_log_std <= LOG_STD_MAX:
        raise ValueError(f"rule_log_std must be in [{LOG_STD_MIN}, {LOG_STD_MAX}]; got {config.rule_log_std!r}")


def make_mdp(config: MFCConfig, env, embedding: Optional[MeanFieldEmbedding] = None) -> MeanFieldMDP:
    """The mean-field MDP the upper level is trained on (``embedding`` overrides the config's grid).

    Raises:
      ValueError: bad config values (embedding kind, centres, bandwidth) or an env without ``agent_states``.
    """
    _validate(config)
    if config.open_loop:
        embedding = None
    elif embedding is None:
        embedding = embedding_for_env(env, config.embedding, int(config.centres_per_dim), config.bandwidth)
    return MeanFieldMDP(env, embedding, config.rule_bound, config.rule_scale, config.rule_log_std)


def make_learner(
    config: MFCConfig,
    env,
    progress: Optional[Callable] = None,
    *,
    embedding: Optional[MeanFieldEmbedding] = None,
    mesh=None,
) -> ppo.Learner:
    """The MFC learner: ``init``/``update``/``run`` train the upper level on the mean-field MDP
    (the PPO core's, with ``mesh`` forwarded), ``act`` runs the policy decentralised on
    ``learner.env`` (the swarm env as :class:`MeanFieldView`, ``[E, N]`` agents, any ``N``).

    Raises:
      ValueError: bad config or env (before anything compiles).
    """
    if not isinstance(config, MFCConfig):
        config = MFCConfig(**dataclasses.asdict(config))
    mdp = make_mdp(config, env, embedding)
    upper = ppo.make_learner(config, mdp, progress=progress, **({} if mesh is None else {"mesh": mesh}))
    view = MeanFieldView(env)
    n, max_steps, rule = env.num_agents, mdp.max_steps, mdp.rule

    def per_agent(metrics):
        # The lifted MDP has one agent earning the mean reward; a run folder wants one return per agent.
        ret = metrics["episode_return"]
        return {**metrics, "episode_return": jnp.broadcast_to(ret, ret.shape[:-1] + (n,))}

    def update(runner):
        runner, metrics = upper.update(runner)
        return runner, per_agent(metrics)

    def run(runner, num_updates: int):
        runner, metrics = upper.run(runner, num_updates)
        return runner, per_agent(metrics)

    def act(params, carry, observation: Observation, reset, key, greedy=False):
        """``(carry, action [E, N, A])`` for ``[E, N]`` agents of ``learner.env``: one rule per
        env from the upper level (sampled, or its mode if ``greedy``), one action per agent."""
        upper_key, agents_key = jax.random.split(key)
        x = jax.vmap(lambda s, t: upper_input(mdp.embedding, s, t, max_steps))(
            observation.global_state, observation.step_count
        )[:, None]  # [E, 1, K + 1]
        e = x.shape[0]
        lifted = Observation(
            agents_view=x,
            action_mask=jnp.ones((e, 1, 1), bool),
            step_count=observation.step_count,
            global_state=x,
            agent_type=jnp.zeros((e, 1), jnp.int32),
        )
        carry, xi = upper.act(params, carry, lifted, reset[:, :1], upper_key, greedy)
        keys = jax.random.split(agents_key, e)
        actions = jax.vmap(rule.act, in_axes=(0, 0, 0, None))(keys, xi[:, 0], observation.agents_view, greedy)
        return carry, actions

    return ppo.Learner(upper.config, view, upper.init, update, run, act, upper.initial_carry)


def make_train(config: MFCConfig, env, progress: Optional[Callable] = None, **kwargs):
    """``train(key) -> (runner_state, metrics)``, the whole run in one jittable function."""
    learner = make_learner(config, env, progress, **kwargs)

    def train(key):
        return learner.run(learner.init(key), learner.config.num_updates)

    return train


register_learner(
    "mfc",
    MFCConfig,
    make_learner,
    "MFC: Dec-POMFC mean-field control, PPO on the kernel-embedded mean field, decentralised at any N (Cui et al. 2024)",
    fixed={"recurrent": False, "share_parameters": True, "centralised_critic": False},
    hidden=("trained_agents",),
)
