"""The heterogeneous highway (iPLAN): learning vehicles among normal, aggressive and defensive NPC drivers."""

from marljax.envs.traffic.highway.env import HeterogeneousHighway
from marljax.envs.traffic.highway.generator import HighwayGenerator
from marljax.envs.traffic.highway.types import HighwayState

__all__ = ["HeterogeneousHighway", "HighwayGenerator", "HighwayState"]
