"""State of the two-way overtaking task."""

from __future__ import annotations

import chex

from marljax.envs.traffic.common import Vehicles

__all__ = ["TwoWayState"]


@chex.dataclass
class TwoWayState:
    """One episode of :class:`~marljax.envs.traffic.two_way.env.TwoWay`.

    Attributes:
        key: PRNG key (the scene is drawn at reset; nothing random happens afterwards).
        step_count: ``[]`` int32 policy steps taken.
        vehicles: every vehicle (learners first) *in its own frame*: each drives towards +x on a
            two-lane road whose lane 1 is its own lane and lane 0 the oncoming (overtaking) lane;
            :func:`~marljax.envs.traffic.two_way.generator.in_frame` maps them to the world frame
            (the eastbound vehicles' frame) or to the westbound vehicles' frame.
    """

    key: chex.PRNGKey
    step_count: chex.Array
    vehicles: Vehicles
