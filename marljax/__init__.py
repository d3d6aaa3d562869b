"""marljax: multi-agent game theory and MARL in JAX.

Jitted, vectorised multi-agent environments on Jumanji's API (with a leading agent axis)
and pure-functional equilibrium solvers and learners.
"""

import marljax._quiet_jumanji  # noqa: F401 (first: see its docstring)
from marljax.env import MultiAgentEnv
from marljax.evaluation import EpisodeBatch, play_episodes
from marljax.registry import UnknownEnvError, describe, make, register, registered
from marljax.rollout import random_policy, rollout, sample_valid_actions
from marljax.types import Observation, TimeStep, Trajectory

__version__ = "0.1.0"

__all__ = [
    "EpisodeBatch",
    "play_episodes",
    "MultiAgentEnv",
    "Observation",
    "TimeStep",
    "Trajectory",
    "UnknownEnvError",
    "describe",
    "make",
    "random_policy",
    "register",
    "registered",
    "rollout",
    "sample_valid_actions",
]
