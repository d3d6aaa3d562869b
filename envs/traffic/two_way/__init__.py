"""Two-way overtaking (highway-env's ``two-way-v0`` risk task), single-agent or two players for PSRO."""

from marljax.envs.traffic.two_way.env import TwoWay
from marljax.envs.traffic.two_way.generator import EAST, OVERTAKING_LANE, OWN_LANE, WEST, Scene, in_frame
from marljax.envs.traffic.two_way.types import TwoWayState
from marljax.registry import register

__all__ = ["TwoWay", "TwoWayState", "Scene", "in_frame", "EAST", "WEST", "OWN_LANE", "OVERTAKING_LANE"]

register(
    "traffic/TwoWay-v0",
    TwoWay,
    "overtake slow traffic through the oncoming lane (highway-env two-way); players=2: overtaker vs oncoming driver",
)
