"""Kuramoto-v0: coupled oscillators that learn frequency corrections; reward is the synchrony R.

Source: Kuramoto 1975 / Strogatz 2000, "From Kuramoto to Crawford" (Physica D 143); as an RL
task, Cui et al. 2024, "Learning Decentralized Partially Observable Mean Field Control for
Artificial Collective Behavior" (Dec-POMFC, ICLR).

- **Dynamics** (all-to-all, Euler step ``dt``): each oscillator has a phase ``theta_i`` and a
  natural frequency ``omega_i`` drawn at reset from a Lorentzian (Cauchy) of half-width
  ``g = frequency_width`` centred at 0 (or a Gaussian of standard deviation g), and

      theta_i' = omega_i + u_i + (K / N) sum_j sin(theta_j - theta_i)
               = omega_i + u_i + K R sin(psi - theta_i),     R e^{i psi} = mean_j e^{i theta_j},

  so a step costs O(N). ``u_i = a_i max_correction`` is agent i's frequency correction.
  Uncontrolled (``u = 0``, :func:`classic_policy`) with Lorentzian frequencies the model
  synchronises (``R -> sqrt(1 - 2g/K)``) for ``K > K_c = 2g`` and stays incoherent
  (``R = O(1/sqrt(N))``) for ``K < 2g`` (Kuramoto's result; tested at N = 2000).
- **Defaults**: N = 100, ``coupling`` K = 1, ``frequency_width`` g = 1 (below threshold: the
  uncontrolled swarm does not synchronise, control must do it), ``max_correction`` = 2,
  ``action_cost`` = 0.01, ``dt`` = 0.1, episodes of 200 steps, phases uniform at reset.
- **Observation** ``agents_view [N, 6]``: own phase ``(cos, sin)``, own natural frequency
  ``omega_i / max_correction`` (clipped to [-5, 5]: Cauchy tails), and the mean field seen
  from the agent: ``R`` and ``(cos, sin)(psi - theta_i)``. Size independent of N.
  ``global_state [N, 9]``: own view + ``(R, cos psi, sin psi)``.
- **Action** ``[N, 1]`` in ``[-1, 1]``: the correction as a fraction of ``max_correction`` (clipped).
- **Reward**: ``R - action_cost * mean_i u_i^2`` after the step, shared.
- **Termination**: none; truncation after ``max_steps``.
- **Metrics / extras**: ``order_parameter`` (R; episode mean).
- :meth:`Kuramoto.agent_states` gives ``[N, 3]`` ``(cos theta, sin theta, omega / max_correction)``.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp

from marljax.checks import number
from marljax.envs.swarms.common.base import SwarmEnv
from marljax.physics.order import kuramoto_order, wrap_angle

__all__ = ["Kuramoto", "KuramotoState", "classic_policy", "FREQUENCY_DISTRIBUTIONS", "sample_frequencies"]

FREQUENCY_DISTRIBUTIONS = ("lorentzian", "gaussian")
_OMEGA_CLIP = 5.0


@chex.dataclass
class KuramotoState:
    key: chex.PRNGKey
    step_count: chex.Array  # [] int32
    theta: chex.Array  # [N] phases in [-pi, pi)
    omega: chex.Array  # [N] natural frequencies


def sample_frequencies(key: chex.PRNGKey, num: int, width: float, distribution: str = "lorentzian") -> chex.Array:
    """``[num]`` natural frequencies: Lorentzian ``g / (pi (w^2 + g^2))`` (half-width ``g =
    width``, by inverse CDF ``g tan(pi (u - 1/2))``) or Gaussian with standard deviation ``width``."""
    if distribution == "gaussian":
        return width * jax.random.normal(key, (num,), jnp.float32)
    u = jax.random.uniform(key, (num,), jnp.float32, 1e-6, 1.0 - 1e-6)
    return width * jnp.tan(jnp.pi * (u - 0.5))


class Kuramoto(SwarmEnv):
    """Kuramoto oscillators with learned frequency corrections (see the module docstring)."""

    metrics = {"order_parameter": "mean"}
    agent_state_names = ("cos_phase", "sin_phase", "frequency")
    global_feature_names = ("order", "cos_mean_phase", "sin_mean_phase")

    def __init__(
        self,
        num_agents: int = 100,
        coupling: float = 1.0,
        frequency_width: float = 1.0,
        dt: float = 0.1,
        max_correction: float = 2.0,
        action_cost: float = 0.01,
        frequency_distribution: str = "lorentzian",
        max_steps: int = 200,
    ):
        self.coupling = number(0.0)("coupling", coupling)
        self.frequency_width = number(0.0)("frequency_width", frequency_width)
        self.dt = number(0.0, open_low=True)("dt", dt)
        self.max_correction = number(0.0, open_low=True)("max_correction", max_correction)
        self.action_cost = number(0.0)("action_cost", action_cost)
        if frequency_distribution not in FREQUENCY_DISTRIBUTIONS:
            raise ValueError(
                f"frequency_distribution must be one of {FREQUENCY_DISTRIBUTIONS}; got {frequency_distribution!r}"
            )
        self.frequency_distribution = frequency_distribution
        super().__init__(num_agents, max_steps, 6, 1)

    def _reset(self, key: chex.PRNGKey):
        key, theta_key, omega_key = jax.random.split(key, 3)
        n = self.num_agents
        theta = jax.random.uniform(theta_key, (n,), jnp.float32, -jnp.pi, jnp.pi)
        omega = sample_frequencies(omega_key, n, self.frequency_width, self.frequency_distribution)
        state = KuramotoState(key=key, step_count=jnp.int32(0), theta=theta, omega=omega)
        return state, self._observe(state, 0.0, first=True)

    def _step(self, state: KuramotoState, action: chex.Array):
        u = jnp.clip(action[:, 0], -1.0, 1.0) * self.max_correction
        order, psi = kuramoto_order(state.theta)
        velocity = state.omega + u + self.coupling * order * jnp.sin(psi - state.theta)
        theta = wrap_angle(state.theta + self.dt * velocity)
        state = KuramotoState(key=state.key, step_count=state.step_count + 1, theta=theta, omega=state.omega)
        return state, self._observe(state, self.action_cost * jnp.mean(u * u), first=False)

    def _observe(self, state: KuramotoState, cost, first: bool):
        order, psi = kuramoto_order(state.theta)
        relative = psi - state.theta
        n = self.num_agents
        views = jnp.stack(
            [
                jnp.cos(state.theta),
                jnp.sin(state.theta),
                jnp.clip(state.omega / self.max_correction, -_OMEGA_CLIP, _OMEGA_CLIP),
                jnp.full((n,), order),
                jnp.cos(relative),
                jnp.sin(relative),
            ],
            axis=1,
        )
        features = (order, jnp.cos(psi), jnp.sin(psi))
        return self._timestep(views, features, order - cost, {"order_parameter": order}, state.step_count, first)

    def agent_states(self, state: KuramotoState) -> chex.Array:
        """``[N, 3]``: ``(cos theta, sin theta, omega / max_correction)`` (frequency clipped to [-5, 5])."""
        omega = jnp.clip(state.omega / self.max_correction, -_OMEGA_CLIP, _OMEGA_CLIP)
        return jnp.stack([jnp.cos(state.theta), jnp.sin(state.theta), omega], -1)

    def render(self, state: KuramotoState):
        """Oscillators on the unit circle coloured by phase, with the order parameter as an arrow."""
        from marljax.envs.swarms.common.viewer import draw_phases

        order, psi = (float(x) for x in kuramoto_order(state.theta))
        title = (
            f"Kuramoto  N={self.num_agents}  K={self.coupling:g}  g={self.frequency_width:g}  "
            f"step {int(state.step_count)}  R={order:.2f}"
        )
        return draw_phases(state.theta, title, order=(order, psi))

    def __repr__(self) -> str:
        return (
            f"Kuramoto(num_agents={self.num_agents}, coupling={self.coupling:g}, "
            f"frequency_width={self.frequency_width:g}, dt={self.dt:g})"
        )


def classic_policy(env: Kuramoto):
    """The uncontrolled Kuramoto model: no correction (``u = 0``)."""

    def policy(key, observation):
        return jnp.zeros((env.num_agents, 1), jnp.float32)

    return policy
