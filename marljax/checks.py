"""Input validation at the API boundary.

Checks run only on concrete values: under ``jit``/``vmap`` the inputs are tracers and the
checks are skipped, so the hot path pays nothing. Call the public functions once outside jit
(or validate explicitly with these helpers) to get a clear ``ValueError`` for bad input.

Option checkers (:func:`integer`, :func:`number`, :func:`optional`, :func:`boolean`) are
values: ``check(name, value) -> value`` raises ``ValueError`` naming the option, or returns it
as a plain Python ``int``/``float``/``bool`` (so equal options hash equal and jit's cache of
static arguments hits). Solvers declare them once per entry point
(:func:`marljax.solvers.base.validated`); envs and configs can use them the same way.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Sequence

import jax
import numpy as np

__all__ = [
    "is_concrete",
    "check_payoffs",
    "check_profile",
    "check_positive",
    "Check",
    "integer",
    "number",
    "optional",
    "boolean",
]

#: ``check(name, value) -> value``: raises ``ValueError`` naming ``name``, or returns the value
#: as a plain Python scalar.
Check = Callable[[str, Any], Any]

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


def _described(value) -> str:
    return f"{value!r} (a {type(value).__name__})" if isinstance(value, (str, bytes)) else repr(value)


def integer(minimum: int = 1) -> Check:
    """An ``int`` (Python or numpy, not ``bool``, not a string) ``>= minimum``."""

    def check(name: str, value):
        if isinstance(value, jax.core.Tracer):
            return value
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} must be an integer >= {minimum}; got {_described(value)}")
        if value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
        return int(value)

    return check


def number(low: float | None = None, high: float | None = None, *, open_low=False, open_high=False, infinite=False):
    """A real number (not ``bool``, not a string, not NaN) in ``[low, high]`` (an open end with
    ``open_low``/``open_high``); finite unless ``infinite``."""
    bounds = ("(" if open_low else "[") + f"{'-inf' if low is None else low}, {'inf' if high is None else high}"
    bounds += ")" if open_high else "]"

    def check(name: str, value):
        if isinstance(value, jax.core.Tracer):
            return value
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise ValueError(f"{name} must be a number in {bounds}; got {_described(value)}")
        value = float(value)
        if math.isnan(value) or (math.isinf(value) and not infinite):
            raise ValueError(f"{name} must be a finite number in {bounds}; got {value!r}")
        below = low is not None and (value <= low if open_low else value < low)
        above = high is not None and (value >= high if open_high else value > high)
        if below or above:
            raise ValueError(f"{name} must be in {bounds}; got {value!r}")
        return value

    return check


def optional(check: Check) -> Check:
    """``None`` or what ``check`` accepts."""

    def optional_check(name: str, value):
        return None if value is None else check(name, value)

    return optional_check


def boolean() -> Check:
    """``True`` or ``False`` (a numpy bool too)."""

    def check(name: str, value):
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False; got {_described(value)}")
        return bool(value)

    return check
