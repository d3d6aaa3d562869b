"""Flocking-v0: VMAS's ``flocking`` scenario in JAX."""

from marljax.envs.swarms.flocking.env import Flocking, classic_policy
from marljax.envs.swarms.flocking.types import FlockingState

__all__ = ["Flocking", "FlockingState", "classic_policy"]
