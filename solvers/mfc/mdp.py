r"""The mean-field MDP: a swarm of ``N`` agents as one agent whose actions are decision rules.

Dec-POMFC (Cui et al. 2024) lifts a cooperative swarm of interchangeable agents to a
single-agent MDP: its state is the swarm's mean field :math:`\mu_t` (here embedded,
:mod:`~marljax.solvers.mfc.embeddings`) and the time, its action a decision rule
:math:`\pi_t(u \mid y)` that *every* agent applies to its own local observation :math:`y_i`, and
its reward the agents' mean reward. :class:`MeanFieldMDP` is that MDP on the finite-``N`` env, a
one-agent marljax env, so the PPO core trains its policy unchanged (the "upper level").

The decision rule (:class:`LinearGaussianRule`) is a Gaussian, linear in the agent's view:

.. math:: u_i \sim \mathcal N\big(W y_i + c,\ \mathrm{diag}(s)^2\big), \qquad
          \xi = (W, c, \log s - \ell_0) \in \mathbb R^{A (D + 2)}

(``D`` view size, ``A`` action size). The upper level's action :math:`a` sets
:math:`\xi = \mathrm{clip}(\alpha a, \pm\,\text{rule\_bound})` (``rule_scale`` :math:`\alpha`;
:math:`\log s = \xi_s + \ell_0`, ``rule_log_std`` :math:`\ell_0`, clipped to ``[-4, 0.5]``); each
agent draws its own :math:`u_i` with its own noise, so execution is decentralised and, since
``D`` does not depend on ``N``, the same rule runs at any ``N``.

Why the rule starts nearly deterministic and the upper level explores in a scaled space: the
agents' independent noise is not exploration the upper level can learn from (it averages out of
the mean field) but it degrades every swarm reward built on agreement -- on Vicsek a per-agent
turn noise of std ``0.37 max_turn`` leaves the polarisation of even the textbook rule at the
random policy's. Likewise the upper level's Gaussian (PPO's, std 1 at the start) perturbs all
``A (D + 2)`` rule parameters at once; at unit scale the perturbed rule turns agents by their own
heading and drowns the return differences between rules. So :math:`\ell_0 = -3`
(:math:`s \approx 0.05` at :math:`\xi_s = 0`) and :math:`\alpha = 0.5` by default.

:class:`MeanFieldView` is the swarm env as the trained policy meets it at execution: the same
env, with each agent's ``global_state`` row replaced by its own mean-field state
:math:`x_i` (``agent_states``), from which the upper level embeds :math:`\mu_t`.
"""

from __future__ import annotations

import dataclasses
from functools import cached_property

import chex
import jax
import jax.numpy as jnp
from jumanji import specs
from jumanji.types import TimeStep
from jumanji.wrappers import Wrapper

from marljax.env import MultiAgentEnv, observation_spec
from marljax.solvers.mfc.embeddings import MeanFieldEmbedding, mean_field_states
from marljax.types import Observation

__all__ = ["LinearGaussianRule", "MeanFieldMDP", "MeanFieldState", "MeanFieldView", "upper_input"]

LOG_STD_MIN, LOG_STD_MAX = -4.0, 0.5


@dataclasses.dataclass(frozen=True)
class LinearGaussianRule:
    """The lower-level decision rule ``u ~ N(W y + c, diag(s)^2)`` shared by all agents.

    Attributes:
      view_size: ``D``, the agent's view width.
      action_size: ``A``.
      bound: parameters are clipped to ``[-bound, bound]``.
      scale: the upper level's action ``a`` gives the parameters ``clip(scale * a, -bound, bound)``.
      log_std: the log standard deviation at ``xi_s = 0`` (``log s = xi_s + log_std``).
    """

    view_size: int
    action_size: int
    bound: float = 3.0
    scale: float = 0.5
    log_std: float = -3.0

    @property
    def num_params(self) -> int:
        """``A (D + 2)``: weights, offsets and log standard deviations."""
        return self.action_size * (self.view_size + 2)

    def unpack(self, xi: chex.Array):
        """``(W [A, D], c [A], s [A])`` from the upper level's flat action ``xi [A (D + 2)]``."""
        a, d = self.action_size, self.view_size
        xi = jnp.clip(self.scale * xi, -self.bound, self.bound)
        weights = xi[: a * d].reshape(a, d)
        offset = xi[a * d : a * (d + 1)]
        std = jnp.exp(jnp.clip(xi[a * (d + 1) :] + self.log_std, LOG_STD_MIN, LOG_STD_MAX))
        return weights, offset, std

    def mean(self, xi: chex.Array, views: chex.Array) -> chex.Array:
        """``[N, A]`` the rule's mean action for every agent's view ``views [N, D]``."""
        weights, offset, _ = self.unpack(xi)
        return views.astype(jnp.float32) @ weights.T + offset

    def sample(self, key: chex.PRNGKey, xi: chex.Array, views: chex.Array) -> chex.Array:
        """``[N, A]`` one action per agent, each with its own noise."""
        _, _, std = self.unpack(xi)
        mean = self.mean(xi, views)
        return mean + std * jax.random.normal(key, mean.shape, jnp.float32)

    def act(self, key: chex.PRNGKey, xi: chex.Array, views: chex.Array, greedy) -> chex.Array:
        """The mean if ``greedy`` else a sample (``greedy`` may be traced)."""
        return jnp.where(greedy, self.mean(xi, views), self.sample(key, xi, views))


def upper_input(embedding: MeanFieldEmbedding | None, states: chex.Array, step_count, max_steps: int) -> chex.Array:
    """The upper level's input ``[K + 1]``: the embedded mean field and the time ``t / T``
    (time only when ``embedding`` is None: the open-loop policy)."""
    time = jnp.asarray(step_count, jnp.float32)[None] / max_steps
    if embedding is None:
        return time
    return jnp.concatenate([embedding(states), time])


@chex.dataclass
class MeanFieldState:
    key: chex.PRNGKey  # the agents' sampling noise (and the auto-reset's key)
    env_state: chex.ArrayTree  # the swarm's state
    observation: Observation  # the swarm's observation (each agent's view for the rule)


class MeanFieldMDP(MultiAgentEnv):
    """The mean-field MDP of a swarm env (one agent; see the module docstring).

    - **Observation** ``agents_view [1, K + 1]``: the embedded mean field and ``t / T``
      (``[1, 1]``, time only, when ``embedding`` is None: open loop).
    - **Action** ``[1, A (D + 2)]``: the decision rule's parameters :math:`\\xi`.
    - **Reward** ``[1]``: the swarm's mean agent reward; metrics and episode ends are the swarm's.

    Args:
      env: a swarm env with ``agent_states`` (:func:`mean_field_states`) and continuous actions.
      embedding: the mean-field embedding, or ``None`` for the open-loop (time-only) policy.
      rule_bound: :attr:`LinearGaussianRule.bound`.
      rule_scale: :attr:`LinearGaussianRule.scale`.
      rule_log_std: :attr:`LinearGaussianRule.log_std`.

    Raises:
      ValueError: the env has no mean-field state, has discrete actions or non-flat views, or
        the embedding's centres do not match its agent states' width.
    """

    action_type = "continuous"

    def __init__(
        self,
        env,
        embedding: MeanFieldEmbedding | None,
        rule_bound: float = 3.0,
        rule_scale: float = 0.5,
        rule_log_std: float = -3.0,
    ):
        self._agent_states = mean_field_states(env)
        if getattr(env, "action_type", None) != "continuous":
            raise ValueError(f"mean-field control here drives continuous actions; {env!r} has {env.action_type!r}")
        view = env.observation_spec.agents_view.shape
        if len(view) != 2:
            raise ValueError(f"the decision rule needs flat views [N, D]; {env!r} gives agents_view {view}")
        width = int(jax.eval_shape(lambda k: self._agent_states(env.reset(k)[0]), jax.random.PRNGKey(0)).shape[-1])
        if embedding is not None and embedding.state_size != width:
            raise ValueError(
                f"the embedding's centres have {embedding.state_size} columns; {env!r}'s agent states {width}"
            )
        self.env = env
        self.embedding = embedding
        self.rule = LinearGaussianRule(
            int(view[1]), int(env.action_spec.shape[-1]), float(rule_bound), float(rule_scale), float(rule_log_std)
        )
        self.num_agents = 1
        self.max_steps = int(env.max_steps)
        self.metrics = dict(getattr(env, "metrics", {}))
        self.input_size = 1 + (0 if embedding is None else embedding.size)
        super().__init__()

    @cached_property
    def observation_spec(self) -> specs.Spec:
        return observation_spec(1, (self.input_size,), 1, self.max_steps, self.input_size)

    @cached_property
    def action_spec(self) -> specs.BoundedArray:
        bound = self.rule.bound / self.rule.scale
        return specs.BoundedArray((1, self.rule.num_params), jnp.float32, -bound, bound, "action")

    def _lift(self, env_state, timestep: TimeStep, reward=None) -> TimeStep:
        obs = timestep.observation
        x = upper_input(self.embedding, self._agent_states(env_state), obs.step_count, self.max_steps)[None]
        upper = self._observation(x, jnp.ones((1, 1), bool), obs.step_count, x)
        return TimeStep(
            step_type=timestep.step_type,
            reward=jnp.zeros((1,), jnp.float32) if reward is None else reward,
            discount=timestep.discount[:1],
            observation=upper,
            extras=timestep.extras,
        )

    def reset(self, key: chex.PRNGKey):
        key, env_key = jax.random.split(key)
        env_state, timestep = self.env.reset(env_key)
        state = MeanFieldState(key=key, env_state=env_state, observation=timestep.observation)
        return state, self._lift(env_state, timestep)

    def step(self, state: MeanFieldState, action: chex.Array):
        key, agents_key = jax.random.split(state.key)
        actions = self.rule.sample(agents_key, action[0], state.observation.agents_view)
        env_state, timestep = self.env.step(state.env_state, actions)
        reward = jnp.mean(timestep.reward)[None]
        state = MeanFieldState(key=key, env_state=env_state, observation=timestep.observation)
        return state, self._lift(env_state, timestep, reward)

    def render(self, state: MeanFieldState):
        return self.env.render(state.env_state)

    def __repr__(self) -> str:
        kind = "open-loop" if self.embedding is None else f"{self.embedding.kind} K={self.embedding.size}"
        return f"MeanFieldMDP({self.env!r}, {kind})"


class MeanFieldView(Wrapper):
    """The swarm env with ``global_state [N, d]`` = every agent's own mean-field state
    (``agent_states``): what the trained MFC policy reads at execution (the upper level embeds
    the rows; each agent's action reads only its own ``agents_view``). States, rewards, metrics
    and rendering are the env's own.

    Raises:
      ValueError: the env has no ``agent_states``.
    """

    def __init__(self, env):
        self._agent_states = mean_field_states(env)
        super().__init__(env)

    @cached_property
    def observation_spec(self) -> specs.Spec:
        spec = self._env.observation_spec
        width = jax.eval_shape(lambda k: self._agent_states(self._env.reset(k)[0]), jax.random.PRNGKey(0)).shape[-1]
        return spec.replace(global_state=specs.Array((self._env.num_agents, width), jnp.float32, "global_state"))

    def _view(self, state, timestep: TimeStep) -> TimeStep:
        states = self._agent_states(state).astype(jnp.float32)
        return timestep.replace(observation=timestep.observation._replace(global_state=states))

    def reset(self, key: chex.PRNGKey):
        state, timestep = self._env.reset(key)
        return state, self._view(state, timestep)

    def step(self, state, action: chex.Array):
        state, timestep = self._env.step(state, action)
        return state, self._view(state, timestep)
