"""PSRO meta-solvers: from a (masked) meta-game to a meta-strategy per player.

A meta-solver is a pure function ``(meta_payoffs [n, K, ..., K], masks [n, K] bool) -> [n, K]``:
the meta-game over the preallocated population (``K`` slots per player, ``masks[i, k]`` true
where player ``i``'s slot ``k`` holds a policy) to one simplex vector per player, zero on empty
slots. All of them jit and vmap.

Every solver of the registry (:mod:`marljax.solvers.registry`) is a meta-solver, under the
same name and options (with the entry's cheaper ``meta_defaults``), plus ``uniform``
(fictitious self-play: every filled slot equally; Lanctot et al., 2017). ``nash`` is decided
once for the underlying game by :func:`marljax.solvers.registry.nash_solver_for` (the exact LP
for two-player zero-sum games, Lemke-Howson otherwise); the aliases ``prd``,
``nash_zero_sum`` and ``nash_general_sum`` name projected replicator dynamics, the LP and
Lemke-Howson.

Solvers that take ``masks`` (alpha-Rank, RAE) see them; the zero-sum LP sees the row player's
matrix with empty rows at ``min - 1`` and empty columns at ``max + 1``; every other solver sees a
game in which every empty slot is strictly dominated (its owner gets ``min u_i - 1`` against
everything) and, if iterative, starts uniform on the filled slots. The weight they return on
empty slots is then zeroed and the rest renormalised.
"""

from __future__ import annotations

import dataclasses

import chex
import jax.numpy as jnp

from marljax.solvers.base import dominate_empty_slots, validate_game
from marljax.solvers.game.simplex import normalise, uniform_on
from marljax.solvers.registry import ALIASES, get_solver, nash_solver_for, solver_names

__all__ = ["MetaSolver", "META_SOLVERS", "meta_solver_names", "make_meta_solver", "RAE_DEFAULT_GAMMA"]

UNIFORM = "uniform"

#: Kept for PSRO code that imports it; the default lives in the registry entry of ``rae``.
RAE_DEFAULT_GAMMA = get_solver("rae").defaults["gamma"]


def meta_solver_names() -> list[str]:
    """``uniform``, every registered solver, and the aliases."""
    return [UNIFORM, *solver_names(), *ALIASES]


#: name -> one-line description of every meta-solver (read-only view of the registry).
META_SOLVERS = {
    UNIFORM: "every filled slot equally (fictitious self-play)",
    **{name: get_solver(name).description for name in meta_solver_names()[1:]},
}


@dataclasses.dataclass(frozen=True)
class MetaSolver:
    """The meta-solver ``name`` (a registered solver or ``uniform``) with its options: a
    hashable value (equal names and options are equal), so PSRO can key its compilations on it.
    Call it as ``meta_solver(meta_payoffs [n, K..K], masks [n, K]) -> [n, K]``."""

    name: str
    options: tuple = ()  # sorted (option, value) pairs

    def __call__(self, meta_payoffs: chex.Array, masks: chex.Array) -> chex.Array:
        meta_payoffs = validate_game(meta_payoffs)
        masks = jnp.asarray(masks, bool)
        if self.name == UNIFORM:
            return uniform_on(masks, meta_payoffs.dtype)
        spec = get_solver(self.name)
        options = dict(self.options)
        if spec.zero_sum:
            profile = spec(_zero_sum_matrix(meta_payoffs, masks), **options).profile
        elif "masks" in spec.inputs:
            profile = spec(meta_payoffs, masks=tuple(masks), **options).profile
        else:
            if "profile" in spec.inputs:
                options["profile"] = tuple(uniform_on(masks, meta_payoffs.dtype))
            profile = spec(dominate_empty_slots(meta_payoffs, masks), **options).profile
        return normalise(jnp.stack(profile).astype(meta_payoffs.dtype), masks)


def _zero_sum_matrix(meta_payoffs, masks):
    """Row player's matrix with empty rows at ``min - 1`` and empty columns at ``max + 1``:
    still zero-sum, and both players' empty slots are strictly dominated."""
    a = meta_payoffs[0]
    a = jnp.where(masks[1][None, :], a, jnp.max(a) + 1.0)
    return jnp.where(masks[0][:, None], a, jnp.min(meta_payoffs[0]) - 1.0)


def make_meta_solver(name: str, payoffs=None, **options) -> MetaSolver:
    """The meta-solver called ``name`` (see :data:`META_SOLVERS`), with its options.

    Args:
      name: ``uniform``, a registered solver name or an alias.
      payoffs: the underlying game (concrete), which lets ``nash`` choose the zero-sum LP or
        Lemke-Howson for it (without it, ``nash`` is Lemke-Howson, right for every two-player
        game).
      **options: the solver's options (its registry ``defaults``; unknown ones are an error).
    Raises:
      ValueError: an unknown name (listing the known ones) or an option the solver does not take.
    """
    if name == UNIFORM:
        if options:
            raise ValueError(f"meta-solver 'uniform' takes no options; got {', '.join(sorted(options))}")
        return MetaSolver(UNIFORM)
    if name not in META_SOLVERS:
        raise ValueError(f"unknown meta-solver {name!r}; known meta-solvers: {', '.join(meta_solver_names())}")
    if name == "nash":
        game = validate_game(payoffs) if payoffs is not None else None
        spec = nash_solver_for(game) if game is not None else get_solver("lemke_howson")
    else:
        spec = get_solver(name)
    if payoffs is not None:
        validate_game(payoffs, num_players=spec.num_players, zero_sum=spec.zero_sum)
    chosen = spec.options({**spec.meta_defaults, **options}, called=f"meta-solver {name!r}")
    return MetaSolver(spec.name, tuple(sorted(chosen.items())))
