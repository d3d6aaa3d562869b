"""Input validation at the API boundary.

Checks run only on concrete values: under ``jit``/``vmap`` the inputs are tracers and the
checks are skipped, so the hot path pays nothing. Call the public functions once outside jit
(or validate explicitly with these helpers) to get a clear ``ValueError`` for bad input.
"""

from __future__ import annotations

from typing import Sequence

import jax
import numpy as np

__all__ = ["is_concrete", "check_payoffs", "check_profile", "check_positive"]

SIMPLEX_ATOL = 1e-4


def is_concrete(*xs) -> bool:
    """True when no leaf of ``xs`` is a JAX tracer (we are outside jit/vmap/grad)."""
    return not any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(xs))


def check_payoffs(payoffs, num_players: int | None = None, name: str = "payoffs") -> None:
    """A payoff tensor is ``[n, A_1, ..., A_n]`` with finite float entries."""
    if not is_concrete(payoffs):
        return
    u = np.asarray(payoffs)
    if u.ndim < 2:
        raise ValueError(f"{name} must have shape [n, A_1, ..., A_n]; got shape {u.shape}")
    n = u.shape[0]
    if u.ndim != n + 1:
        raise ValueError(
            f"{name} of shape {u.shape} is not a game: a payoff tensor for n={n} players must "
            f"have n+1={n + 1} dimensions [n, A_1, ..., A_n], it has {u.ndim}"
        )
    if num_players is not None and n != num_players:
        raise ValueError(f"{name} must describe a {num_players}-player game; got {n} players")
    if any(a < 1 for a in u.shape[1:]):
        raise ValueError(f"{name} of shape {u.shape}: every player needs at least one action")
    if not np.issubdtype(u.dtype, np.number) or np.issubdtype(u.dtype, np.complexfloating):
        raise ValueError(f"{name} must be real numbers; got dtype {u.dtype}")
    if not np.all(np.isfinite(u)):
        bad = np.argwhere(~np.isfinite(u))[0]
        raise ValueError(f"{name} has a NaN or infinite entry (first at index {tuple(bad)})")


def check_profile(profile: Sequence, action_counts: Sequence[int], name: str = "profile") -> None:
    """A mixed profile is one probability vector per player, sized to that player's actions."""
    if not isinstance(profile, (tuple, list)):
        raise ValueError(f"{name} must be a tuple of simplex vectors (one per player); got {type(profile).__name__}")
    if len(profile) != len(action_counts):
        raise ValueError(f"{name} has {len(profile)} strategies for a {len(action_counts)}-player game")
    if not is_concrete(profile):
        return
    for i, (p, a) in enumerate(zip(profile, action_counts)):
        p = np.asarray(p)
        if p.shape != (a,):
            raise ValueError(f"{name}[{i}] must have shape ({a},) for player {i}; got {p.shape}")
        if not np.all(np.isfinite(p)):
            raise ValueError(f"{name}[{i}] has NaN or infinite entries")
        if np.any(p < -SIMPLEX_ATOL) or abs(p.sum() - 1.0) > SIMPLEX_ATOL:
            raise ValueError(
                f"{name}[{i}] is not on the simplex (entries must be >= 0 and sum to 1; "
                f"min {p.min():.3g}, sum {p.sum():.6g})"
            )


def check_positive(**values) -> None:
    """Every named value must be > 0 (config sizes, step counts, learning rates...)."""
    for name, value in values.items():
        if not value > 0:
            raise ValueError(f"{name} must be positive; got {value!r}")
