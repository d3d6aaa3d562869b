"""Coordination games: the repeated coordination game of the BN actor-critic paper and Aloha."""

from marljax.envs.coordination.aloha import Aloha, grid_interference
from marljax.envs.coordination.coordination_game import CoordinationGame, reward_table, transition_matrix
from marljax.registry import register

__all__ = ["CoordinationGame", "Aloha", "reward_table", "transition_matrix", "grid_interference"]

register(
    "coordination/CoordinationGame-v0",
    CoordinationGame,
    "n binary agents (2, 3, 5, 10): all-0 pays 3, the all-1 equilibrium 2, noisy bits (25 steps)",
)
register(
    "coordination/Aloha-v0",
    Aloha,
    "10 islands on a 2x5 interference grid share a channel: +0.1 per delivery, -10 per collision (20 steps)",
)
