"""Actor and critic towers for the PPO learners: feed-forward or GRU, shared or per-agent.

Every tower has one signature, whatever its kind, so the learners never branch on it:

    carry, out = tower.apply(params, carry, x, resets)

with ``x [T, B..., D]`` a time-major sequence, ``resets [T, B...]`` True where an episode
began (the GRU state is zeroed there) and ``carry [B..., H]``. Feed-forward towers pass the
carry through untouched (``H = 1``). With parameter sharing off, ``params`` carry a leading
agent axis and :func:`apply_per_agent` vmaps the tower over the agent axis of the data.
Initialisation follows PureJaxRL/JaxMARL: orthogonal(sqrt 2) hidden layers, orthogonal(0.01)
policy head and orthogonal(1) value head, zero biases.

:class:`ActorCritic` bundles an actor and a critic tower with what they read from an
:class:`~marljax.types.Observation` (own view or ``global_state``, plus a one-hot agent type
for heterogeneous agents) and the action distribution of the policy head.
"""

from __future__ import annotations

import dataclasses
import functools

import distrax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax.linen.initializers import constant

from marljax.types import Observation

__all__ = [
    "Tower",
    "ResetGRU",
    "ActorCritic",
    "apply_per_agent",
    "policy_distribution",
    "categorical_log_prob_entropy",
    "orthogonal",
    "ACTIVATIONS",
]

ACTIVATIONS = {"tanh": nn.tanh, "relu": nn.relu}
NEWTON_SCHULZ_STEPS = 40


def orthogonal(scale: float = 1.0):
    """Orthogonal initialiser without LAPACK: the polar factor of a Gaussian matrix (which is
    Haar-distributed, like the QR-based initialiser's), found by Newton-Schulz iterations
    ``X <- 1.5 X - 0.5 X X^T X`` from ``X / |X|_F``. Why not QR: ``jax.nn.initializers.orthogonal``
    calls LAPACK geqrf/orgqr, and those custom calls intermittently deadlock XLA:CPU when the
    init is vmapped over seeds inside one jit (jax 0.10, seen here on 2 cores)."""

    def init(key, shape, dtype=jnp.float32):
        rows, cols = shape[0], int(np.prod(shape[1:]))
        x = jax.random.normal(key, (max(rows, cols), min(rows, cols)), jnp.float32)
        x = x / jnp.linalg.norm(x)
        x = jax.lax.fori_loop(0, NEWTON_SCHULZ_STEPS, lambda _, x: 1.5 * x - 0.5 * x @ (x.T @ x), x)
        x = x if rows >= cols else x.T
        return (scale * x).reshape(shape).astype(dtype)

    return init


MASKED_LOGIT = -1e9  # a masked action's logit: probability exactly 0 after softmax in float32


class ResetGRU(nn.Module):
    """A GRU scanned over time that restarts from zeros where ``resets`` is True."""

    @functools.partial(nn.scan, variable_broadcast="params", in_axes=0, out_axes=0, split_rngs={"params": False})
    @nn.compact
    def __call__(self, carry, inputs):
        x, reset = inputs
        carry = jnp.where(reset[..., None], jnp.zeros_like(carry), carry)
        cell = nn.GRUCell(features=carry.shape[-1], recurrent_kernel_init=orthogonal())
        carry, y = cell(carry, x)
        return carry, y


class Tower(nn.Module):
    """Two hidden layers (or a layer, a GRU and a layer) and a linear head of ``num_outputs``."""

    num_outputs: int
    hidden_size: int = 64
    activation: str = "tanh"
    recurrent: bool = False
    head_scale: float = 0.01
    #: Add a state-independent log standard deviation (Gaussian policies).
    log_std: bool = False

    @nn.compact
    def __call__(self, carry, x, resets):
        act = ACTIVATIONS[self.activation]
        dense = lambda n: nn.Dense(n, kernel_init=orthogonal(np.sqrt(2)), bias_init=constant(0.0))  # noqa: E731
        h = act(dense(self.hidden_size)(x))
        if self.recurrent:
            carry, h = ResetGRU()(carry, (h, resets))
        h = act(dense(self.hidden_size)(h))
        out = nn.Dense(self.num_outputs, kernel_init=orthogonal(self.head_scale), bias_init=constant(0.0))(h)
        if self.log_std:
            log_std = self.param("log_std", constant(0.0), (self.num_outputs,))
            out = (out, jnp.broadcast_to(log_std, out.shape))
        return carry, out

    def carry_size(self) -> int:
        return self.hidden_size if self.recurrent else 1


def apply_per_agent(tower: Tower, shared: bool, params, carry, x, resets):
    """Apply ``tower`` to data with an agent axis (``x [T, B..., N, D]``, ``carry [B..., N, H]``,
    ``resets [T, B..., N]``): one parameter set for every agent, or one per agent."""
    if shared and not tower.recurrent:  # one batch of rows: plain 2-D matmuls, agents flattened in
        _, out = tower.apply(params, carry, x.reshape((-1, x.shape[-1])), resets.reshape(-1))
        return carry, jax.tree_util.tree_map(lambda y: y.reshape(x.shape[:-1] + y.shape[-1:]), out)
    if shared:
        return tower.apply(params, carry, x, resets)
    per_agent = jax.vmap(tower.apply, in_axes=(0, -2, -2, -1), out_axes=-2)
    return per_agent(params, carry, x, resets)


def policy_distribution(out, action_mask, continuous: bool):
    """The action distribution of a policy head: masked categorical or diagonal Gaussian."""
    if continuous:
        mean, log_std = out
        return distrax.MultivariateNormalDiag(mean, jnp.exp(log_std))
    return distrax.Categorical(logits=jnp.where(action_mask, out, MASKED_LOGIT))


def categorical_log_prob_entropy(log_p, action):
    """``log pi(action)`` and the entropy of a categorical given its log-probabilities ``log_p [..., A]``
    (masked actions at ``log_p`` = -inf-ish contribute 0): distrax's maths straight from
    ``log_softmax``, which keeps the hot loss lean."""
    log_prob = jnp.take_along_axis(log_p, action[..., None].astype(jnp.int32), -1)[..., 0]
    p = jnp.exp(log_p)
    entropy = -jnp.sum(jnp.where(p == 0, 0.0, log_p) * p, -1)
    return log_prob, entropy


@dataclasses.dataclass(frozen=True)
class ActorCritic:
    """A multi-agent actor and critic: towers, their inputs, and the policy's distribution.

    Every method takes time-major sequences: observation leaves ``[T, B, N, ...]``, ``reset
    [T, B, N]`` (True where an episode starts: the GRU restarts) and a carry ``[B, N, H]``, and
    returns the new carry first. ``params`` of a method are its tower's (``params["actor"]`` or
    ``params["critic"]`` of :meth:`init`).
    """

    actor: Tower
    critic: Tower
    num_agents: int
    shared: bool  # one parameter set for every agent (else one per agent)
    centralised_critic: bool  # the critic reads global_state (MAPPO), else the agent's own view
    num_types: int  # agent kinds; above 1 the towers also read a one-hot agent_type
    continuous: bool  # diagonal Gaussian policy (else a masked categorical)

    @classmethod
    def for_env(cls, env, hidden_size, activation, recurrent, share_parameters, centralised_critic) -> "ActorCritic":
        continuous = env.action_type == "continuous"
        tower = dict(hidden_size=hidden_size, activation=activation, recurrent=recurrent)
        return cls(
            actor=Tower(env.num_actions, head_scale=0.01, log_std=continuous, **tower),
            critic=Tower(1, head_scale=1.0, **tower),
            num_agents=env.num_agents,
            shared=share_parameters,
            centralised_critic=centralised_critic,
            num_types=int(env.observation_spec.agent_type.maximum) + 1,
            continuous=continuous,
        )

    def model_inputs(self, obs: Observation) -> Observation:
        """Only the observation fields the towers read (None for the rest), so rollouts store
        and minibatches shuffle no more than the loss needs."""
        return obs._replace(
            step_count=None,
            global_state=obs.global_state if self.centralised_critic else None,
            agent_type=obs.agent_type if self.num_types > 1 else None,
            action_mask=None if self.continuous else obs.action_mask,
        )

    def features(self, obs: Observation, centralised: bool):
        x = obs.global_state if centralised else obs.agents_view.astype(jnp.float32)
        if self.num_types > 1:  # heterogeneous agents: tell a shared network who is acting
            x = jnp.concatenate([x, jax.nn.one_hot(obs.agent_type, self.num_types)], -1)
        return x

    def initial_carry(self, num_envs: int) -> dict:
        """Zero recurrent states ``{"actor": [E, N, H], "critic": [E, N, H]}``."""
        zeros = jnp.zeros((num_envs, self.num_agents, self.actor.carry_size()), jnp.float32)
        return {"actor": zeros, "critic": zeros}

    def init(self, key_actor, key_critic, observation: Observation) -> dict:
        """``{"actor": ..., "critic": ...}`` parameters, from one env's ``observation [N, ...]``."""
        sample = jax.tree_util.tree_map(lambda x: x[None, None], observation)  # [1, 1, N, ...]
        reset = jnp.zeros((1, 1, self.num_agents), bool)
        carry = self.initial_carry(1)["actor"]

        def init_tower(tower, key, x):
            if self.shared:
                return tower.init(key, carry, x, reset)
            keys = jax.random.split(key, self.num_agents)
            return jax.vmap(lambda k, c, xi, r: tower.init(k, c, xi, r), in_axes=(0, 1, 2, 2))(keys, carry, x, reset)

        return {
            "actor": init_tower(self.actor, key_actor, self.features(sample, False)),
            "critic": init_tower(self.critic, key_critic, self.features(sample, self.centralised_critic)),
        }

    def policy(self, params, carry, obs, reset):
        """``(carry, distribution)``: masked categorical or diagonal Gaussian over actions."""
        carry, out = apply_per_agent(self.actor, self.shared, params, carry, self.features(obs, False), reset)
        return carry, policy_distribution(out, obs.action_mask, self.continuous)

    def log_policy(self, params, carry, obs, reset):
        """Discrete policies: ``(carry, log pi(.|obs))``, masked actions at probability 0."""
        carry, out = apply_per_agent(self.actor, self.shared, params, carry, self.features(obs, False), reset)
        return carry, jax.nn.log_softmax(jnp.where(obs.action_mask, out, MASKED_LOGIT))

    def value(self, params, carry, obs, reset):
        """``(carry, V(obs))`` with values ``[T, B, N]``."""
        x = self.features(obs, self.centralised_critic)
        carry, out = apply_per_agent(self.critic, self.shared, params, carry, x, reset)
        return carry, out[..., 0]

    def sample(self, params, carry, obs, reset, key):
        """``(carry, action, log pi(action|obs))``, an action drawn from the policy."""
        if self.continuous:
            carry, pi = self.policy(params, carry, obs, reset)
            action = pi.sample(seed=key)
            return carry, action, pi.log_prob(action)
        carry, log_p = self.log_policy(params, carry, obs, reset)
        action = jax.random.categorical(key, log_p)
        return carry, action, jnp.take_along_axis(log_p, action[..., None], -1)[..., 0]

    def log_prob_entropy(self, params, carry, obs, reset, action):
        """``log pi(action|obs)`` and the policy's entropy, per agent and step."""
        if self.continuous:
            _, pi = self.policy(params, carry, obs, reset)
            return pi.log_prob(action), pi.entropy()
        _, log_p = self.log_policy(params, carry, obs, reset)
        return categorical_log_prob_entropy(log_p, action)
