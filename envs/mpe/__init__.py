"""Particle worlds (MPE): cooperative navigation and predator-prey on :mod:`marljax.physics.particles`."""

from marljax.envs.mpe.base import ParticleEnv, ParticleState
from marljax.envs.mpe.simple_spread import SimpleSpread
from marljax.envs.mpe.simple_tag import SimpleTag
from marljax.registry import register

__all__ = ["ParticleEnv", "ParticleState", "SimpleSpread", "SimpleTag"]

register("mpe/SimpleSpread-v0", SimpleSpread, "cooperative navigation: N agents cover N landmarks (MPE, 25 steps)")
register(
    "mpe/SimpleTag-v0",
    SimpleTag,
    "predator-prey among obstacles: 3 predators (speed 1.0) chase 1 prey (1.3); prey learns or is scripted",
)
