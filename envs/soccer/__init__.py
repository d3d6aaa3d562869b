"""Soccer: N-vs-N 2-D physics soccer (``soccer/Soccer-v0``) with a scripted opponent or self-play."""

from marljax.envs.soccer.env import MAX_TEAM_SIZE, OPPONENTS, Soccer
from marljax.envs.soccer.types import Pitch, SoccerState
from marljax.registry import register

__all__ = ["Soccer", "SoccerState", "Pitch", "OPPONENTS", "MAX_TEAM_SIZE"]

register(
    "soccer/Soccer-v0",
    Soccer,
    "N-vs-N physics soccer (default 3v3, VMAS football's pitch): goals, kicks, scripted opponent or self-play",
)
