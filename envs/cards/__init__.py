"""Card games: Kuhn poker (``cards/KuhnPoker-v0``)."""

from marljax.envs.cards.kuhn import KuhnPoker, KuhnState
from marljax.registry import register

__all__ = ["KuhnPoker", "KuhnState"]

register(
    "cards/KuhnPoker-v0",
    KuhnPoker,
    "two-player Kuhn poker (3 cards, imperfect information, one decision per turn); exact exploitability",
)
