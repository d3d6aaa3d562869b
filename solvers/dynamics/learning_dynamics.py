"""Learning dynamics for n-player normal-form games, optax style.

Each builder returns a :class:`Dynamics` with pure ``init(payoffs, profile=None) -> state``
and ``update(state, payoffs) -> state``; the state carries ``nash_conv``, the NashConv of the
reported iterate (the convergence measure). :func:`solve` (or ``dynamics.solve``) runs a fixed
number of steps in ``lax.scan`` and records that NashConv at every step (and the CCE gap of
the empirical joint play, which the no-regret dynamics approach). All of them
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

import dataclasses
from typing import Callable, NamedTuple

import chex
import jax
import jax.numpy as jnp
from flax import struct

from marljax import checks
from marljax.solvers.base import jit_when_concrete, payoff_range, profile_option, validated
from marljax.solvers.equilibria.correlated import cce_gap, product_distribution
from marljax.solvers.game import payoffs as normal_form
from marljax.solvers.game.simplex import normalise, project_simplex

__all__ = [
    "Dynamics",
    "DynamicsState",
    "DynamicsResult",
    "DYNAMICS_TOLERANCE",
    "solve",
    "fictitious_play",
    "replicator_dynamics",
    "projected_replicator_dynamics",
    "regret_matching",
    "optimistic_mwu",
]

#: Default ``success`` tolerance of the dynamics, relative to the payoff range (they converge
#: slowly, so looser than the exact solvers').
DYNAMICS_TOLERANCE = 1e-3


@struct.dataclass
class DynamicsState:
    strategies: tuple  # current iterate, one simplex vector per player
    average: tuple  # (weighted) running average of the iterates
    average_weight: chex.Array  # total weight in ``average``
    memory: tuple  # per-player auxiliary: cumulative regrets / logits / last gradient
    joint_average: chex.Array  # empirical joint play [A_1..A_n] (product of the iterates, averaged)
    step: chex.Array
    nash_conv: chex.Array  # [] NashConv of the reported iterate (average or last, per method)


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


class _Rule(NamedTuple):
    """How one dynamic starts and steps: ``first_memory(profile, options)`` and
    ``step(state, payoffs, options) -> (strategies, memory, weight)``."""

    first_memory: Callable
    step: Callable
    report_average: bool


@dataclasses.dataclass(frozen=True)
class Dynamics:
    """A learning dynamic and its hyper-parameters (optax style: pure ``init``/``update``).

    A frozen, hashable value: two builds with equal hyper-parameters are equal, so
    ``dynamics.solve`` (jitted with the dynamic as a static argument) compiles once per game
    shape and hyper-parameters, however often the builder is called.
    """

    name: str
    options: tuple = ()  # sorted (name, value) pairs of plain Python scalars

    @property
    def report_average(self) -> bool:
        return _RULES[self.name].report_average

    def reported(self, state: DynamicsState) -> tuple:
        """The iterate this dynamic reports: the running average or the last iterate."""
        return state.average if self.report_average else state.strategies

    @validated(profile=profile_option)
    def init(self, payoffs, profile=None) -> DynamicsState:
        """The state at ``profile`` (default uniform)."""
        profile = normal_form.uniform_profile(payoffs) if profile is None else tuple(profile)
        memory = _RULES[self.name].first_memory(profile, dict(self.options))
        return DynamicsState(
            strategies=profile,
            average=profile,
            average_weight=jnp.ones((), profile[0].dtype),
            memory=tuple(memory),
            joint_average=product_distribution(profile),
            step=jnp.int32(0),
            nash_conv=normal_form.nash_conv(payoffs, profile),
        )

    def update(self, state: DynamicsState, payoffs) -> DynamicsState:
        """One step: the new iterate, folded into the running averages, and the NashConv of
        the reported one (the convergence measure)."""
        strategies, memory, weight = _RULES[self.name].step(state, payoffs, dict(self.options))
        total = state.average_weight + weight
        mix = weight / total
        average = tuple(a + mix * (s - a) for a, s in zip(state.average, strategies))
        joint = state.joint_average + mix * (product_distribution(strategies) - state.joint_average)
        stepped = DynamicsState(
            strategies=tuple(strategies),
            average=average,
            average_weight=total,
            memory=tuple(memory),
            joint_average=joint,
            step=state.step + 1,
            nash_conv=state.nash_conv,
        )
        return stepped.replace(nash_conv=normal_form.nash_conv(payoffs, self.reported(stepped)))

    def solve(self, payoffs, num_steps: int, profile=None, tol: float = DYNAMICS_TOLERANCE) -> DynamicsResult:
        """``num_steps`` updates in ``lax.scan`` (see :func:`solve`)."""
        return solve(self, payoffs, num_steps, profile, tol)


# ------------------------------------------------------------------------------ helpers


def _scaled_deviations(payoffs: chex.Array, profile) -> list[chex.Array]:
    return [d / payoff_range(payoffs) for d in normal_form.deviation_payoffs(payoffs, profile)]


def _no_memory(profile, options):
    return tuple(jnp.zeros_like(p) for p in profile)


def _replicator_step(x, d, step_size):
    return x + step_size * x * (d - x @ d)


def _build(name: str, **options) -> Dynamics:
    return Dynamics(name, tuple(sorted(options.items())))


# ---------------------------------------------------------------------------- dynamics


def _fictitious_play_step(state, payoffs, options):
    devs = normal_form.deviation_payoffs(payoffs, state.average)
    best = tuple(normal_form.pure_profile(payoffs, [jnp.argmax(d) for d in devs]))
    return best, state.memory, 1.0


def _replicator_dynamics_step(state, payoffs, options):
    devs = _scaled_deviations(payoffs, state.strategies)
    new = tuple(normalise(_replicator_step(x, d, options["step_size"])) for x, d in zip(state.strategies, devs))
    return new, state.memory, 1.0


def _projected_replicator_dynamics_step(state, payoffs, options):
    devs = _scaled_deviations(payoffs, state.strategies)
    new = tuple(
        project_simplex(_replicator_step(x, d, options["step_size"]), floor=options["gamma"] / x.shape[0])
        for x, d in zip(state.strategies, devs)
    )
    return new, state.memory, 1.0


def _regret_matching_step(state, payoffs, options):
    devs = _scaled_deviations(payoffs, state.strategies)
    regrets = tuple(r + d - x @ d for r, d, x in zip(state.memory, devs, state.strategies))
    if options["plus"]:
        regrets = tuple(jnp.maximum(r, 0.0) for r in regrets)
    new = tuple(normalise(r) for r in regrets)
    # RM+ averages with linearly growing weights (Tammelin et al. 2015).
    weight = (state.step + 1).astype(state.average_weight.dtype) if options["plus"] else 1.0
    return new, regrets, weight


def _optimistic_mwu_memory(profile, options):
    logits = tuple(jnp.log(jnp.maximum(p, 1e-30)) for p in profile)
    return logits + _no_memory(profile, options)


def _optimistic_mwu_step(state, payoffs, options):
    n = len(state.strategies)
    logits, last = state.memory[:n], state.memory[n:]
    grads = _scaled_deviations(payoffs, state.strategies)
    logits = tuple(z + options["step_size"] * (2 * g - g_old) for z, g, g_old in zip(logits, grads, last))
    logits = tuple(z - jnp.max(z) for z in logits)  # keep exp() in range
    return tuple(jax.nn.softmax(z) for z in logits), logits + tuple(grads), 1.0


_RULES = {
    "fictitious_play": _Rule(_no_memory, _fictitious_play_step, report_average=True),
    "replicator_dynamics": _Rule(_no_memory, _replicator_dynamics_step, report_average=False),
    "projected_replicator_dynamics": _Rule(_no_memory, _projected_replicator_dynamics_step, report_average=True),
    "regret_matching": _Rule(_no_memory, _regret_matching_step, report_average=True),
    "optimistic_mwu": _Rule(_optimistic_mwu_memory, _optimistic_mwu_step, report_average=False),
}

_STEP_SIZE = checks.number(0.0, open_low=True)


def fictitious_play() -> Dynamics:
    """Simultaneous fictitious play: ``avg_{t+1} = avg_t + (BR(avg_t) - avg_t) / (t + 2)``."""
    return _build("fictitious_play")


@validated(step_size=_STEP_SIZE)
def replicator_dynamics(step_size: float = 0.1) -> Dynamics:
    """Discrete replicator dynamics ``x_a += eta x_a (dev_a - x . dev)`` (payoffs scaled to range 1)."""
    return _build("replicator_dynamics", step_size=step_size)


@validated(step_size=_STEP_SIZE, gamma=checks.number(0.0, 1.0, open_high=True))
def projected_replicator_dynamics(step_size: float = 0.1, gamma: float = 1e-3) -> Dynamics:
    """PRD: ``x <- Proj_{x >= gamma/A}(x + eta x (dev - x . dev))`` (Lanctot et al. 2017)."""
    return _build("projected_replicator_dynamics", step_size=step_size, gamma=gamma)


@validated(plus=checks.boolean())
def regret_matching(plus: bool = False) -> Dynamics:
    """Regret matching (``plus=False``) or regret matching+ (``plus=True``)."""
    return _build("regret_matching", plus=plus)


@validated(step_size=_STEP_SIZE)
def optimistic_mwu(step_size: float = 0.1) -> Dynamics:
    """Optimistic multiplicative weights: ``logits += eta (2 g_t - g_{t-1})``, ``x = softmax(logits)``.

    ``memory`` holds ``(logits, last gradient)`` per player, flattened as ``2 n`` arrays.
    """
    return _build("optimistic_mwu", step_size=step_size)


# ------------------------------------------------------------------------------- solve


@validated(num_steps=checks.integer(1), profile=profile_option, tol=checks.number(0.0))
def solve(dynamics: Dynamics, payoffs, num_steps: int, profile=None, tol: float = DYNAMICS_TOLERANCE) -> DynamicsResult:
    """Run ``num_steps`` updates in ``lax.scan``, recording NashConv and the CCE gap each step.

    Compiled once per game shape, dynamic and options (a top-level call; under ``jit``/``vmap``
    it is inlined).

    Args:
      dynamics: one of the builders above.
      payoffs: ``[n, A_1, ..., A_n]`` payoff tensor.
      num_steps: number of updates (static).
      profile: initial profile (default uniform).
      tol: ``success`` means final NashConv <= ``tol * payoff range`` (learning dynamics converge
        slowly, so the default is looser than the exact solvers').
    """
    if not isinstance(dynamics, Dynamics):
        raise ValueError(f"dynamics must be built by one of {sorted(_RULES)}; got {dynamics!r}")
    return _solve(dynamics, payoffs, num_steps, profile, tol)


@jit_when_concrete(static_argnums=(0, 2, 4))
def _solve(dynamics: Dynamics, payoffs, num_steps: int, profile, tol: float) -> DynamicsResult:
    def body(state, _):
        state = dynamics.update(state, payoffs)
        return state, (state.nash_conv, cce_gap(payoffs, state.joint_average))

    final, (curve, gaps) = jax.lax.scan(body, dynamics.init(payoffs, profile), None, length=num_steps)
    return DynamicsResult(
        profile=dynamics.reported(final),
        nash_conv=final.nash_conv,
        success=final.nash_conv <= tol * payoff_range(payoffs),
        last_profile=final.strategies,
        average_profile=final.average,
        nash_conv_curve=curve,
        cce_gap_curve=gaps,
        joint=final.joint_average,
    )
