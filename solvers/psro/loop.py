"""Policy-Space Response Oracles (PSRO; Lanctot et al., 2017) for normal-form games, jitted.

PSRO grows a population of policies per player. Each iteration:

1. build the meta-game ``M[i, k_1, ..., k_n] = u_i(policy k_1 of player 1, ..., policy k_n)``
   over the current populations,
2. solve it with a meta-solver (:mod:`marljax.solvers.psro.meta_solvers`: uniform, Nash, PRD,
   alpha-rank, RAE, max-welfare CE) for a meta-strategy ``sigma_i`` per player,
3. record the exploitability of the meta-strategy: the NashConv of the mixture it induces
   over the full game (exact here),
4. add each player's best response to the others' meta-strategy mixture (the oracle).

Jit needs fixed shapes, so each population is preallocated with ``max_population`` slots
(``population [n, K]`` int32, a pure action per slot) and a size per player; the meta-game is
always ``[n, K, ..., K]`` and empty slots are masked. The exact oracle returns a pure best
response (with ``oracle_gamma > 0`` the pure action that maximises the risk-averse utility
``m_a - gamma Sigma_aa``, which PSRO-RAE uses); a best response already in the population is
not added again. One iteration is ``update`` (jit it); :func:`run` puts all of them in one
``lax.scan``. PSRO with the exact oracle and a Nash meta-solver stops growing exactly when the
meta-Nash is a Nash equilibrium of the full game, so it converges in at most ``sum_i A_i``
iterations. The RL oracle for environment games is in :mod:`marljax.solvers.psro.oracles.rl`.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

import chex
import jax
import jax.numpy as jnp
from flax import struct

from marljax.checks import check_payoffs
from marljax.solvers.equilibria.rae import opponent_moments
from marljax.solvers.game import payoffs as normal_form
from marljax.solvers.game.properties import is_symmetric, is_zero_sum
from marljax.solvers.psro.meta_solvers import RAE_DEFAULT_GAMMA, MetaSolver, make_meta_solver

__all__ = [
    "PSROState",
    "PSROMetrics",
    "PSROResult",
    "PSROSolver",
    "psro_solver",
    "run",
    "meta_game",
    "induced_profile",
    "exact_best_response",
    "check_budget",
    "is_symmetric",
]


@struct.dataclass
class PSROState:
    population: chex.Array  # [n, K] int32: the pure action in each slot (empty slots repeat slot 0)
    sizes: chex.Array  # [n] int32: filled slots per player
    iteration: chex.Array  # [] int32


@struct.dataclass
class PSROMetrics:
    """What one iteration saw (stacked over iterations by :func:`run`)."""

    meta_strategy: chex.Array  # [n, K] meta-strategy over the population slots
    exploitability: chex.Array  # [] NashConv of the induced profile in the full game
    sizes: chex.Array  # [n] population sizes when the meta-game was solved
    best_response: chex.Array  # [n] the oracle's answers
    added: chex.Array  # [n] bool: whether they were new


@struct.dataclass
class PSROResult:
    state: PSROState  # the final populations
    metrics: PSROMetrics  # per iteration, leading axis = iterations
    meta_strategy: chex.Array  # [n, K] meta-strategy of the final population
    profile: tuple  # the induced mixed profile over the game's actions
    exploitability: chex.Array  # [] its NashConv


class PSROSolver(NamedTuple):
    init: Callable  # (payoffs, initial_actions=None) -> PSROState
    update: Callable  # (payoffs, state) -> (PSROState, PSROMetrics)
    evaluate: Callable  # (payoffs, state) -> (meta_strategy, profile, exploitability)


def meta_game(payoffs: chex.Array, population: chex.Array) -> chex.Array:
    """``[n, K, ..., K]``: the payoffs of every combination of population slots."""
    n = payoffs.shape[0]
    index = tuple(population[i].reshape((1,) * i + (-1,) + (1,) * (n - 1 - i)) for i in range(n))
    return payoffs[(slice(None),) + index]


def induced_profile(population: chex.Array, meta_strategy: chex.Array, num_actions: Sequence[int]) -> tuple:
    """The mixed profile over the game's actions that the meta-strategy over slots induces."""
    return tuple(
        jnp.zeros((a,), meta_strategy.dtype).at[population[i]].add(meta_strategy[i]) for i, a in enumerate(num_actions)
    )


def exact_best_response(payoffs: chex.Array, profile: Sequence[chex.Array], gamma: float = 0.0) -> chex.Array:
    """``[n]`` pure best responses to the others' mixtures; with ``gamma > 0`` the pure action
    that maximises ``m_a - gamma Sigma_aa`` (mean minus gamma times its variance)."""
    if gamma == 0:
        return jnp.stack([jnp.argmax(d) for d in normal_form.deviation_payoffs(payoffs, profile)]).astype(jnp.int32)
    out = []
    for i in range(payoffs.shape[0]):
        mean, cov = opponent_moments(payoffs, profile, i)
        out.append(jnp.argmax(mean - gamma * jnp.diag(cov)))
    return jnp.stack(out).astype(jnp.int32)


def check_budget(max_population: int, iterations: int) -> None:
    """Each iteration can add one policy per player to the initial one."""
    if not (isinstance(max_population, int) and max_population > 0):
        raise ValueError(f"max_population must be a positive int; got {max_population!r}")
    if not (isinstance(iterations, int) and iterations > 0):
        raise ValueError(f"iterations must be a positive int; got {iterations!r}")
    if max_population < iterations + 1:
        raise ValueError(
            f"population budget max_population={max_population} is below the {iterations} iterations asked: "
            f"PSRO can add a policy per player each iteration, so it needs max_population >= iterations + 1 "
            f"= {iterations + 1}"
        )


def psro_solver(
    meta_solver: MetaSolver, max_population: int, oracle_gamma: float = 0.0, symmetric: bool = False
) -> PSROSolver:
    """PSRO with the exact best-response oracle as pure ``init``/``update`` functions.

    ``symmetric=True`` (two-player symmetric games, ``u_2 = u_1^T``) keeps one population for
    both players, as OpenSpiel's ``symmetric_game``: both play the row player's meta-strategy
    (exact for zero-sum games, where maximin strategies are interchangeable) and the row
    player's best response joins the shared population. Every iteration before convergence
    then adds a new action, so PSRO-Nash converges within ``A - 1`` iterations.
    """
    if oracle_gamma < 0:
        raise ValueError(f"oracle_gamma must be >= 0; got {oracle_gamma!r}")

    def init(payoffs, initial_actions=None) -> PSROState:
        n = payoffs.shape[0]
        first = jnp.zeros((n,), jnp.int32) if initial_actions is None else jnp.asarray(initial_actions, jnp.int32)
        return PSROState(
            population=jnp.broadcast_to(first[:, None], (n, max_population)).astype(jnp.int32),
            sizes=jnp.ones((n,), jnp.int32),
            iteration=jnp.zeros((), jnp.int32),
        )

    def evaluate(payoffs, state: PSROState):
        masks = jnp.arange(max_population)[None, :] < state.sizes[:, None]
        sigma = meta_solver(meta_game(payoffs, state.population), masks)
        if symmetric:
            sigma = jnp.broadcast_to(sigma[0], sigma.shape)
        profile = induced_profile(state.population, sigma, payoffs.shape[1:])
        return sigma, profile, normal_form.nash_conv(payoffs, profile)

    def update(payoffs, state: PSROState):
        sigma, profile, exploitability = evaluate(payoffs, state)
        best = exact_best_response(payoffs, profile, oracle_gamma)
        if symmetric:
            best = jnp.broadcast_to(best[0], best.shape)
        present = jnp.any(
            (state.population == best[:, None]) & (jnp.arange(max_population)[None, :] < state.sizes[:, None]), axis=1
        )
        added = ~present & (state.sizes < max_population)
        slot = jnp.minimum(state.sizes, max_population - 1)
        rows = jnp.arange(payoffs.shape[0])
        population = state.population.at[rows, slot].set(jnp.where(added, best, state.population[rows, slot]))
        metrics = PSROMetrics(sigma, exploitability, state.sizes, best, added)
        new_state = PSROState(population, state.sizes + added.astype(jnp.int32), state.iteration + 1)
        return new_state, metrics

    return PSROSolver(init, update, evaluate)


def run(
    payoffs: chex.Array,
    meta_solver: str | MetaSolver = "nash",
    iterations: int = 50,
    max_population: int | None = None,
    initial_actions: Sequence[int] | None = None,
    oracle_gamma: float | None = None,
    symmetric: bool | None = None,
    progress: bool = False,
    **meta_options,
) -> PSROResult:
    """PSRO with the exact oracle on ``payoffs [n, A_1..A_n]``, every iteration in one
    ``lax.scan`` under one ``jit``.

    ``meta_solver`` is a name from :data:`marljax.solvers.psro.meta_solvers.META_SOLVERS` (options
    such as ``gamma=0.5`` for ``rae`` go in ``meta_options``) or a function
    ``(meta_payoffs, masks) -> [n, K]``. ``max_population`` defaults to ``iterations + 1``;
    ``oracle_gamma`` defaults to the RAE meta-solver's ``gamma`` (0 otherwise). ``symmetric``
    (one shared population, see :func:`psro_solver`) defaults to whether the game is symmetric
    zero-sum.

    >>> from marljax.envs.matrix import random_symmetric_zero_sum
    >>> result = run(random_symmetric_zero_sum(jax.random.PRNGKey(0), 100), "nash", iterations=100)
    >>> result.exploitability  # NashConv of the final meta-Nash mixture
    """
    payoffs = jnp.asarray(payoffs)
    check_payoffs(payoffs)
    max_population = iterations + 1 if max_population is None else max_population
    check_budget(max_population, iterations)
    if oracle_gamma is None:
        oracle_gamma = float(meta_options.get("gamma", RAE_DEFAULT_GAMMA)) if meta_solver == "rae" else 0.0
    if meta_options.get("gamma", 0.0) < 0:
        raise ValueError(f"gamma (risk aversion) must be >= 0; got {meta_options['gamma']!r}")
    solve = make_meta_solver(meta_solver, payoffs, **meta_options) if isinstance(meta_solver, str) else meta_solver
    if symmetric is None:
        symmetric = is_symmetric(payoffs) and is_zero_sum(payoffs)
    elif symmetric and not is_symmetric(payoffs):
        raise ValueError("symmetric=True needs a two-player symmetric game (u_2 = u_1^T)")
    solver = psro_solver(solve, max_population, oracle_gamma, symmetric)
    return _compiled_run(solver, iterations, progress)(
        payoffs, None if initial_actions is None else jnp.asarray(initial_actions)
    )


def _compiled_run(solver: PSROSolver, iterations: int, progress: bool):
    """The whole PSRO run as one jitted function of the game."""
    ticker = _progress(iterations) if progress else None

    def step(payoffs, state):
        state, metrics = solver.update(payoffs, state)
        if ticker is not None:
            jax.debug.callback(ticker, state.iteration, metrics.exploitability)
        return state, metrics

    @jax.jit
    def go(payoffs, initial_actions):
        start = solver.init(payoffs, initial_actions)
        state, metrics = jax.lax.scan(lambda s, _: step(payoffs, s), start, None, length=iterations)
        sigma, profile, exploitability = solver.evaluate(payoffs, state)
        return PSROResult(state, metrics, sigma, profile, exploitability)

    return go


def _progress(total: int):
    from tqdm import tqdm

    bar = tqdm(total=total, desc="PSRO", unit="it")

    def tick(iteration, exploitability):
        bar.set_postfix(nash_conv=f"{float(exploitability):.3g}")
        bar.update(1)
        if int(iteration) >= total:
            bar.close()

    return tick
