"""Risk-averse equilibria (RAE) of n-player normal-form games.

Mean-variance form of Slumbers et al., "A Game-Theoretic Framework for Managing Risk in
Multi-Agent Systems" (ICML 2023). The paper's full text was not available to us; this follows
its abstract, its ICLR version ("minimum variance given any level of expected utility") and the
authors' later DRAE paper (``u = E[R] - gamma * Risk``, solved by stochastic fictitious play).

Player ``i`` plays the mixed strategy ``pi`` (size ``A_i``) against the others' product mixture
``sigma_-i``. With ``b ~ sigma_-i``::

    m[a]        = E_b u_i(a, b)                                   (deviation payoffs)
    Sigma[a,a'] = E_b (u_i(a, b) - m[a]) (u_i(a', b) - m[a'])     (opponent-induced covariance)

and the variance of ``i``'s reward that comes from the opponents' randomness is
``pi^T Sigma pi``. The risk-averse utility, concave in ``pi``, is::

    U_i(pi, sigma) = pi^T m - gamma * pi^T Sigma pi  (+ tau * H(pi) when smoothed),  gamma >= 0.

* The **risk-averse best response** maximises ``U_i`` over the simplex: a concave QP, solved by
  accelerated projected gradient (FISTA) and then polished exactly by solving the KKT system on
  the support it found (``(m - 2 gamma Sigma pi)_a = lambda`` on the support, ``pi_a = 0`` off it)
  -- exact to float precision (1e-8 and better in float64).
* The **smoothed best response** (``tau > 0``) is the unique maximiser of ``U_i + tau H``, the
  fixed point ``pi = softmax((m - 2 gamma Sigma pi) / tau)``, found by entropic mirror ascent.
* The **RAE** is a profile in which every player risk-averse best responds (exists by
  Kakutani: ``U_i`` is concave in ``pi``). It is found by (stochastic) fictitious play,
  ``pi_{t+1} = (1 - a_t) pi_t + a_t BR_{gamma,tau}(pi_t)`` with ``a_t = 1/(t+2)`` (the initial
  profile counts as the first sample) or a constant step, followed (``tau = 0``) by a Newton
  polish of the equilibrium conditions on the supports fictitious play identified; the polish
  is kept only when it lowers the RA-gap.
* The **RA-gap** ``sum_i max_pi' U_i(pi', sigma_-i) - U_i(pi_i, sigma_-i)`` is zero exactly at an
  RAE. With ``gamma = 0`` it is NashConv, and RAE = Nash.
* **Markowitz form** (``markowitz_level=rho``): each player minimises ``pi^T Sigma pi`` subject to
  ``pi^T m >= rho max m + (1 - rho) min m``. Its solution lies on the mean-variance frontier,
  ``BR_{gamma'}`` for the largest ``gamma'`` that meets the target, found by bisection on
  ``log gamma'`` (the expected payoff of ``BR_{gamma'}`` falls as ``gamma'`` grows).

Every pure Nash equilibrium is also an RAE (a pure opponent adds no variance), so which
equilibrium fictitious play selects depends on where it starts: :func:`solve` takes the
initial profile (uniform by default). Masks (one boolean vector per player) restrict players to
a subset of their actions; PSRO uses them for its preallocated populations.
"""

from __future__ import annotations

import functools
import itertools
import warnings
from typing import Callable, NamedTuple, Sequence

import chex
import jax
import jax.numpy as jnp
from flax import struct
from jax.scipy.special import entr

from marljax import checks
from marljax.solvers.base import (
    jit_when_concrete,
    masks_option,
    payoff_range,
    profile_option,
    strategy_masks,
    validated,
)
from marljax.solvers.game.payoffs import expected_payoffs, nash_conv
from marljax.solvers.game.simplex import normalise, project_simplex, uniform_on

__all__ = [
    "opponent_moments",
    "risk_averse_utility",
    "reward_variance",
    "risk",
    "risk_averse_best_response",
    "smoothed_best_response",
    "markowitz_best_response",
    "ra_gap",
    "RAEState",
    "RAEResult",
    "RAESolver",
    "rae_solver",
    "solve",
]

Profile = Sequence[chex.Array]
SUPPORT_TOLERANCES = (1e-2, 1e-3, 1e-4)  # support guesses tried by the Newton polish


# ------------------------------------------------------------------------- moments and utility


def opponent_moments(payoffs: chex.Array, profile: Profile, player: int):
    """``(m [A_i], Sigma [A_i, A_i])`` of player ``player``'s payoffs under the others' mixture."""
    u = jnp.moveaxis(payoffs[player], player, 0)
    u = u.reshape(u.shape[0], -1)
    # Joint weights of the opponents' pure profiles, in the order of the flattened axes.
    weights = jnp.ones((1,), u.dtype)
    for j, p in enumerate(profile):
        if j != player:
            weights = jnp.outer(weights, p).ravel()
    mean = u @ weights
    centred = u - mean[:, None]  # centre first: E[uu^T] - mm^T loses precision in float32
    cov = (centred * weights) @ centred.T
    return mean, cov


def _utility(pi, mean, cov, gamma, temperature=0.0):
    return pi @ mean - gamma * pi @ cov @ pi + temperature * jnp.sum(entr(pi))


_GAMMA = checks.number(0.0)  # risk aversion: finite (gamma = inf has no best response)
_TEMPERATURE = checks.number(0.0)


@validated(profile=profile_option, gamma=_GAMMA, temperature=_TEMPERATURE)
def risk_averse_utility(payoffs: chex.Array, profile: Profile, gamma, temperature=0.0) -> chex.Array:
    """``[n]``: ``U_i = pi_i^T m_i - gamma pi_i^T Sigma_i pi_i (+ tau H(pi_i))`` for every player."""
    return jnp.stack(
        [_utility(p, *opponent_moments(payoffs, profile, i), gamma, temperature) for i, p in enumerate(profile)]
    )


@validated(profile=profile_option)
def risk(payoffs: chex.Array, profile: Profile) -> chex.Array:
    """``[n]``: ``pi_i^T Sigma_i pi_i``, the part of each player's reward variance that comes from
    the opponents' randomness (what the risk-averse utility penalises)."""
    return jnp.stack([p @ opponent_moments(payoffs, profile, i)[1] @ p for i, p in enumerate(profile)])


@validated(profile=profile_option)
def reward_variance(payoffs: chex.Array, profile: Profile) -> chex.Array:
    """``[n]``: the total variance of each player's reward when everyone samples the profile
    (own randomisation included): ``E[u_i^2] - E[u_i]^2``."""
    out = []
    for i, p in enumerate(profile):
        mean, cov = opponent_moments(payoffs, profile, i)
        out.append(p @ (jnp.diag(cov) + mean**2) - (p @ mean) ** 2)
    return jnp.maximum(jnp.stack(out), 0.0)


# --------------------------------------------------------------------------- best responses


def _full_mask(mean, mask):
    return jnp.ones(mean.shape, bool) if mask is None else mask


def _kkt_polish(mean, cov, gamma, pi, mask):
    """Solve the QP's KKT system on the support of ``pi``: exact when the support is right."""
    a = mean.shape[0]
    support = (pi > 0) & mask
    hessian = 2.0 * gamma * cov
    rows = jnp.concatenate([hessian * support[None, :], jnp.ones((a, 1), mean.dtype)], axis=1)
    identity_rows = jnp.concatenate([jnp.eye(a, dtype=mean.dtype), jnp.zeros((a, 1), mean.dtype)], axis=1)
    kkt = jnp.where(support[:, None], rows, identity_rows)
    kkt = jnp.concatenate([kkt, jnp.concatenate([support.astype(mean.dtype), jnp.zeros((1,), mean.dtype)])[None]])
    rhs = jnp.concatenate([jnp.where(support, mean, 0.0), jnp.ones((1,), mean.dtype)])
    solution = jnp.linalg.lstsq(kkt, rhs)[0][:a]
    polished = jnp.where(support & jnp.isfinite(solution), jnp.maximum(solution, 0.0), 0.0)
    total = jnp.sum(polished)
    # A wrong support (or a singular system) can leave nothing usable: then keep FISTA's point.
    return jnp.where(total > 0.5, polished / jnp.maximum(total, 0.5), pi)


def risk_averse_best_response(mean, cov, gamma, mask=None, num_iters: int = 300, init=None) -> chex.Array:
    """``argmax_{pi in simplex(mask)} pi^T mean - gamma pi^T cov pi`` (concave QP).

    FISTA with step ``1 / lambda_max(2 gamma cov)`` from ``init`` (default uniform on the mask),
    for at most ``num_iters`` steps: it stops once a step moves the iterate by less than ten
    float epsilons (a warm start near the answer stops at once). Then the KKT system is solved on
    the support FISTA found; the polished point is kept when its utility is at least FISTA's.
    With ``gamma = 0`` the answer is the pure best response (lowest index among ties).
    """
    mask = _full_mask(mean, mask)
    # gamma = 0 is a linear program over the simplex: its answer is a pure best response.
    pure = jax.nn.one_hot(jnp.argmax(jnp.where(mask, mean, -jnp.inf)), mean.shape[0], dtype=mean.dtype)
    if isinstance(gamma, (int, float)) and gamma == 0:
        return pure  # known before tracing: no QP to compile
    hessian = 2.0 * gamma * cov
    spread = jnp.max(jnp.where(mask, mean, -jnp.inf)) - jnp.min(jnp.where(mask, mean, jnp.inf))
    # Overestimating L is safe (smaller steps); the floor keeps steps moderate when gamma -> 0.
    lipschitz = jnp.maximum(jnp.linalg.eigvalsh(hessian)[-1], 1e-2 * spread + 1e-6)
    x0 = uniform_on(mask, mean.dtype) if init is None else init

    threshold = 10.0 * jnp.finfo(mean.dtype).eps

    def moving(carry):
        step, _, _, _, change = carry
        return (step < num_iters) & (change > threshold)

    def fista(carry):
        step, x, y, t, _ = carry
        gradient = mean - hessian @ y
        # The projection ignores constant shifts; centring keeps float32 steps precise.
        gradient = gradient - jnp.sum(jnp.where(mask, gradient, 0.0)) / jnp.sum(mask)
        x_next = project_simplex(y + gradient / lipschitz, mask)
        t_next = 0.5 * (1.0 + jnp.sqrt(1.0 + 4.0 * t * t))
        change = jnp.max(jnp.abs(x_next - x))
        return step + 1, x_next, x_next + ((t - 1.0) / t_next) * (x_next - x), t_next, change

    one = jnp.ones((), mean.dtype)
    _, x, _, _, _ = jax.lax.while_loop(moving, fista, (jnp.int32(0), x0, x0, one, one))
    polished = _kkt_polish(mean, cov, gamma, x, mask)
    better = _utility(polished, mean, cov, gamma) >= _utility(x, mean, cov, gamma)
    return jnp.where(gamma == 0, pure, jnp.where(better, polished, x))


def smoothed_best_response(mean, cov, gamma, temperature, mask=None, num_iters: int = 500) -> chex.Array:
    """The unique maximiser of ``pi^T mean - gamma pi^T cov pi + tau H(pi)`` (``tau > 0``):
    the fixed point of ``pi = softmax((mean - 2 gamma cov pi) / tau)``, by entropic mirror ascent
    ``logits <- (1 - eta tau) logits + eta (mean - 2 gamma cov pi)``, ``eta = 1/(L + tau)``."""
    mask = _full_mask(mean, mask)
    hessian = 2.0 * gamma * cov
    eta = 1.0 / (jnp.linalg.eigvalsh(hessian)[-1] + temperature)

    def ascent(_, logits):
        pi = jax.nn.softmax(jnp.where(mask, logits, -jnp.inf))
        return (1.0 - eta * temperature) * logits + eta * (mean - hessian @ pi)

    logits = jax.lax.fori_loop(0, num_iters, ascent, mean / temperature)
    return jax.nn.softmax(jnp.where(mask, logits, -jnp.inf))


def _markowitz_target(mean, level, mask):
    best = jnp.max(jnp.where(mask, mean, -jnp.inf))
    worst = jnp.min(jnp.where(mask, mean, jnp.inf))
    return level * best + (1.0 - level) * worst


def markowitz_best_response(mean, cov, level, mask=None, num_iters: int = 200, bisections: int = 24) -> chex.Array:
    """``argmin pi^T cov pi`` s.t. ``pi^T mean >= level max(mean) + (1 - level) min(mean)``.

    The constrained optimum is a mean-variance best response ``BR_{gamma'}`` (``1/gamma'`` is the
    constraint's multiplier); bisection on ``log gamma'`` finds the largest ``gamma'`` that meets
    the target (the least variance that does).
    """
    mask = _full_mask(mean, mask)
    target = _markowitz_target(mean, level, mask)
    scale = jnp.maximum(jnp.max(jnp.where(mask, mean, -jnp.inf)) - jnp.min(jnp.where(mask, mean, jnp.inf)), 1e-12)
    scale = scale / (jnp.linalg.eigvalsh(cov)[-1] + 1e-12)
    respond = lambda log_g: risk_averse_best_response(mean, cov, scale * jnp.exp(log_g), mask, num_iters)  # noqa: E731
    meets = lambda pi: pi @ mean >= target - 1e-6 * (1.0 + jnp.abs(target))  # noqa: E731

    def bisect(_, bounds):
        low, high = bounds  # BR at `low` meets the target
        mid = 0.5 * (low + high)
        ok = meets(respond(mid))
        return jnp.where(ok, mid, low), jnp.where(ok, high, mid)

    low_start, high_start = jnp.asarray(-12.0, mean.dtype), jnp.asarray(12.0, mean.dtype)
    low, _ = jax.lax.fori_loop(0, bisections, bisect, (low_start, high_start))
    low = jnp.where(meets(respond(high_start)), high_start, low)
    return respond(low)


class _Responder(NamedTuple):
    """How a player best responds, and the value it scores (higher is better)."""

    respond: Callable  # (mean, cov, mask, start) -> pi; ``start`` a warm start (or None)
    value: Callable  # (pi, mean, cov, mask) -> scalar


def _responder(gamma, temperature, markowitz_level, br_iters) -> _Responder:
    if markowitz_level is not None:

        def value(pi, mean, cov, mask):
            shortfall = jnp.maximum(_markowitz_target(mean, markowitz_level, mask) - pi @ mean, 0.0)
            return -(pi @ cov @ pi) - shortfall

        return _Responder(lambda m, c, k, start: markowitz_best_response(m, c, markowitz_level, k, br_iters), value)
    if temperature > 0:
        return _Responder(
            lambda m, c, k, start: smoothed_best_response(m, c, gamma, temperature, k, max(br_iters, 500)),
            lambda pi, m, c, k: _utility(pi, m, c, gamma, temperature),
        )
    return _Responder(
        lambda m, c, k, start: risk_averse_best_response(m, c, gamma, k, br_iters, start),
        lambda pi, m, c, k: _utility(pi, m, c, gamma),
    )


def _best_response_values(payoffs, profile, responder: _Responder, masks, starts=None):
    """Per player: (best response, its value, the value of the current strategy); ``starts``
    warm-start the best responses (e.g. the previous ones)."""
    out = []
    starts = (None,) * len(profile) if starts is None else starts
    for i, (pi, mask, start) in enumerate(zip(profile, masks, starts)):
        mean, cov = opponent_moments(payoffs, profile, i)
        br = responder.respond(mean, cov, mask, start)
        out.append((br, responder.value(br, mean, cov, mask), responder.value(pi, mean, cov, mask)))
    return out


def _respond(payoffs, profile, responder: _Responder, masks, starts=None):
    """``(best responses to profile, its RA-gap)``: the gap is what the responses gain."""
    values = _best_response_values(payoffs, profile, responder, masks, starts)
    return tuple(br for br, _, _ in values), sum(jnp.maximum(best - now, 0.0) for _, best, now in values)


def _gap(payoffs, profile, responder, masks):
    return _respond(payoffs, profile, responder, masks)[1]


@validated(profile=profile_option, gamma=_GAMMA, temperature=_TEMPERATURE, masks=masks_option)
def ra_gap(payoffs, profile, gamma, temperature: float = 0.0, masks=None, br_iters: int = 300) -> chex.Array:
    """``sum_i max_pi' U_i(pi', sigma_-i) - U_i(pi_i, sigma_-i)``: zero exactly at an RAE
    (NashConv when ``gamma = 0``)."""
    masks = strategy_masks(payoffs.shape[1:], masks)
    return _gap(payoffs, profile, _responder(gamma, temperature, None, br_iters), masks)


# ------------------------------------------------------------------------------- the solver

#: Default ``success`` tolerance of the RA-gap, relative to the payoff range.
RAE_TOLERANCE = 1e-4


@struct.dataclass
class RAEState:
    profile: tuple  # one [A_i] strategy per player (the fictitious-play average)
    responses: tuple  # the best responses to ``profile`` (the next step mixes them in; warm starts)
    ra_gap: chex.Array  # [] RA-gap of ``profile`` (what ``responses`` gain): the convergence measure
    masks: tuple  # one [A_i] bool per player: the strategies that may be played
    step: chex.Array  # [] int32


@struct.dataclass
class RAEResult:
    """``success``: the RA-gap is within ``tol * payoff range`` (the profile is an RAE)."""

    profile: tuple  # the risk-averse equilibrium, one [A_i] simplex vector per player
    nash_conv: chex.Array  # [] NashConv of the profile (zero iff it is also a Nash equilibrium)
    success: chex.Array  # [] bool
    ra_gap: chex.Array  # [] sum over players of the risk-averse best-response gain
    variance: chex.Array  # [n] total reward variance of each player under the profile
    risk: chex.Array  # [n] pi_i^T Sigma_i pi_i, the opponent-induced variance U_i penalises
    expected_payoff: chex.Array  # [n]
    iterations: chex.Array  # [] fictitious-play steps taken


class RAESolver(NamedTuple):
    init: Callable  # (payoffs, profile=None, masks=None) -> RAEState
    update: Callable  # (state, payoffs) -> RAEState
    solve: Callable  # (payoffs, profile=None, masks=None) -> RAEResult


@validated(
    gamma=checks.optional(_GAMMA),
    temperature=_TEMPERATURE,
    num_iters=checks.integer(1),
    step_size=checks.optional(checks.number(0.0, 1.0, open_low=True)),
    markowitz_level=checks.optional(checks.number(0.0, 1.0)),
    br_iters=checks.integer(1),
    polish=checks.boolean(),
    tol=checks.number(0.0),
)
def rae_solver(
    gamma: float | None,
    temperature: float = 0.0,
    num_iters: int = 1000,
    step_size: float | None = None,
    markowitz_level: float | None = None,
    br_iters: int = 300,
    polish: bool = True,
    tol: float = RAE_TOLERANCE,
) -> RAESolver:
    """Fictitious play on risk-averse best responses (optax style: pure ``init``/``update``).

    ``gamma`` has no default here: the default risk aversion lives once, in the ``rae`` entry
    of :mod:`marljax.solvers.registry`. ``step_size=None`` averages (``a_t = 1/(t+2)``); a
    float is a constant step. ``temperature > 0`` gives stochastic fictitious play on smoothed
    best responses. ``markowitz_level`` in [0, 1] switches to the constrained form (then
    ``gamma`` is unused and may be None).

    The state holds the best responses to its profile and the RA-gap they give, so every
    ``update`` reports its convergence measure for the price of the step itself: it mixes the
    held responses in, then best responds to the new profile, warm-started from the old
    responses (FISTA stops after a few steps once fictitious play settles). ``init`` and
    ``solve`` validate the game (integers promote to float), the profile and the masks. Equal
    options give the same solver object, so jitting its ``solve`` compiles once.
    ``success``: RA-gap <= ``tol * payoff range``.
    """
    if markowitz_level is None and gamma is None:
        raise ValueError("gamma is required (the risk aversion, >= 0) unless markowitz_level is given")
    gamma = 0.0 if gamma is None else gamma
    return _rae_solver(gamma, temperature, num_iters, step_size, markowitz_level, br_iters, polish, tol)


@functools.lru_cache(maxsize=64)
def _rae_solver(gamma, temperature, num_iters, step_size, markowitz_level, br_iters, polish, tol) -> RAESolver:
    responder = _responder(gamma, temperature, markowitz_level, br_iters)
    polishing = polish and temperature == 0 and markowitz_level is None

    def init(payoffs, profile=None, masks=None) -> RAEState:
        masks = strategy_masks(payoffs.shape[1:], masks)
        if profile is None:
            profile = tuple(uniform_on(m, payoffs.dtype) for m in masks)
        profile = tuple(jnp.asarray(p, payoffs.dtype) for p in profile)
        responses, gap = _respond(payoffs, profile, responder, masks, starts=profile)
        return RAEState(profile=profile, responses=responses, ra_gap=gap, masks=masks, step=jnp.zeros((), jnp.int32))

    def update(state: RAEState, payoffs) -> RAEState:
        rate = 1.0 / (state.step + 2.0) if step_size is None else step_size
        profile = tuple((1.0 - rate) * p + rate * br for p, br in zip(state.profile, state.responses))
        responses, gap = _respond(payoffs, profile, responder, state.masks, starts=state.responses)
        return state.replace(profile=profile, responses=responses, ra_gap=gap, step=state.step + 1)

    def solve(payoffs, profile=None, masks=None) -> RAEResult:
        state = init(payoffs, profile, masks)
        state = jax.lax.fori_loop(0, num_iters, lambda _, s: update(s, payoffs), state)
        profile, gap = _polished(payoffs, state, gamma, responder) if polishing else (state.profile, state.ra_gap)
        return _result(payoffs, profile, gap, state.step, tol)

    checked = validated(profile=profile_option, masks=masks_option)
    return RAESolver(checked(init), update, checked(solve))


@validated(profile=profile_option, masks=masks_option, init_profile=profile_option)
def solve(
    payoffs: chex.Array,
    gamma: float | None,
    *,
    profile: Profile | None = None,
    masks: Sequence[chex.Array] | None = None,
    temperature: float = 0.0,
    num_iters: int = 1000,
    step_size: float | None = None,
    markowitz_level: float | None = None,
    br_iters: int = 300,
    polish: bool = True,
    tol: float = RAE_TOLERANCE,
    init_profile: Profile | None = None,
) -> RAEResult:
    """Risk-averse equilibrium of ``payoffs [n, A_1..A_n]`` by fictitious play from
    ``profile`` (uniform by default); see :func:`rae_solver` for the options. Compiled
    once per game shape and options. ``init_profile`` is the deprecated name of ``profile``.

    >>> from marljax.envs.matrix import stag_hunt
    >>> start = (jnp.array([0.9, 0.1]),) * 2
    >>> solve(stag_hunt(), gamma=2.0, profile=start).profile  # hare/hare, risk dominant
    """
    if init_profile is not None:
        if profile is not None:
            raise ValueError("give the initial profile once, as profile (init_profile is its deprecated name)")
        warnings.warn("rae.solve(init_profile=...) is deprecated; use profile=...", DeprecationWarning, stacklevel=3)
        profile = init_profile
    solver = rae_solver(gamma, temperature, num_iters, step_size, markowitz_level, br_iters, polish, tol)
    return _solve(solver, payoffs, profile, masks)


@jit_when_concrete(static_argnums=(0,))
def _solve(solver: RAESolver, payoffs, profile, masks) -> RAEResult:
    return solver.solve(payoffs, profile, masks)


# ---------------------------------------------------------------------------------- helpers


def _polished(payoffs, state: RAEState, gamma, responder):
    """Newton on the RAE conditions for each support guess; keep whichever profile (the
    fictitious-play one, whose gap the state holds, included) has the smallest RA-gap. Returns
    ``(profile, its gap)``. The guesses and their gaps are vmapped: each is traced once."""
    profile, masks = state.profile, state.masks
    tolerances = jnp.asarray(SUPPORT_TOLERANCES, profile[0].dtype)
    polished = jax.vmap(lambda tol: _newton_polish(payoffs, profile, gamma, masks, tol))(tolerances)
    candidates = tuple(jnp.concatenate([p[None], q]) for p, q in zip(profile, polished))
    polished_gaps = jax.vmap(lambda c: _gap(payoffs, c, responder, masks))(polished)
    gaps = jnp.concatenate([jnp.reshape(state.ra_gap, (1,)).astype(polished_gaps.dtype), polished_gaps])
    best = jnp.argmin(jnp.where(jnp.isfinite(gaps), gaps, jnp.inf))
    return tuple(c[best] for c in candidates), gaps[best]


def _newton_polish(payoffs, profile, gamma, masks, support_tol, steps: int = 12):
    """Solve ``(m_i - 2 gamma Sigma_i pi_i)_a = lambda_i`` on each support, ``pi_i = 0`` off it,
    ``sum pi_i = 1``, for every player at once (Newton with least-squares steps)."""
    sizes = [p.shape[0] for p in profile]
    supports = [(p > support_tol) & m for p, m in zip(profile, masks)]
    splits = list(itertools.accumulate(sizes))[:-1]

    def unpack(x):
        pis = jnp.split(x[: sum(sizes)], splits)
        return pis, x[sum(sizes) :]

    def residual(x):
        pis, lams = unpack(x)
        out = []
        for i, (pi, support) in enumerate(zip(pis, supports)):
            mean, cov = opponent_moments(payoffs, pis, i)
            out.append(jnp.where(support, mean - 2.0 * gamma * cov @ pi - lams[i], pi))
        return jnp.concatenate(out + [jnp.stack([jnp.sum(pi) - 1.0 for pi in pis])])

    start_pis = [normalise(p, s) for p, s in zip(profile, supports)]
    start_lams = [p @ opponent_moments(payoffs, profile, i)[0] for i, p in enumerate(profile)]
    x = jnp.concatenate(start_pis + [jnp.stack(start_lams)])

    def newton(_, x):
        return x - jnp.linalg.lstsq(jax.jacfwd(residual)(x), residual(x))[0]

    pis, _ = unpack(jax.lax.fori_loop(0, steps, newton, x))
    pis = [jnp.where(m & jnp.isfinite(p), jnp.maximum(p, 0.0), 0.0) for p, m in zip(pis, masks)]
    return tuple(jnp.where(jnp.sum(p) > 0, normalise(p), original) for p, original in zip(pis, profile))


def _result(payoffs, profile, gap, steps, tol) -> RAEResult:
    return RAEResult(
        profile=tuple(profile),
        nash_conv=nash_conv(payoffs, profile),
        success=gap <= tol * payoff_range(payoffs),
        ra_gap=gap,
        variance=reward_variance(payoffs, profile),
        risk=risk(payoffs, profile),
        expected_payoff=expected_payoffs(payoffs, profile),
        iterations=steps,
    )
