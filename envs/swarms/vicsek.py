"""Vicsek-v0: self-propelled particles that choose their own turns; reward is the swarm's polarisation.

Source: Vicsek, Czirok, Ben-Jacob, Cohen and Shochet 1995, "Novel Type of Phase Transition in a
System of Self-Driven Particles" (PRL 75, 1226); as an RL task, Cui, Fabian, Tahir and Koeppl
2024, "Learning Decentralized Partially Observable Mean Field Control for Artificial Collective
Behavior" (Dec-POMFC, ICLR).

- **Dynamics**: ``num_agents`` particles in the periodic box ``[0, L)^2`` move at constant
  speed ``v0`` along their headings ``theta_i``. Each step, agent ``i`` turns by ``a_i max_turn``
  plus noise ``U[-eta/2, eta/2]``, then moves: ``x_i <- x_i + v0 dt (cos theta_i, sin theta_i)``
  (wrapped). The textbook Vicsek update is the turn to the local mean heading
  ``psi_i = arg sum_{|x_j - x_i| < r} e^{i theta_j}`` (``j = i`` included): that is
  :func:`classic_policy`, and with it the env *is* the Vicsek model.
- **Defaults** (Vicsek 1995): ``radius`` r = 1, ``dt`` = 1, ``speed`` v0 = 0.03, density
  ``N / L^2 = 300 / 7^2`` (``box_size=None`` keeps that density for any N: N = 300 gives
  L = 7), ``noise`` eta = 2, ``max_turn`` = pi, N = 100, episodes of 200 steps.
- **Observation** ``agents_view [N, 5 + num_bins]``: own heading ``(cos, sin)``, the local mean
  field relative to the own heading ``r_i (cos, sin)(psi_i - theta_i)``, the neighbour count
  divided by a uniform swarm's mean count ``N pi r^2 / L^2``, and the histogram (fractions, zeros
  when alone) of the neighbours' headings relative to one's own in ``num_bins`` sectors of
  ``[-pi, pi)``. Size independent of N. ``global_state [N, 5 + num_bins + 3]``: own view +
  the swarm's ``(polarisation, mean cos, mean sin)``.
- **Action** ``[N, 1]`` in ``[-1, 1]``: the turn as a fraction of ``max_turn`` (clipped).
- **Reward**: the polarisation ``phi = |mean_j e^{i theta_j}|`` after the step, shared by all.
- **Termination**: none; truncation after ``max_steps``.
- **Metrics / extras**: ``order_parameter`` (phi; episode mean), ``neighbour_overflow`` (1 when
  the neighbour list overflowed this step -- the step is then *not* valid; episode sum; outside
  jit a step raises instead).
- **Scale**: all-pairs neighbours up to 400 agents (the measured crossover), a cell list beyond (``neighbour_method``);
  memory O(N). :meth:`Vicsek.agent_states` gives ``[N, 4]`` ``(x/L, y/L, cos, sin)``.
"""

from __future__ import annotations

import math

import chex
import jax
import jax.numpy as jnp

from marljax.checks import integer, number
from marljax.envs.swarms.common.base import SwarmEnv, neighbourhood
from marljax.physics.neighbours import gather_neighbours, neighbour_mask
from marljax.physics.order import local_histogram, local_mean_phase, mean_phase, polarisation, wrap_angle
from marljax.physics.space import periodic

__all__ = ["Vicsek", "VicsekState", "classic_policy", "VICSEK_DENSITY"]

#: Vicsek et al. 1995's N = 300 agents in a 7 x 7 box.
VICSEK_DENSITY = 300 / 7.0**2


@chex.dataclass
class VicsekState:
    key: chex.PRNGKey
    step_count: chex.Array  # [] int32
    pos: chex.Array  # [N, 2] in [0, L)
    heading: chex.Array  # [N] in [-pi, pi)


class Vicsek(SwarmEnv):
    """Vicsek flocking with learned turns (see the module docstring for observation, action,
    reward and termination)."""

    metrics = {"order_parameter": "mean", "neighbour_overflow": "sum"}
    agent_state_names = ("x", "y", "cos_heading", "sin_heading")
    global_feature_names = ("polarisation", "mean_cos", "mean_sin")

    def __init__(
        self,
        num_agents: int = 100,
        box_size: float | None = None,
        radius: float = 1.0,
        speed: float = 0.03,
        noise: float = 2.0,
        max_turn: float = math.pi,
        dt: float = 1.0,
        num_bins: int = 8,
        max_steps: int = 200,
        neighbour_method: str | None = None,
        cell_capacity: int | None = None,
    ):
        num_agents = integer(1)("num_agents", num_agents)
        if box_size is None:
            box_size = math.sqrt(num_agents / VICSEK_DENSITY)
        self.box_size = number(0.0, open_low=True)("box_size", box_size)
        self.radius = number(0.0, open_low=True)("radius", radius)
        self.speed = number(0.0)("speed", speed)
        self.noise = number(0.0, 2 * math.pi)("noise", noise)
        self.max_turn = number(0.0, math.pi)("max_turn", max_turn)
        self.dt = number(0.0, open_low=True)("dt", dt)
        self.num_bins = integer(1)("num_bins", num_bins)
        self._displacement, self._shift = periodic(self.box_size)
        self._neighbour_fns, self._neighbours = neighbourhood(
            num_agents, self.box_size, self.radius, neighbour_method, cell_capacity
        )
        self.neighbour_method = self._neighbours.method
        self._mean_count = max(num_agents * math.pi * self.radius**2 / self.box_size**2, 1e-6)
        super().__init__(num_agents, max_steps, 5 + self.num_bins, 1)

    def _reset(self, key: chex.PRNGKey):
        key, pos_key, heading_key = jax.random.split(key, 3)
        pos = jax.random.uniform(pos_key, (self.num_agents, 2), jnp.float32, 0.0, self.box_size)
        heading = jax.random.uniform(heading_key, (self.num_agents,), jnp.float32, -jnp.pi, jnp.pi)
        state = VicsekState(key=key, step_count=jnp.int32(0), pos=pos, heading=heading)
        return state, self._observe(state, first=True)

    def _step(self, state: VicsekState, action: chex.Array):
        key, noise_key = jax.random.split(state.key)
        turn = jnp.clip(action[:, 0], -1.0, 1.0) * self.max_turn
        noise = jax.random.uniform(noise_key, turn.shape, jnp.float32, -self.noise / 2, self.noise / 2)
        heading = wrap_angle(state.heading + turn + noise)
        velocity = self.speed * self.dt * jnp.stack([jnp.cos(heading), jnp.sin(heading)], -1)
        state = VicsekState(
            key=key, step_count=state.step_count + 1, pos=self._shift(state.pos, velocity), heading=heading
        )
        return state, self._observe(state, first=False)

    def _observe(self, state: VicsekState, first: bool):
        neighbours = self._neighbour_fns.update(state.pos, self._neighbours)
        theta = state.heading
        r_loc, psi_loc, count = local_mean_phase(theta, neighbours, include_self=True)
        relative = wrap_angle(psi_loc - theta)
        others = wrap_angle(gather_neighbours(theta, neighbours) - theta[:, None])
        histogram = local_histogram(others, neighbours, self.num_bins, -jnp.pi, jnp.pi)
        views = jnp.concatenate(
            [
                jnp.stack([jnp.cos(theta), jnp.sin(theta), r_loc * jnp.cos(relative), r_loc * jnp.sin(relative)], 1),
                ((count - 1) / self._mean_count)[:, None],
                histogram,
            ],
            axis=1,
        )
        phi = polarisation(theta)
        mean_cos, mean_sin = mean_phase(theta)
        metrics = {"order_parameter": phi, "neighbour_overflow": neighbours.overflow}
        return self._timestep(views, (phi, mean_cos, mean_sin), phi, metrics, state.step_count, first)

    def agent_states(self, state: VicsekState) -> chex.Array:
        """``[N, 4]``: ``(x / L, y / L, cos theta, sin theta)`` of every agent."""
        return jnp.concatenate(
            [state.pos / self.box_size, jnp.stack([jnp.cos(state.heading), jnp.sin(state.heading)], -1)], -1
        )

    def neighbour_count(self, state: VicsekState) -> chex.Array:
        """``[N]`` each agent's number of neighbours (for sizing capacities)."""
        return jnp.sum(neighbour_mask(self._neighbour_fns.update(state.pos, self._neighbours)), axis=1)

    def render(self, state: VicsekState):
        """Arrows along the headings, coloured by heading; the title gives the polarisation."""
        from marljax.envs.swarms.common.viewer import draw_headings

        phi = float(polarisation(state.heading))
        title = f"Vicsek  N={self.num_agents}  eta={self.noise:g}  step {int(state.step_count)}  phi={phi:.2f}"
        return draw_headings(state.pos, state.heading, self.box_size, title)

    def __repr__(self) -> str:
        return (
            f"Vicsek(num_agents={self.num_agents}, box_size={self.box_size:.3g}, radius={self.radius:g}, "
            f"noise={self.noise:g}, neighbour_method={self.neighbour_method!r})"
        )


def classic_policy(env: Vicsek):
    """The textbook Vicsek rule: turn to the local mean heading (``psi_i - theta_i``, read
    from the observation), as a ``policy(key, observation) -> action [N, 1]``."""

    def policy(key, observation):
        view = observation.agents_view
        turn = jnp.arctan2(view[:, 3], view[:, 2])
        return jnp.clip(turn / max(env.max_turn, 1e-9), -1.0, 1.0)[:, None]

    return policy
