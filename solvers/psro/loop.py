"""Policy-Space Response Oracles (PSRO; Lanctot et al., 2017) for normal-form games, jitted.

PSRO grows a population of policies per player. Each iteration (:func:`psro_solver`'s ``update``):

1. build the meta-game ``M[i, k_1, ..., k_n] = u_i(policy k_1 of player 1, ..., policy k_n)``
   over the current populations (:func:`meta_game`),
2. solve it with a meta-solver (:mod:`marljax.solvers.psro.meta_solvers`: uniform, Nash, PRD,
   alpha-rank, RAE, max-welfare CE) for a meta-strategy ``sigma_i`` per player,
3. record the NashConv of the mixture the meta-strategy induces over the full game
   (:func:`induced_profile`; exact here, PSRO's "exploitability" curve),
4. add each player's best response to the others' mixture (the exact oracle,
   :mod:`marljax.solvers.psro.oracles.exact`) unless the population already holds one.

Jit needs fixed shapes, so each population is preallocated with ``max_population`` slots
(``population [n, K]`` int32, a pure action per slot) and a size per player; the meta-game is
always ``[n, K, ..., K]`` and empty slots are masked. :func:`run` is the public call: every
iteration in one ``lax.scan`` under one ``jit``, compiled once per game shape and options.

**Success.** PSRO has converged when the oracle finds no new best response to the final
meta-strategy (every player's best action, ties included, is already in its population): more
iterations would change nothing. With the Nash meta-solver and ``oracle_gamma = 0`` this
certifies that the meta-Nash is a Nash equilibrium of the full game (its ``nash_conv`` is then
zero up to the meta-solver's precision), reached in at most ``sum_i A_i`` iterations; with
other meta-solvers it is the solver's own fixed point (e.g. PSRO-RAE's risk-averse one), whose
NashConv need not be zero. ``success`` is true at that fixed point, or when the final
meta-strategy is a verified Nash equilibrium (NashConv ``<= 1e-6`` times the payoff range:
a best response better only by rounding error does not count against it). A run stopped by
its iteration or population budget before either has ``success = False``.

References:
    Lanctot et al., "A Unified Game-Theoretic Approach to Multiagent Reinforcement Learning",
    NeurIPS 2017. Muller et al., "A Generalized Training Approach for Multiagent Learning",
    ICLR 2020 (alpha-Rank meta-solver).
"""

from __future__ import annotations

import functools
from typing import Callable, NamedTuple, Sequence

import chex
import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from marljax import checks
from marljax.progress import ProgressBar
from marljax.solvers.base import output_dtype, validate_game, verified
from marljax.solvers.game import payoffs as normal_form
from marljax.solvers.game.properties import is_symmetric, is_zero_sum
from marljax.solvers.psro import meta_solvers
from marljax.solvers.psro.meta_solvers import MetaSolver
from marljax.solvers.psro.oracles.exact import exact_best_response, population_best_response

__all__ = [
    "PSROState",
    "PSROMetrics",
    "PSROResult",
    "PSROSolver",
    "psro_solver",
    "run",
    "meta_game",
    "induced_profile",
    "induced_mixtures",
    "nash_conv_curve",
    "exact_best_response",
    "check_budget",
    "check_initial_actions",
    "resolve_meta_solver",
]


@struct.dataclass
class PSROState:
    """The populations, and what the last :func:`psro_solver` ``update`` saw.

    Attributes:
        population: ``[n, K]`` int32, the pure action in each slot (empty slots repeat slot 0).
        sizes: ``[n]`` int32 filled slots per player.
        iteration: ``[]`` int32 updates done.
        meta_strategy: ``[n, K]`` the meta-strategy the last update solved (``init``: all on slot 0).
        nash_conv: ``[]`` NashConv of the profile that meta-strategy induces in the full game.
        best_response: ``[n]`` int32 the oracle's last answers (``init``: the initial actions).
        added: ``[n]`` bool, whether they joined the population.
    """

    population: chex.Array
    sizes: chex.Array
    iteration: chex.Array
    meta_strategy: chex.Array
    nash_conv: chex.Array
    best_response: chex.Array
    added: chex.Array


@struct.dataclass
class PSROMetrics:
    """What each iteration saw, stacked over iterations by :func:`run` (leading axis ``T``).

    Attributes:
        meta_strategy: ``[T, n, K]`` the meta-strategy the oracle answered.
        nash_conv: ``[T]`` its NashConv in the full game (PSRO's exploitability curve).
        sizes: ``[T, n]`` population sizes when the meta-game was solved.
        best_response: ``[T, n]`` the oracle's answers.
        added: ``[T, n]`` bool, whether they were new (and there was room).
    """

    meta_strategy: chex.Array
    nash_conv: chex.Array
    sizes: chex.Array
    best_response: chex.Array
    added: chex.Array

    @property
    def exploitability(self) -> chex.Array:
        """PSRO's name for :attr:`nash_conv` (the NashConv of the meta-strategy)."""
        return self.nash_conv


@struct.dataclass
class PSROResult:
    """A PSRO run: the final populations, the curves and the final meta-strategy's profile.

    Attributes:
        state: the final :class:`PSROState`.
        metrics: :class:`PSROMetrics` per iteration.
        meta_strategy: ``[n, K]`` meta-strategy of the final population.
        profile: the mixed profile it induces over the game's actions (one ``[A_i]`` per player).
        nash_conv: ``[]`` that profile's NashConv.
        success: ``[]`` bool, the oracle finds no new best response to it, or it is a verified
            Nash equilibrium (see the module docstring).
    """

    state: PSROState
    metrics: PSROMetrics
    meta_strategy: chex.Array
    profile: tuple
    nash_conv: chex.Array
    success: chex.Array

    @property
    def exploitability(self) -> chex.Array:
        """PSRO's name for :attr:`nash_conv` (the NashConv of the final meta-strategy)."""
        return self.nash_conv


class PSROSolver(NamedTuple):
    """PSRO with the exact oracle as pure functions (built by :func:`psro_solver`)."""

    init: Callable  # (payoffs, initial_actions=None) -> PSROState
    update: Callable  # (state, payoffs) -> PSROState
    solve: Callable  # (payoffs, iterations, initial_actions=None, progress=False) -> PSROResult
    evaluate: Callable  # (state, payoffs) -> (meta_strategy, profile, nash_conv)


#: The oracle's risk aversion: a finite number >= 0.
_RISK_AVERSION = checks.number(0.0)


def meta_game(payoffs: chex.Array, population: chex.Array) -> chex.Array:
    """``[n, K, ..., K]``: the payoffs of every combination of population slots.

    Args:
        payoffs: ``[n, A_1, ..., A_n]`` payoff tensor.
        population: ``[n, K]`` int32, a pure action per slot.
    """
    n = payoffs.shape[0]
    index = tuple(population[i].reshape((1,) * i + (-1,) + (1,) * (n - 1 - i)) for i in range(n))
    return payoffs[(slice(None),) + index]


def induced_profile(population: chex.Array, meta_strategy: chex.Array, num_actions: Sequence[int]) -> tuple:
    """The mixed profile over the game's actions that a meta-strategy over slots induces:
    ``pi_i[a] = sum_{k: population[i, k] = a} sigma_i[k]``."""
    return tuple(
        jnp.zeros((a,), meta_strategy.dtype).at[population[i]].add(meta_strategy[i]) for i, a in enumerate(num_actions)
    )


def induced_mixtures(result: PSROResult) -> list:
    """Per player ``[T + 1, A_i]``: the mixture over actions the meta-strategy induced at each
    iteration (the last row is the final population's).

    Slots are filled in order and never change, and empty slots carry no weight, so the final
    population tells what every iteration's slots held.
    """
    sigma = jnp.concatenate([result.metrics.meta_strategy, result.meta_strategy[None]])
    num_actions = [p.shape[0] for p in result.profile]
    per_iteration = jax.vmap(lambda s: induced_profile(result.state.population, s, num_actions))(sigma)
    return list(per_iteration)


def nash_conv_curve(result: PSROResult) -> chex.Array:
    """``[T + 1]``: the NashConv of the meta-strategy at each iteration, then the final one's."""
    return jnp.append(result.metrics.nash_conv, result.nash_conv)


def check_budget(max_population: int, iterations: int) -> None:
    """``iterations`` and ``max_population`` are positive ints, and each iteration can add one
    policy per player to the initial one, so ``max_population >= iterations + 1``."""
    iterations = checks.integer(1)("iterations", iterations)
    max_population = checks.integer(1)("max_population", max_population)
    if max_population < iterations + 1:
        raise ValueError(
            f"population budget max_population={max_population} is below the {iterations} iterations asked: "
            f"PSRO can add a policy per player each iteration, so it needs max_population >= iterations + 1 "
            f"= {iterations + 1}"
        )


def check_initial_actions(initial_actions, num_actions: Sequence[int]) -> np.ndarray:
    """``[n]`` int32 initial pure actions, checked: one integer per player, in its range
    (``None``: action 0 for everyone)."""
    n = len(num_actions)
    if initial_actions is None:
        return np.zeros((n,), np.int32)
    actions = np.asarray(initial_actions)
    if actions.shape != (n,):
        raise ValueError(f"initial_actions must hold one action per player ({n}); got shape {actions.shape}")
    if not np.issubdtype(actions.dtype, np.integer):
        raise ValueError(f"initial_actions must be integers (action indices); got dtype {actions.dtype}")
    for i, (a, size) in enumerate(zip(actions.tolist(), num_actions)):
        if not 0 <= a < size:
            raise ValueError(f"initial_actions[{i}] = {a} is out of range: player {i} has actions 0..{size - 1}")
    return actions.astype(np.int32)


def psro_solver(
    meta_solver: MetaSolver, max_population: int, oracle_gamma: float = 0.0, symmetric: bool = False
) -> PSROSolver:
    """PSRO with the exact best-response oracle as pure ``init``/``update``/``solve`` functions.

    Args:
        meta_solver: ``(meta_payoffs [n, K, ..., K], masks [n, K]) -> [n, K]`` (see
            :mod:`marljax.solvers.psro.meta_solvers`).
        max_population: ``K``, slots per player.
        oracle_gamma: risk aversion of the oracle (``>= 0``; 0 is the plain best response).
        symmetric: keep one population for both players of a two-player symmetric game
            (``u_2 = u_1^T``), as OpenSpiel's ``symmetric_game``: both play the row player's
            meta-strategy (exact for zero-sum games, where maximin strategies are
            interchangeable) and the row player's best response joins the shared population.

    Returns:
        A :class:`PSROSolver`. ``update(state, payoffs)`` is one PSRO iteration;
        ``solve(payoffs, iterations)`` runs ``iterations`` of them in a ``lax.scan`` and
        returns a :class:`PSROResult` (jit it, with ``iterations`` and ``progress`` static;
        ``progress=True`` shows a bar from a :class:`LoopProgress` callback).
    """
    oracle_gamma = _RISK_AVERSION("oracle_gamma", oracle_gamma)
    slots = jnp.arange(max_population)

    def evaluate(state: PSROState, payoffs):
        sigma = meta_solver(meta_game(payoffs, state.population), slots[None, :] < state.sizes[:, None])
        if symmetric:
            sigma = jnp.broadcast_to(sigma[0], sigma.shape)
        profile = induced_profile(state.population, sigma, payoffs.shape[1:])
        return sigma, profile, normal_form.nash_conv(payoffs, profile)

    def oracle(state: PSROState, payoffs, profile):
        best, new = population_best_response(payoffs, profile, state.population, state.sizes, oracle_gamma)
        if symmetric:
            best, new = jnp.broadcast_to(best[0], best.shape), jnp.broadcast_to(new[0], new.shape)
        return best, new

    def init(payoffs, initial_actions=None) -> PSROState:
        n = payoffs.shape[0]
        first = jnp.zeros((n,), jnp.int32) if initial_actions is None else jnp.asarray(initial_actions, jnp.int32)
        dtype = output_dtype(payoffs)
        sigma = jnp.zeros((n, max_population), dtype).at[:, 0].set(1.0)
        population = jnp.broadcast_to(first[:, None], (n, max_population)).astype(jnp.int32)
        profile = induced_profile(population, sigma, payoffs.shape[1:])
        return PSROState(
            population=population,
            sizes=jnp.ones((n,), jnp.int32),
            iteration=jnp.zeros((), jnp.int32),
            meta_strategy=sigma,
            nash_conv=normal_form.nash_conv(payoffs, profile),
            best_response=first,
            added=jnp.ones((n,), bool),
        )

    def update(state: PSROState, payoffs) -> PSROState:
        sigma, profile, nash_conv = evaluate(state, payoffs)
        best, new = oracle(state, payoffs, profile)
        added = new & (state.sizes < max_population)
        rows = jnp.arange(payoffs.shape[0])
        slot = jnp.minimum(state.sizes, max_population - 1)
        population = state.population.at[rows, slot].set(jnp.where(added, best, state.population[rows, slot]))
        return PSROState(
            population=population,
            sizes=state.sizes + added.astype(jnp.int32),
            iteration=state.iteration + 1,
            meta_strategy=sigma,
            nash_conv=nash_conv,
            best_response=best,
            added=added,
        )

    def solve(payoffs, iterations: int, initial_actions=None, progress: bool = False) -> PSROResult:
        report = LoopProgress(iterations, "PSRO") if progress else None

        def step(state, _):
            new = update(state, payoffs)
            if report is not None:
                jax.debug.callback(report, new.iteration, new.nash_conv)
            metrics = PSROMetrics(new.meta_strategy, new.nash_conv, state.sizes, new.best_response, new.added)
            return new, metrics

        state, metrics = jax.lax.scan(step, init(payoffs, initial_actions), None, length=iterations)
        sigma, profile, nash_conv = evaluate(state, payoffs)
        _, new = oracle(state, payoffs, profile)
        return PSROResult(state, metrics, sigma, profile, nash_conv, ~jnp.any(new) | verified(nash_conv, payoffs))

    return PSROSolver(init, update, solve, evaluate)


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
    """PSRO with the exact oracle on ``payoffs [n, A_1..A_n]``, compiled once per game shape
    and options (a second call on another game of the same shape reuses the compilation).

    Args:
        payoffs: payoff tensor ``[n, A_1, ..., A_n]`` (integer payoffs are promoted to float).
        meta_solver: a name from :data:`marljax.solvers.psro.meta_solvers.META_SOLVERS` (its
            options, e.g. ``gamma=0.5`` for ``rae``, go in ``meta_options``), or a function
            ``(meta_payoffs, masks) -> [n, K]`` (compiled once per function object: build it once).
        iterations: PSRO iterations (positive).
        max_population: slots per player (default ``iterations + 1``, enough for every iteration).
        initial_actions: each player's first policy, a pure action (default action 0).
        oracle_gamma: the oracle's risk aversion; defaults to the ``rae`` meta-solver's ``gamma``
            (its registry default when not given), 0 for other meta-solvers.
        symmetric: one shared population (see :func:`psro_solver`); defaults to whether the game is
            two-player symmetric zero-sum.
        progress: show a progress bar (:class:`marljax.progress.ProgressBar`) with the NashConv.
        **meta_options: the meta-solver's options.

    Returns:
        A :class:`PSROResult`; ``result.nash_conv`` is the final meta-strategy's NashConv,
        ``result.metrics.nash_conv`` the curve, ``result.success`` whether PSRO converged.

    Raises:
        ValueError: a bad payoff tensor, budget, initial action, meta-solver name or option.

    >>> from marljax.envs.matrix import random_symmetric_zero_sum
    >>> result = run(random_symmetric_zero_sum(jax.random.PRNGKey(0), 100), "nash", iterations=100)
    >>> result.nash_conv, result.success  # ~1e-8 (float32), True
    """
    payoffs = validate_game(payoffs)  # integer payoffs become float
    iterations = checks.integer(1)("iterations", iterations)  # before the max_population it implies
    max_population = iterations + 1 if max_population is None else max_population
    check_budget(max_population, iterations)
    first = check_initial_actions(initial_actions, payoffs.shape[1:])
    meta = resolve_meta_solver(meta_solver, payoffs, **meta_options)
    if oracle_gamma is not None:
        oracle_gamma = _RISK_AVERSION("oracle_gamma", oracle_gamma)
    elif isinstance(meta, MetaSolver) and meta.name == "rae":  # PSRO-RAE: the oracle shares its risk aversion
        oracle_gamma = _RISK_AVERSION("gamma", dict(meta.options)["gamma"])
    else:
        oracle_gamma = 0.0
    if symmetric is None:
        symmetric = is_symmetric(payoffs) and is_zero_sum(payoffs)
    elif symmetric and not is_symmetric(payoffs):
        raise ValueError("symmetric=True needs a two-player symmetric game (u_2 = u_1^T)")
    if symmetric and first[0] != first[1]:
        raise ValueError(f"symmetric=True shares one population, so both initial actions must be equal; got {first}")
    settings = (meta, max_population, oracle_gamma, bool(symmetric), iterations, bool(progress))
    result = call_cached(_compiled_run, *settings)(payoffs, jnp.asarray(first))
    if progress:
        jax.block_until_ready(result)
        jax.effects_barrier()  # the bar's last callbacks have run (and closed it) before we return
    return result


def resolve_meta_solver(meta_solver, payoffs=None, **options) -> Callable:
    """The meta-solver a PSRO run uses: a name with its options (checked by the solver registry,
    :func:`marljax.solvers.psro.meta_solvers.make_meta_solver`; ``payoffs`` picks ``nash``'s
    solver for the game), or a function ``(meta_payoffs, masks) -> [n, K]`` as given."""
    if isinstance(meta_solver, str):
        return meta_solvers.make_meta_solver(meta_solver, payoffs, **options)
    if not callable(meta_solver):
        raise ValueError(
            f"meta_solver must be a name or a function (meta_payoffs, masks) -> [n, K]; got {meta_solver!r}"
        )
    if options:
        raise ValueError(
            f"meta-solver options ({', '.join(sorted(options))}) go with a meta-solver name, not a function"
        )
    return meta_solver


@functools.lru_cache(maxsize=64)
def _compiled_run(meta_solver, max_population, oracle_gamma, symmetric, iterations, progress):
    """The whole PSRO run as one jitted function ``(payoffs, initial_actions) -> PSROResult``,
    one per set of options (a registry meta-solver is a hashable value; a function is keyed by
    identity), and jit keeps one compilation per game shape and dtype."""
    solver = psro_solver(meta_solver, max_population, oracle_gamma, symmetric)

    @jax.jit
    def psro_run(payoffs, initial_actions):
        return solver.solve(payoffs, iterations, initial_actions, progress)

    return psro_run


def call_cached(cached_factory: Callable, *settings):
    """``cached_factory(*settings)`` through its ``functools.lru_cache`` when every setting is
    hashable, else built afresh (e.g. a meta-solver option given as an array): the compiled
    functions it builds are then reused only within that call."""
    try:
        hash(settings)
    except TypeError:
        return cached_factory.__wrapped__(*settings)
    return cached_factory(*settings)


class LoopProgress:
    """The progress bar of a jitted loop, moved by ``jax.debug.callback(report, iteration, nash_conv)``.

    The callback is fixed when the loop is traced, so a bar handed in per call would need a trace
    (a compilation) per call. Instead this callback owns its bar: it opens one when a run of the
    compiled loop reports an iteration at or below the bar's position (its first, or the first
    after an interrupted run), moves it (to the largest ``iteration``, so a ``vmap`` of runs shows
    one bar) and closes it at ``total``. Its only state is the bar of the run in flight, kept with
    the compiled loop that calls it (no module-level registry); one compilation serves every call.
    """

    def __init__(self, total: int, desc: str):
        self.total, self.desc = int(total), desc
        self._bar: ProgressBar | None = None

    def __call__(self, iteration, nash_conv) -> None:
        step = int(np.max(np.asarray(iteration)))
        if self._bar is None or step <= self._bar.n:
            self.close()
            self._bar = ProgressBar(self.total, self.desc, unit="it")
        self._bar.advance_to(step, nash_conv=nash_conv)
        if step >= self.total:
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
