"""A straight multi-lane road along +x (highway-env's ``StraightRoadNetwork``).

Lane ``k`` (0 = leftmost, as highway-env numbers them) has its centre line at ``y = k * lane_width``;
traffic drives towards +x. The longitudinal lane coordinate of a point is its ``x`` on every lane,
so "ahead on lane k" is a comparison of ``x``.
"""

from __future__ import annotations

from dataclasses import dataclass

import chex
import jax.numpy as jnp

__all__ = ["Road", "ON_LANE_MARGIN"]

#: highway-env's ``Road.neighbour_vehicles`` counts a vehicle as on a lane when its centre is
#: within half a lane width plus this margin (m) of the lane's centre line.
ON_LANE_MARGIN = 1.0


@dataclass(frozen=True)
class Road:
    """Geometry and speed limit of a straight road.

    Attributes:
        num_lanes: number of lanes (>= 1).
        lane_width: lane width in m (highway-env: 4).
        speed_limit: the lanes' speed limit in m/s; IDM clips target speeds to it.
    """

    num_lanes: int
    lane_width: float = 4.0
    speed_limit: float = 30.0

    def __post_init__(self):
        if int(self.num_lanes) < 1:
            raise ValueError(f"a road needs at least one lane; got num_lanes={self.num_lanes}")
        if self.lane_width <= 0:
            raise ValueError(f"lane_width must be positive; got {self.lane_width}")
        if self.speed_limit <= 0:
            raise ValueError(f"speed_limit must be positive; got {self.speed_limit}")

    def lane_centre(self, lane: chex.Array) -> chex.Array:
        """``y`` of the centre line of lane(s) ``lane``."""
        return jnp.asarray(lane, jnp.float32) * self.lane_width

    def closest_lane(self, y: chex.Array) -> chex.Array:
        """Index of the lane whose centre line is nearest to ``y`` (highway-env's
        ``get_closest_lane_index`` on parallel straight lanes), int32."""
        return jnp.clip(jnp.round(y / self.lane_width), 0, self.num_lanes - 1).astype(jnp.int32)

    def on_lane(self, y: chex.Array, lane: chex.Array, margin: float = 0.0) -> chex.Array:
        """Whether ``|y - centre(lane)| <= lane_width / 2 + margin`` (broadcasting)."""
        return jnp.abs(y - self.lane_centre(lane)) <= self.lane_width / 2 + margin

    def on_road(self, y: chex.Array) -> chex.Array:
        """Whether ``y`` lies on some lane (between the outer edges of the road)."""
        return (y >= -self.lane_width / 2) & (y <= (self.num_lanes - 0.5) * self.lane_width)
