"""Swarms: Vicsek, Kuramoto, aggregation and flocking, from 10 to 10,000 agents.

Each env module has a ``classic_policy(env)``, the textbook controller as a
``policy(key, observation) -> action`` for :func:`marljax.rollout`, reports its order parameter
in ``extras["order_parameter"]`` and its metrics, and gives every agent's state for a
mean-field embedding with ``env.agent_states(state) -> [N, d]``. Shared physics (periodic
box, neighbour lists, order parameters) lives in :mod:`marljax.physics`.
"""

from marljax.envs.swarms import aggregation, flocking, kuramoto, vicsek
from marljax.envs.swarms.aggregation import Aggregation
from marljax.envs.swarms.common import SwarmEnv
from marljax.envs.swarms.flocking import Flocking
from marljax.envs.swarms.kuramoto import Kuramoto
from marljax.envs.swarms.vicsek import Vicsek
from marljax.registry import register

__all__ = ["Aggregation", "Flocking", "Kuramoto", "SwarmEnv", "Vicsek", "CLASSIC_POLICIES", "classic_policy"]

#: ``{env class: classic_policy constructor}``.
CLASSIC_POLICIES = {
    Vicsek: vicsek.classic_policy,
    Kuramoto: kuramoto.classic_policy,
    Aggregation: aggregation.classic_policy,
    Flocking: flocking.classic_policy,
}


def classic_policy(env):
    """The classic controller of any swarm env (``env`` may be wrapped)."""
    inner = env
    while not isinstance(inner, tuple(CLASSIC_POLICIES)) and hasattr(inner, "_env"):
        inner = inner._env
    for cls, make in CLASSIC_POLICIES.items():
        if isinstance(inner, cls):
            return make(inner)
    raise ValueError(f"{env!r} is not a swarm env; classic policies exist for {[c.__name__ for c in CLASSIC_POLICIES]}")


register(
    "swarms/Vicsek-v0",
    Vicsek,
    "Vicsek self-propelled particles choose their turns; reward: polarisation (10 to 10,000 agents, torus)",
)
register(
    "swarms/Kuramoto-v0",
    Kuramoto,
    "Kuramoto oscillators choose frequency corrections; reward: synchrony R minus action cost (Lorentzian frequencies)",
)
register(
    "swarms/Aggregation-v0",
    Aggregation,
    "single integrators on a torus gather from local density sensing; reward: minus mean distance to the centre",
)
register(
    "swarms/Flocking-v0",
    Flocking,
    "VMAS flocking: 4 holonomic agents follow a moving target among 5 obstacles with a 12-ray lidar",
)
