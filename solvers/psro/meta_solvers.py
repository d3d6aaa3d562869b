"""PSRO meta-solvers: from a (masked) meta-game to a meta-strategy per player.

A meta-solver is a pure function ``(meta_payoffs [n, K, ..., K], masks [n, K] bool) -> [n, K]``:
the meta-game over the preallocated population (``K`` slots per player, ``masks[i, k]`` true
where player ``i``'s slot ``k`` holds a policy) to one simplex vector per player, zero on empty
slots. All of them jit and vmap.

Solvers written for plain games see a game in which every empty slot is strictly dominated
(its owner gets ``min u_i - 1`` against everything), so no equilibrium puts weight on it; the
weight they return on empty slots is then zeroed and the rest renormalised.

Known meta-solvers (Lanctot et al., 2017; Muller et al., 2020; Slumbers et al., 2023):

* ``uniform``   -- fictitious self-play: every policy equally.
* ``nash``      -- Nash equilibrium: the exact LP of :mod:`marljax.solvers.equilibria.zero_sum` for
  two-player zero-sum meta-games, Lemke-Howson (:mod:`marljax.solvers.equilibria.lemke_howson`) for
  two-player general-sum ones (``nash_zero_sum`` / ``nash_general_sum`` force one of them).
* ``rae``       -- risk-averse equilibrium (:mod:`marljax.solvers.equilibria.rae`), takes ``gamma``.
* ``prd``       -- projected replicator dynamics (:mod:`marljax.solvers.dynamics`), averaged;
  options ``step_size``, ``exploration``, ``num_steps``.
* ``alpharank`` -- marginals of the alpha-Rank stationary distribution
  (:mod:`marljax.solvers.equilibria.alpharank`); options ``alpha``, ``population_size``.
* ``ce``        -- marginals of the max-welfare correlated equilibrium
  (:mod:`marljax.solvers.equilibria.correlated`; an LP over ``K^n`` joint profiles: small populations).
"""

from __future__ import annotations

import importlib
from typing import Callable

import chex
import jax.numpy as jnp

from marljax.checks import check_payoffs, is_concrete
from marljax.solvers.base import dominate_empty_slots
from marljax.solvers.game.properties import is_zero_sum

__all__ = ["MetaSolver", "META_SOLVERS", "make_meta_solver", "dominate_empty_slots", "is_zero_sum"]

MetaSolver = Callable[[chex.Array, chex.Array], chex.Array]
RAE_DEFAULT_GAMMA = 0.5


def _renormalised(weights: chex.Array, masks: chex.Array) -> chex.Array:
    """Zero the empty slots and renormalise each row (uniform over the mask if nothing is left)."""
    w = jnp.where(masks, jnp.maximum(weights, 0.0), 0.0)
    total = jnp.sum(w, axis=-1, keepdims=True)
    uniform = masks / jnp.sum(masks, axis=-1, keepdims=True)
    return jnp.where(total > 0, w / jnp.where(total > 0, total, 1.0), uniform).astype(weights.dtype)


def _zero_sum_matrix(meta_payoffs, masks):
    """Row player's matrix with empty rows at ``min - 1`` and empty columns at ``max + 1``:
    still zero-sum, and both players' empty slots are strictly dominated."""
    a = meta_payoffs[0]
    a = jnp.where(masks[1][None, :], a, jnp.max(a) + 1.0)
    return jnp.where(masks[0][:, None], a, jnp.min(meta_payoffs[0]) - 1.0)


def uniform(meta_payoffs, masks):
    return _renormalised(jnp.ones(masks.shape, meta_payoffs.dtype), masks)


def nash_zero_sum(meta_payoffs, masks):
    from marljax.solvers.equilibria.zero_sum import zero_sum

    profile = zero_sum(_zero_sum_matrix(meta_payoffs, masks)).profile
    return _renormalised(jnp.stack(profile).astype(meta_payoffs.dtype), masks)


def nash_general_sum(meta_payoffs, masks):
    from marljax.solvers.equilibria.lemke_howson import lemke_howson

    profile = lemke_howson(dominate_empty_slots(meta_payoffs, masks)).profile
    return _renormalised(jnp.stack(profile).astype(meta_payoffs.dtype), masks)


def _rae(gamma: float = RAE_DEFAULT_GAMMA, num_iters: int = 300, **options) -> MetaSolver:
    from marljax.solvers.equilibria.rae import rae_solver

    solver = rae_solver(gamma, num_iters=num_iters, **options)

    def rae(meta_payoffs, masks):
        return jnp.stack(solver.solve(meta_payoffs, masks=tuple(masks)).profile)

    return rae


def _prd(dynamics, step_size: float = 0.1, exploration: float = 1e-3, num_steps: int = 2000) -> MetaSolver:
    """Projected replicator dynamics, averaged (Lanctot et al., 2017); ``exploration`` is the
    floor ``exploration / K`` on every probability."""
    prd = dynamics.projected_replicator_dynamics(step_size, exploration)

    def solve(meta_payoffs, masks):
        start = tuple(m / jnp.sum(m) for m in masks.astype(meta_payoffs.dtype))
        profile = prd.solve(dominate_empty_slots(meta_payoffs, masks), num_steps, start).profile
        return _renormalised(jnp.stack(profile), masks)

    return solve


def _max_welfare_ce(correlated) -> MetaSolver:
    """Marginals of the welfare-maximising correlated equilibrium (an LP over joint profiles:
    ``K^n`` variables, so for small populations)."""

    def solve(meta_payoffs, masks):
        profile = correlated.ce(dominate_empty_slots(meta_payoffs, masks), "welfare").profile
        return _renormalised(jnp.stack(profile).astype(meta_payoffs.dtype), masks)

    return solve


def _alpharank(module, alpha: float = 10.0, population_size: int = 50) -> MetaSolver:
    """Marginals of the alpha-Rank stationary distribution (Omidshafiei et al., 2019) of the
    filled slots' sub-game, exactly (empty slots never host mutants)."""

    def solve(meta_payoffs, masks):
        profile = module.alpharank(meta_payoffs, alpha, population_size, masks=tuple(masks)).profile
        return _renormalised(jnp.stack(profile).astype(meta_payoffs.dtype), masks)

    return solve


def _optional(module: str, build: Callable) -> Callable:
    """Meta-solvers built on modules that may not be installed in this checkout."""

    def factory(**options):
        return build(importlib.import_module(f"marljax.solvers.{module}"), **options)

    factory.module = module
    return factory


#: name -> factory(**options) -> MetaSolver. ``nash`` picks zero-sum or general-sum per game.
META_SOLVERS: dict[str, Callable] = {
    "uniform": lambda: uniform,
    "nash": lambda zero_sum=True: nash_zero_sum if zero_sum else nash_general_sum,
    "nash_zero_sum": lambda: nash_zero_sum,
    "nash_general_sum": lambda: nash_general_sum,
    "rae": _rae,
    "prd": _optional("dynamics", _prd),
    "ce": _optional("equilibria.correlated", _max_welfare_ce),
    "alpharank": _optional("equilibria.alpharank", _alpharank),
}


def available() -> list[str]:
    """The meta-solver names usable in this installation."""
    names = []
    for name, factory in META_SOLVERS.items():
        module = getattr(factory, "module", None)
        if module is None or importlib.util.find_spec(f"marljax.solvers.{module}") is not None:
            names.append(name)
    return names


def make_meta_solver(name: str, payoffs=None, **options) -> MetaSolver:
    """The meta-solver called ``name`` (see :data:`META_SOLVERS`), with its options.

    ``payoffs`` (the underlying game, concrete) lets ``nash`` choose the zero-sum LP or
    Lemke-Howson. Unknown names raise ``ValueError`` listing the known ones.
    """
    if name not in META_SOLVERS:
        raise ValueError(f"unknown meta-solver {name!r}; known meta-solvers: {sorted(META_SOLVERS)}")
    if name not in available():
        raise ValueError(
            f"meta-solver {name!r} needs marljax.solvers.{META_SOLVERS[name].module}, which is not installed"
        )
    if name.startswith("nash") and payoffs is not None:
        check_payoffs(payoffs)
        if payoffs.shape[0] != 2:
            raise ValueError(
                f"the Nash meta-solvers are for two-player games; this game has {payoffs.shape[0]} players"
            )
        if name == "nash" and is_concrete(payoffs):
            options = {"zero_sum": is_zero_sum(jnp.asarray(payoffs)), **options}
    return META_SOLVERS[name](**options)
