"""Learning dynamics for n-player normal-form games, optax style.

Each builder returns a :class:`Dynamics` with pure ``init(payoffs, profile=None) -> state``
and ``update(state, payoffs) -> state``; :func:`solve` (or ``dynamics.solve``) runs a fixed
number of steps in ``lax.scan`` and records the NashConv of the reported iterate at every
step (and, for the no-regret dynamics, the CCE gap of the empirical joint play). All of them
use the deviation payoffs ``dev_i[a] = E_{a_-i ~ pi_-i} u_i(a, a_-i)`` of
:func:`marljax.solvers.nash.deviation_payoffs`, scaled by the payoff range so step sizes mean
the same on every game.

* :func:`fictitious_play` -- each player best-responds to the others' empirical average
  (Brown 1951; Robinson 1951: converges in two-player zero-sum; Shapley 1964: cycles on
  Shapley's game). Reports the average.
* :func:`replicator_dynamics` -- Euler steps of ``dx_a = x_a (dev_a - x . dev)`` (Taylor &
  Jonker 1978). Reports the last iterate.
* :func:`projected_replicator_dynamics` -- replicator steps projected onto the simplex with
  every probability ``>= gamma / A_i`` (Lanctot et al. 2017, PSRO's PRD meta-solver). Reports
  the average over the run.
* :func:`regret_matching` -- play proportional to positive cumulative regret (Hart &
  Mas-Colell 2000); ``plus=True`` is regret matching+ (Tammelin 2014: regrets floored at 0,
  linearly weighted average). The empirical joint play converges to the CCE set; in two-player
  zero-sum the average profile converges to Nash. Reports the average.
* :func:`optimistic_mwu` -- multiplicative weights with the optimistic gradient
  ``2 g_t - g_{t-1}`` (Daskalakis & Panageas 2019: last-iterate convergence in zero-sum
  games with a unique equilibrium). Reports the last iterate.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import chex
import jax
import jax.numpy as jnp
from flax import struct

from marljax.checks import check_positive, check_profile
from marljax.solvers.base import jit_when_concrete, payoff_range, validate_game
from marljax.solvers.equilibria.correlated import cce_gap, product_distribution
from marljax.solvers.game import payoffs as normal_form

__all__ = [
    "Dynamics",
    "DynamicsState",
    "DynamicsResult",
    "solve",
    "fictitious_play",
    "replicator_dynamics",
    "projected_replicator_dynamics",
    "regret_matching",
    "optimistic_mwu",
]


@struct.dataclass
class DynamicsState:
    strategies: tuple  # current iterate, one simplex vector per player
    average: tuple  # (weighted) running average of the iterates
    average_weight: chex.Array  # total weight in ``average``
    memory: tuple  # per-player auxiliary: cumulative regrets / logits / last gradient
    joint_average: chex.Array  # empirical joint play [A_1..A_n] (product of the iterates, averaged)
    step: chex.Array


@struct.dataclass
class DynamicsResult:
    """``profile`` is the reported iterate (average or last, per method) and ``nash_conv`` its
    NashConv; ``nash_conv_curve [T]`` the same over the steps, ``cce_gap_curve [T]`` the CCE gap of
    the empirical joint play. ``success``: NashConv within ``tol * payoff range`` at the end."""

    profile: tuple
    nash_conv: chex.Array
    success: chex.Array
    last_profile: tuple
    average_profile: tuple
    nash_conv_curve: chex.Array
    cce_gap_curve: chex.Array
    joint: chex.Array


class Dynamics(NamedTuple):
    init: Callable[..., DynamicsState]
    update: Callable[[DynamicsState, chex.Array], DynamicsState]
    report_average: bool
    name: str

    def solve(self, payoffs, num_steps: int, profile=None, tol: float = 1e-3) -> DynamicsResult:
        return solve(self, payoffs, num_steps, profile, tol)


# ------------------------------------------------------------------------------ helpers


def _scaled_deviations(payoffs: chex.Array, profile) -> list[chex.Array]:
    return [d / payoff_range(payoffs) for d in normal_form.deviation_payoffs(payoffs, profile)]


def _normalise(weights: chex.Array) -> chex.Array:
    total = jnp.sum(weights)
    return jnp.where(total > 0, weights / jnp.where(total > 0, total, 1.0), 1.0 / weights.shape[0])


def _project_to_simplex(v: chex.Array, floor: float | chex.Array = 0.0) -> chex.Array:
    """Euclidean projection onto ``{x : sum x = 1, x >= floor}`` (sort-based; Duchi et al. 2008)."""
    size = v.shape[0]
    mass = 1.0 - floor * size  # what is left above the floor
    u = jnp.sort(v - floor)[::-1]
    cssv = jnp.cumsum(u) - mass
    index = jnp.arange(1, size + 1, dtype=v.dtype)
    rho = jnp.sum(u - cssv / index > 0)
    theta = cssv[rho - 1] / rho.astype(v.dtype)
    return jnp.maximum(v - floor - theta, 0.0) + floor


def _state(profile, memory, joint) -> DynamicsState:
    return DynamicsState(
        strategies=tuple(profile),
        average=tuple(profile),
        average_weight=jnp.ones((), profile[0].dtype),
        memory=tuple(memory),
        joint_average=joint,
        step=jnp.int32(0),
    )


def _advance(state: DynamicsState, strategies, memory, weight=1.0) -> DynamicsState:
    """New iterate: fold it into the running averages with ``weight``."""
    total = state.average_weight + weight
    mix = weight / total
    average = tuple(a + mix * (s - a) for a, s in zip(state.average, strategies))
    joint = state.joint_average + mix * (product_distribution(strategies) - state.joint_average)
    return DynamicsState(tuple(strategies), average, total, tuple(memory), joint, state.step + 1)


def _initial_profile(payoffs, profile):
    if profile is None:
        return normal_form.uniform_profile(payoffs)
    check_profile(profile, payoffs.shape[1:])
    return tuple(jnp.asarray(p, payoffs.dtype) for p in profile)


def _builder(name, first_memory, step_fn, report_average) -> Dynamics:
    def init(payoffs, profile=None) -> DynamicsState:
        profile = _initial_profile(payoffs, profile)
        return _state(profile, first_memory(payoffs, profile), product_distribution(profile))

    def update(state: DynamicsState, payoffs) -> DynamicsState:
        strategies, memory, weight = step_fn(state, payoffs)
        return _advance(state, strategies, memory, weight)

    return Dynamics(init, update, report_average, name)


def _zeros_like_profile(payoffs, profile):
    return tuple(jnp.zeros_like(p) for p in profile)


# ---------------------------------------------------------------------------- dynamics


def fictitious_play() -> Dynamics:
    """Simultaneous fictitious play: ``avg_{t+1} = avg_t + (BR(avg_t) - avg_t) / (t + 2)``."""

    def step(state, payoffs):
        devs = normal_form.deviation_payoffs(payoffs, state.average)
        best = tuple(normal_form.pure_profile(payoffs, [jnp.argmax(d) for d in devs]))
        return best, state.memory, 1.0

    return _builder("fictitious_play", _zeros_like_profile, step, report_average=True)


def replicator_dynamics(step_size: float = 0.1) -> Dynamics:
    """Discrete replicator dynamics ``x_a += eta x_a (dev_a - x . dev)`` (payoffs scaled to range 1)."""
    check_positive(step_size=step_size)

    def step(state, payoffs):
        devs = _scaled_deviations(payoffs, state.strategies)
        new = tuple(
            _normalise(jnp.maximum(x + step_size * x * (d - x @ d), 0.0)) for x, d in zip(state.strategies, devs)
        )
        return new, state.memory, 1.0

    return _builder("replicator_dynamics", _zeros_like_profile, step, report_average=False)


def projected_replicator_dynamics(step_size: float = 0.1, gamma: float = 1e-3) -> Dynamics:
    """PRD: ``x <- Proj_{x >= gamma/A}(x + eta x (dev - x . dev))`` (Lanctot et al. 2017)."""
    check_positive(step_size=step_size)
    if not 0 <= gamma < 1:
        raise ValueError(f"gamma must be in [0, 1); got {gamma!r}")

    def step(state, payoffs):
        devs = _scaled_deviations(payoffs, state.strategies)
        new = tuple(
            _project_to_simplex(x + step_size * x * (d - x @ d), gamma / x.shape[0])
            for x, d in zip(state.strategies, devs)
        )
        return new, state.memory, 1.0

    return _builder("projected_replicator_dynamics", _zeros_like_profile, step, report_average=True)


def regret_matching(plus: bool = False) -> Dynamics:
    """Regret matching (``plus=False``) or regret matching+ (``plus=True``)."""

    def step(state, payoffs):
        devs = _scaled_deviations(payoffs, state.strategies)
        regrets = tuple(r + d - x @ d for r, d, x in zip(state.memory, devs, state.strategies))
        if plus:
            regrets = tuple(jnp.maximum(r, 0.0) for r in regrets)
        new = tuple(_normalise(jnp.maximum(r, 0.0)) for r in regrets)
        # RM+ averages with linearly growing weights (Tammelin et al. 2015).
        weight = (state.step + 1).astype(state.average_weight.dtype) if plus else 1.0
        return new, regrets, weight

    return _builder(
        "regret_matching_plus" if plus else "regret_matching", _zeros_like_profile, step, report_average=True
    )


def optimistic_mwu(step_size: float = 0.1) -> Dynamics:
    """Optimistic multiplicative weights: ``logits += eta (2 g_t - g_{t-1})``, ``x = softmax(logits)``.

    ``memory`` holds ``(logits, last gradient)`` per player, flattened as ``2 n`` arrays.
    """
    check_positive(step_size=step_size)

    def first_memory(payoffs, profile):
        logits = tuple(jnp.log(jnp.maximum(p, 1e-30)) for p in profile)
        return logits + _zeros_like_profile(payoffs, profile)

    def step(state, payoffs):
        n = len(state.strategies)
        logits, last = state.memory[:n], state.memory[n:]
        grads = _scaled_deviations(payoffs, state.strategies)
        logits = tuple(z + step_size * (2 * g - g_old) for z, g, g_old in zip(logits, grads, last))
        logits = tuple(z - jnp.max(z) for z in logits)  # keep exp() in range
        return tuple(jax.nn.softmax(z) for z in logits), logits + tuple(grads), 1.0

    return _builder("optimistic_mwu", first_memory, step, report_average=False)


# ------------------------------------------------------------------------------- solve


def solve(dynamics: Dynamics, payoffs, num_steps: int, profile=None, tol: float = 1e-3) -> DynamicsResult:
    """Run ``num_steps`` updates in ``lax.scan``, recording NashConv and the CCE gap each step.

    Args:
      dynamics: one of the builders above.
      payoffs: ``[n, A_1, ..., A_n]`` payoff tensor.
      num_steps: number of updates (static).
      profile: initial profile (default uniform).
      tol: ``success`` means final NashConv <= ``tol * payoff range`` (learning dynamics converge
        slowly, so the default is looser than the exact solvers').
    """
    payoffs = validate_game(payoffs)
    check_positive(num_steps=num_steps)
    if not jnp.issubdtype(payoffs.dtype, jnp.floating):
        payoffs = payoffs.astype(jnp.float32)
    if profile is not None:
        check_profile(profile, payoffs.shape[1:])
        profile = tuple(profile)
    return _solve(dynamics, payoffs, int(num_steps), profile, float(tol))


@jit_when_concrete(static_argnums=(0, 2, 4))
def _solve(dynamics: Dynamics, payoffs, num_steps: int, profile, tol: float) -> DynamicsResult:
    def reported(state):
        return state.average if dynamics.report_average else state.strategies

    def body(state, _):
        state = dynamics.update(state, payoffs)
        return state, (normal_form.nash_conv(payoffs, reported(state)), cce_gap(payoffs, state.joint_average))

    final, (curve, gaps) = jax.lax.scan(body, dynamics.init(payoffs, profile), None, length=num_steps)
    return DynamicsResult(
        profile=reported(final),
        nash_conv=curve[-1],
        success=curve[-1] <= tol * payoff_range(payoffs),
        last_profile=final.strategies,
        average_profile=final.average,
        nash_conv_curve=curve,
        cce_gap_curve=gaps,
        joint=final.joint_average,
    )
