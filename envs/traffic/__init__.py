"""Traffic: heterogeneous highway, non-cooperative navigation and two-way overtaking.

:mod:`.common` holds what the traffic envs share (road, bicycle kinematics, meta-action
controller, IDM/MOBIL drivers); :mod:`.viewer` draws scenes top-down.
"""

from marljax.envs.traffic import navigation, two_way
from marljax.envs.traffic.highway import HeterogeneousHighway
from marljax.registry import register

__all__ = ["HeterogeneousHighway", "navigation", "two_way"]

register(
    "traffic/HeterogeneousHighway-v0",
    HeterogeneousHighway,
    "5 learning vehicles among 50 IDM/MOBIL drivers (normal/aggressive/defensive) on an 8-lane highway; "
    'traffic="mild" | "chaotic" (iPLAN, 90 steps)',
)
