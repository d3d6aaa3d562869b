"""What the swarm envs share: the base class, neighbourhood set-up and the viewer."""

from marljax.envs.swarms.common.base import SwarmEnv, neighbourhood

__all__ = ["SwarmEnv", "neighbourhood"]
