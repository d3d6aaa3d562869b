"""The two-way road's scene: who drives where, and the mirror between the two directions' frames.

Every vehicle is simulated in its *own frame*, in which it drives towards +x on a two-lane
:class:`~marljax.envs.traffic.common.Road` (lane 1 at ``y = 4`` its own lane, lane 0 at ``y = 0``
the oncoming lane, to its left), so that the shared highway code (meta-actions, lane and speed
controller, IDM, bicycle model), written for traffic towards +x, drives both directions unchanged.
The world frame is the eastbound vehicles' own frame; a westbound vehicle's own frame is the world
turned by pi about the road's centre line ``y = 2``:

    x_world = -x,   y_world = 4 - y,   psi_world = psi + pi,   lane_world = 1 - lane.

The map is its own inverse, so :func:`in_frame` takes any vehicle to either direction's frame, and
the kinematic bicycle (equivariant under rotations) moves it identically in both.

Scene (all NPCs are normal IDM drivers that keep their lane; learners start at 25 m/s):

- learner 0 drives east from ``x = 30`` in its own lane, with ``num_slow`` slow cars ahead of it
  in that lane at ``x = 70 + 40 i + U[-5, 5]`` m and speeds U[20, 24] m/s (also their IDM desired
  speeds), as in highway-env's ``two-way-v0``;
- with ``players=2``, learner 1 drives west from world ``x = 600`` with its own ``num_slow`` slow
  cars ahead of it, placed alike in its frame (each learner's platoon is the other's oncoming
  traffic);
- ``num_oncoming`` free westbound cars follow at world ``x = x_0 + 300 j + U[-50, 50]`` m
  (``x_0`` = 250, or 900 behind learner 1's platoon), speeds U[15, 25] m/s: windows of a few
  seconds between them, so an overtake is possible but risky.
"""

from __future__ import annotations

from dataclasses import dataclass

import chex
import jax
import jax.numpy as jnp
import numpy as np

from marljax.envs.traffic.common import NORMAL, Road, Vehicles, init_vehicles
from marljax.envs.traffic.common.kinematics import wrap_to_pi

__all__ = ["EAST", "WEST", "OWN_LANE", "OVERTAKING_LANE", "ROAD", "Scene", "in_frame"]

EAST, WEST = 1, -1
OWN_LANE, OVERTAKING_LANE = 1, 0
ROAD = Road(num_lanes=2)
LEARNER_START_SPEED = 25.0
LEARNER_0_START, LEARNER_1_START = 30.0, 600.0  # world x
SLOW_AHEAD, SLOW_SPACING, SLOW_JITTER, SLOW_SPEEDS = 40.0, 40.0, 5.0, (20.0, 24.0)
ONCOMING_START, ONCOMING_SPACING, ONCOMING_JITTER, ONCOMING_SPEEDS = (250.0, 900.0), 300.0, 50.0, (15.0, 25.0)


def in_frame(vehicles: Vehicles, direction: chex.Array, frame: int, road: Road = ROAD) -> Vehicles:
    """The vehicles (each in its own frame) seen from the frame of direction ``frame``.

    Args:
        vehicles: every vehicle in its own frame.
        direction: ``[M]`` each vehicle's direction (``EAST`` or ``WEST``).
        frame: ``EAST`` (the world frame) or ``WEST``.
        road: the two-way road.

    Returns:
        The vehicles with positions, headings and target lanes of those driving the other way
        mirrored (speeds, crash flags and driver parameters unchanged).
    """
    flip = jnp.asarray(direction) != frame
    width = road.lane_width * (road.num_lanes - 1)
    x, y = vehicles.position[:, 0], vehicles.position[:, 1]
    return vehicles.replace(
        position=jnp.stack([jnp.where(flip, -x, x), jnp.where(flip, width - y, y)], -1),
        heading=jnp.where(flip, wrap_to_pi(vehicles.heading + jnp.pi), vehicles.heading),
        target_lane=jnp.where(flip, road.num_lanes - 1 - vehicles.target_lane, vehicles.target_lane),
    )


@dataclass(frozen=True)
class Scene:
    """Who is on the road, in index order: the ``players`` learners, each learner's ``num_slow``
    slow cars (learner 0's first), then ``num_oncoming`` free westbound cars (module docstring)."""

    players: int
    num_slow: int
    num_oncoming: int

    @property
    def num_vehicles(self) -> int:
        return self.players * (1 + self.num_slow) + self.num_oncoming

    @property
    def direction(self) -> np.ndarray:
        """``[M]`` int32 each vehicle's direction: learners, each learner's slow cars, oncoming cars."""
        learners = [EAST, WEST][: self.players]
        slow = [d for d in learners for _ in range(self.num_slow)]
        return np.array(learners + slow + [WEST] * self.num_oncoming, np.int32)

    def sample(self, key: chex.PRNGKey) -> Vehicles:
        """A random initial scene, every vehicle in its own frame, in its own lane, heading along it.

        Args:
            key: PRNG key.

        Returns:
            :class:`~marljax.envs.traffic.common.Vehicles` with zero MOBIL timers (NPCs keep their lane).
        """
        slow_x_key, slow_v_key, on_x_key, on_v_key, init_key = jax.random.split(key, 5)
        p, k, o = self.players, self.num_slow, self.num_oncoming
        learner_x = jnp.array([LEARNER_0_START, -LEARNER_1_START])[:p]  # own frames: x_own = -x_world going west
        jitter = jax.random.uniform(slow_x_key, (p, k), minval=-1, maxval=1) * SLOW_JITTER
        slow_x = learner_x[:, None] + SLOW_AHEAD + SLOW_SPACING * jnp.arange(k) + jitter
        on_x = ONCOMING_START[p - 1] + ONCOMING_SPACING * jnp.arange(o)
        on_x = on_x + jax.random.uniform(on_x_key, (o,), minval=-1, maxval=1) * ONCOMING_JITTER
        own_x = jnp.concatenate([learner_x, slow_x.reshape(-1), -on_x])
        speed = jnp.concatenate(
            [
                jnp.full((p,), LEARNER_START_SPEED),
                jax.random.uniform(slow_v_key, (p * k,), minval=SLOW_SPEEDS[0], maxval=SLOW_SPEEDS[1]),
                jax.random.uniform(on_v_key, (o,), minval=ONCOMING_SPEEDS[0], maxval=ONCOMING_SPEEDS[1]),
            ]
        )
        m = self.num_vehicles
        position = jnp.stack([own_x, jnp.full((m,), ROAD.lane_centre(OWN_LANE))], -1)
        vehicles = init_vehicles(init_key, ROAD, position, speed, jnp.full((m,), NORMAL, jnp.int32))
        return vehicles.replace(timer=jnp.zeros((m,), jnp.float32))
