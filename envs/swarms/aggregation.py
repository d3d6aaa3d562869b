"""Aggregation-v0: single integrators on a torus that must gather; reward is minus the spread.

Source: the aggregation task of Cui et al. 2024, "Learning Decentralized Partially Observable
Mean Field Control for Artificial Collective Behavior" (Dec-POMFC, ICLR); the classic rule is
cohesion, moving to the local centre of mass (Reynolds 1987, "Flocks, Herds and Schools";
Gazi and Passino 2003, "Stability Analysis of Swarms").

- **Dynamics**: ``num_agents`` points in the periodic box ``[0, L)^2`` with velocity actions:
  ``x_i <- x_i + max_speed * a_i`` (wrapped), ``a_i`` clipped to the unit disc.
- **Defaults**: N = 100, ``box_size`` L = 10, sensing ``radius`` 2, ``max_speed`` 0.1 per step,
  8 bins, episodes of 200 steps, positions uniform at reset.
- **Observation** ``agents_view [N, 7 + num_bins]``: own position on the torus
  ``(cos, sin)(2 pi x / L), (cos, sin)(2 pi y / L)``, the mean displacement to the neighbours
  within ``radius`` divided by ``radius`` (0 when alone), the neighbour count divided by a
  uniform swarm's mean count, and the local density histogram: the fractions of neighbours
  in ``num_bins`` direction sectors of ``[-pi, pi)``. Size independent of N.
  ``global_state [N, 7 + num_bins + 3]``: own view + ``(order parameter, centre / L)``.
- **Action** ``[N, 2]`` in ``[-1, 1]``: velocity as a fraction of ``max_speed`` (norm clipped to 1).
- **Reward**: ``-mean_i d(x_i, c)`` after the step, shared, where ``c`` is the swarm's centre on
  the torus (:func:`~marljax.physics.space.circular_mean`) and ``d`` the minimum-image distance.
- **Termination**: none; truncation after ``max_steps``.
- **Metrics / extras**: ``order_parameter`` = ``1 - mean distance / (0.3826 L)`` (0 for a uniform
  swarm, whose mean distance to a point is ``0.3826 L``; 1 when all agents coincide),
  ``mean_distance``, ``neighbour_overflow`` (as in Vicsek-v0).
- :meth:`Aggregation.agent_states` gives ``[N, 4]``, the torus coordinates of each agent.
"""

from __future__ import annotations

import math

import chex
import jax
import jax.numpy as jnp

from marljax.checks import integer, number
from marljax.envs.swarms.common.base import SwarmEnv, neighbourhood
from marljax.physics.neighbours import neighbour_displacements, neighbour_mask
from marljax.physics.order import local_histogram
from marljax.physics.space import circular_mean, distance, periodic

__all__ = ["Aggregation", "AggregationState", "classic_policy", "UNIFORM_MEAN_DISTANCE"]

#: E|u| for u uniform on [-1/2, 1/2]^2: a uniform swarm's mean distance to any point, over L.
UNIFORM_MEAN_DISTANCE = (math.sqrt(2) + math.log(1 + math.sqrt(2))) / 6


@chex.dataclass
class AggregationState:
    key: chex.PRNGKey
    step_count: chex.Array  # [] int32
    pos: chex.Array  # [N, 2] in [0, L)


class Aggregation(SwarmEnv):
    """Gathering on a torus with local sensing (see the module docstring)."""

    metrics = {"order_parameter": "mean", "mean_distance": "mean", "neighbour_overflow": "sum"}
    agent_state_names = ("cos_x", "sin_x", "cos_y", "sin_y")
    global_feature_names = ("order", "centre_x", "centre_y")

    def __init__(
        self,
        num_agents: int = 100,
        box_size: float = 10.0,
        radius: float = 2.0,
        max_speed: float = 0.1,
        num_bins: int = 8,
        max_steps: int = 200,
        neighbour_method: str | None = None,
        cell_capacity: int | None = None,
    ):
        num_agents = integer(1)("num_agents", num_agents)
        self.box_size = number(0.0, open_low=True)("box_size", box_size)
        self.radius = number(0.0, open_low=True)("radius", radius)
        self.max_speed = number(0.0, open_low=True)("max_speed", max_speed)
        self.num_bins = integer(1)("num_bins", num_bins)
        self._displacement, self._shift = periodic(self.box_size)
        # All-pairs cannot overflow; a cell list cannot hold a fully gathered large swarm at any
        # fixed capacity: size cell_capacity for the density you expect (overflow is reported).
        self._neighbour_fns, self._neighbours = neighbourhood(
            num_agents, self.box_size, self.radius, neighbour_method, cell_capacity
        )
        self.neighbour_method = self._neighbours.method
        self._mean_count = max(num_agents * math.pi * self.radius**2 / self.box_size**2, 1e-6)
        super().__init__(num_agents, max_steps, 7 + self.num_bins, 2)

    def _reset(self, key: chex.PRNGKey):
        key, pos_key = jax.random.split(key)
        pos = jax.random.uniform(pos_key, (self.num_agents, 2), jnp.float32, 0.0, self.box_size)
        state = AggregationState(key=key, step_count=jnp.int32(0), pos=pos)
        return state, self._observe(state, first=True)

    def _step(self, state: AggregationState, action: chex.Array):
        action = jnp.clip(action, -1.0, 1.0)
        norm = jnp.sqrt(jnp.sum(action * action, -1, keepdims=True))
        velocity = self.max_speed * action / jnp.maximum(norm, 1.0)
        state = AggregationState(key=state.key, step_count=state.step_count + 1, pos=self._shift(state.pos, velocity))
        return state, self._observe(state, first=False)

    def mean_distance(self, pos: chex.Array) -> chex.Array:
        """Mean minimum-image distance of the agents to their centre on the torus."""
        centre = circular_mean(pos, self.box_size)
        return jnp.mean(distance(self._displacement(pos, centre[None, :]))), centre

    def _observe(self, state: AggregationState, first: bool):
        neighbours = self._neighbour_fns.update(state.pos, self._neighbours)
        delta = neighbour_displacements(self._displacement, state.pos, neighbours)
        mask = neighbour_mask(neighbours)
        count = jnp.sum(mask, axis=1)
        mean_delta = jnp.sum(delta, axis=1) / jnp.maximum(count, 1)[:, None] / self.radius
        direction = jnp.arctan2(delta[..., 1], delta[..., 0])
        histogram = local_histogram(direction, neighbours, self.num_bins, -jnp.pi, jnp.pi)
        angle = 2.0 * jnp.pi * state.pos / self.box_size
        views = jnp.concatenate(
            [
                jnp.stack([jnp.cos(angle[:, 0]), jnp.sin(angle[:, 0]), jnp.cos(angle[:, 1]), jnp.sin(angle[:, 1])], 1),
                mean_delta,
                (count / self._mean_count)[:, None],
                histogram,
            ],
            axis=1,
        )
        spread, centre = self.mean_distance(state.pos)
        order = 1.0 - spread / (UNIFORM_MEAN_DISTANCE * self.box_size)
        metrics = {"order_parameter": order, "mean_distance": spread, "neighbour_overflow": neighbours.overflow}
        features = (order, centre[0] / self.box_size, centre[1] / self.box_size)
        return self._timestep(views, features, -spread, metrics, state.step_count, first)

    def agent_states(self, state: AggregationState) -> chex.Array:
        """``[N, 4]``: ``(cos, sin)(2 pi x / L), (cos, sin)(2 pi y / L)`` (the torus, without a seam)."""
        angle = 2.0 * jnp.pi * state.pos / self.box_size
        return jnp.stack([jnp.cos(angle[:, 0]), jnp.sin(angle[:, 0]), jnp.cos(angle[:, 1]), jnp.sin(angle[:, 1])], 1)

    def render(self, state: AggregationState):
        """Agents as dots, the swarm's centre on the torus as a cross."""
        from marljax.envs.swarms.common.viewer import draw_points

        spread, centre = self.mean_distance(state.pos)
        title = f"Aggregation  N={self.num_agents}  step {int(state.step_count)}  mean distance {float(spread):.2f}"
        return draw_points(state.pos, self.box_size, title, centre=tuple(float(c) for c in centre))


def classic_policy(env: Aggregation):
    """Cohesion: move to the local centre of mass at up to full speed; an agent that senses
    nobody takes a random step (a random walk until it meets others)."""

    def policy(key, observation):
        view = observation.agents_view
        towards = view[:, 4:6] * env.radius / env.max_speed  # displacement in units of a full step
        alone = view[:, 6] <= 0
        wander = jax.random.uniform(key, towards.shape, jnp.float32, -1.0, 1.0)
        return jnp.clip(jnp.where(alone[:, None], wander, towards), -1.0, 1.0)

    return policy
