"""Non-cooperative navigation (iPLAN's modified MPE spread) on :mod:`marljax.physics.particles`."""

from marljax.envs.traffic.navigation.env import AGENT_KINDS, VARIANTS, NonCoopNavigation, landmark_grid
from marljax.registry import register

__all__ = ["NonCoopNavigation", "AGENT_KINDS", "VARIANTS", "landmark_grid"]

register(
    "traffic/NonCoopNavigation-v0",
    NonCoopNavigation,
    "iPLAN's self-interested spread: 3 agents of 3 kinds race to landmarks; hard adds a random agent (50 steps)",
)
