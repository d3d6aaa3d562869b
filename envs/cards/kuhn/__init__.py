"""Kuhn poker: the env (:mod:`.env`) and its exact game tree (:mod:`.tree`)."""

from marljax.envs.cards.kuhn.env import KuhnPoker
from marljax.envs.cards.kuhn.tree import (
    equilibrium_policy,
    expected_payoffs,
    exploitability,
    mixture_policy,
    nash_conv,
    uniform_policy,
)
from marljax.envs.cards.kuhn.types import KuhnState

__all__ = [
    "KuhnPoker",
    "KuhnState",
    "equilibrium_policy",
    "expected_payoffs",
    "exploitability",
    "mixture_policy",
    "nash_conv",
    "uniform_policy",
]
