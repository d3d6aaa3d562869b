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
from typing import Callable, NamedTuple, Sequence

import chex
import jax
import jax.numpy as jnp
from flax import struct
from jax.scipy.special import entr

from marljax.checks import check_payoffs, check_profile, is_concrete
from marljax.solvers.base import strategy_masks
from marljax.solvers.game.payoffs import expected_payoffs, nash_conv

__all__ = [
    "opponent_moments",
    "risk_averse_utility",
    "reward_variance",
    "risk",
    "project_simplex",
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


def risk_averse_utility(payoffs: chex.Array, profile: Profile, gamma, temperature=0.0) -> chex.Array:
    """``[n]``: ``U_i = pi_i^T m_i - gamma pi_i^T Sigma_i pi_i (+ tau H(pi_i))`` for every player."""
    payoffs, profile = _validated(payoffs, profile)
    return jnp.stack(
        [_utility(p, *opponent_moments(payoffs, profile, i), gamma, temperature) for i, p in enumerate(profile)]
    )


def risk(payoffs: chex.Array, profile: Profile) -> chex.Array:
    """``[n]``: ``pi_i^T Sigma_i pi_i``, the part of each player's reward variance that comes from
    the opponents' randomness (what the risk-averse utility penalises)."""
    payoffs, profile = _validated(payoffs, profile)
    return jnp.stack([p @ opponent_moments(payoffs, profile, i)[1] @ p for i, p in enumerate(profile)])


def reward_variance(payoffs: chex.Array, profile: Profile) -> chex.Array:
    """``[n]``: the total variance of each player's reward when everyone samples the profile
    (own randomisation included): ``E[u_i^2] - E[u_i]^2``."""
    payoffs, profile = _validated(payoffs, profile)
    out = []
    for i, p in enumerate(profile):
        mean, cov = opponent_moments(payoffs, profile, i)
        out.append(p @ (jnp.diag(cov) + mean**2) - (p @ mean) ** 2)
    return jnp.maximum(jnp.stack(out), 0.0)


# --------------------------------------------------------------------------- best responses


def project_simplex(x: chex.Array, mask: chex.Array | None = None) -> chex.Array:
    """Euclidean projection onto the simplex (Duchi et al., 2008), restricted to ``mask``.

    An entry gets weight iff it exceeds the threshold ``theta >= max(x) - 1``, so masked entries
    set to ``max(x) - 2`` get exactly zero.
    """
    if mask is not None:
        top = jnp.max(jnp.where(mask, x, -jnp.inf))
        x = jnp.where(mask, x, top - 2.0)
    u = jnp.sort(x)[::-1]
    css = jnp.cumsum(u)
    k = jnp.arange(1, x.shape[0] + 1, dtype=x.dtype)
    rho = jnp.max(jnp.where(u - (css - 1.0) / k > 0, k, 1.0))
    theta = (jnp.take(css, rho.astype(jnp.int32) - 1) - 1.0) / rho
    return jnp.maximum(x - theta, 0.0)


def _full_mask(mean, mask):
    return jnp.ones(mean.shape, bool) if mask is None else mask


def _uniform_on(mask, dtype):
    return mask.astype(dtype) / jnp.sum(mask)


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

    FISTA with step ``1 / lambda_max(2 gamma cov)``, then the KKT system is solved on the support
    FISTA found; the polished point is kept when its utility is at least FISTA's. With
    ``gamma = 0`` the answer is the pure best response (lowest index among ties).
    """
    mask = _full_mask(mean, mask)
    hessian = 2.0 * gamma * cov
    spread = jnp.max(jnp.where(mask, mean, -jnp.inf)) - jnp.min(jnp.where(mask, mean, jnp.inf))
    # Overestimating L is safe (smaller steps); the floor keeps steps moderate when gamma -> 0.
    lipschitz = jnp.maximum(jnp.linalg.eigvalsh(hessian)[-1], 1e-2 * spread + 1e-6)
    x0 = _uniform_on(mask, mean.dtype) if init is None else init

    def fista(_, carry):
        x, y, t = carry
        gradient = mean - hessian @ y
        # The projection ignores constant shifts; centring keeps float32 steps precise.
        gradient = gradient - jnp.sum(jnp.where(mask, gradient, 0.0)) / jnp.sum(mask)
        x_next = project_simplex(y + gradient / lipschitz, mask)
        t_next = 0.5 * (1.0 + jnp.sqrt(1.0 + 4.0 * t * t))
        return x_next, x_next + ((t - 1.0) / t_next) * (x_next - x), t_next

    x, _, _ = jax.lax.fori_loop(0, num_iters, fista, (x0, x0, jnp.ones((), mean.dtype)))
    polished = _kkt_polish(mean, cov, gamma, x, mask)
    better = _utility(polished, mean, cov, gamma) >= _utility(x, mean, cov, gamma)
    # gamma = 0 is a linear program over the simplex: its answer is a pure best response.
    pure = jax.nn.one_hot(jnp.argmax(jnp.where(mask, mean, -jnp.inf)), mean.shape[0], dtype=mean.dtype)
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

    respond: Callable  # (mean, cov, mask) -> pi
    value: Callable  # (pi, mean, cov, mask) -> scalar


def _responder(gamma, temperature, markowitz_level, br_iters) -> _Responder:
    if markowitz_level is not None:

        def value(pi, mean, cov, mask):
            shortfall = jnp.maximum(_markowitz_target(mean, markowitz_level, mask) - pi @ mean, 0.0)
            return -(pi @ cov @ pi) - shortfall

        return _Responder(lambda m, c, k: markowitz_best_response(m, c, markowitz_level, k, br_iters), value)
    if temperature > 0:
        return _Responder(
            lambda m, c, k: smoothed_best_response(m, c, gamma, temperature, k, max(br_iters, 500)),
            lambda pi, m, c, k: _utility(pi, m, c, gamma, temperature),
        )
    return _Responder(
        lambda m, c, k: risk_averse_best_response(m, c, gamma, k, br_iters),
        lambda pi, m, c, k: _utility(pi, m, c, gamma),
    )


def _best_response_values(payoffs, profile, responder: _Responder, masks):
    """Per player: (best response, its value, the value of the current strategy)."""
    out = []
    for i, (pi, mask) in enumerate(zip(profile, masks)):
        mean, cov = opponent_moments(payoffs, profile, i)
        br = responder.respond(mean, cov, mask)
        out.append((br, responder.value(br, mean, cov, mask), responder.value(pi, mean, cov, mask)))
    return out


def _gap(payoffs, profile, responder, masks):
    return sum(
        jnp.maximum(best - now, 0.0) for _, best, now in _best_response_values(payoffs, profile, responder, masks)
    )


def ra_gap(payoffs, profile, gamma, temperature: float = 0.0, masks=None, br_iters: int = 300) -> chex.Array:
    """``sum_i max_pi' U_i(pi', sigma_-i) - U_i(pi_i, sigma_-i)``: zero exactly at an RAE
    (NashConv when ``gamma = 0``)."""
    payoffs, profile = _validated(payoffs, profile)
    _check_risk_args(gamma, temperature, None)
    masks = _masks(profile, masks)
    return _gap(payoffs, profile, _responder(gamma, temperature, None, br_iters), masks)


# ------------------------------------------------------------------------------- the solver


@struct.dataclass
class RAEState:
    profile: tuple  # one [A_i] strategy per player (the fictitious-play average)
    step: chex.Array  # [] int32


@struct.dataclass
class RAEResult:
    profile: tuple  # the risk-averse equilibrium, one [A_i] simplex vector per player
    ra_gap: chex.Array  # [] sum over players of the risk-averse best-response gain
    nash_conv: chex.Array  # [] NashConv of the profile (zero iff it is also a Nash equilibrium)
    variance: chex.Array  # [n] total reward variance of each player under the profile
    risk: chex.Array  # [n] pi_i^T Sigma_i pi_i, the opponent-induced variance U_i penalises
    expected_payoff: chex.Array  # [n]
    iterations: chex.Array  # [] fictitious-play steps taken


class RAESolver(NamedTuple):
    init: Callable  # (payoffs, profile=None, masks=None) -> RAEState
    update: Callable  # (payoffs, state, masks=None) -> RAEState
    solve: Callable  # (payoffs, profile=None, masks=None) -> RAEResult


def rae_solver(
    gamma: float | None = 0.0,
    temperature: float = 0.0,
    num_iters: int = 1000,
    step_size: float | None = None,
    markowitz_level: float | None = None,
    br_iters: int = 300,
    polish: bool = True,
) -> RAESolver:
    """Fictitious play on risk-averse best responses (optax style: pure ``init``/``update``).

    ``step_size=None`` averages (``a_t = 1/(t+2)``); a float is a constant step. ``temperature
    > 0`` gives stochastic fictitious play on smoothed best responses. ``markowitz_level`` in
    [0, 1] switches to the constrained form (then ``gamma`` is unused and may be None).
    """
    _check_risk_args(gamma, temperature, markowitz_level)
    if not (isinstance(num_iters, int) and num_iters > 0):
        raise ValueError(f"num_iters must be a positive int; got {num_iters!r}")
    if step_size is not None and not 0.0 < step_size <= 1.0:
        raise ValueError(f"step_size must be in (0, 1] (or None for 1/(t+2)); got {step_size!r}")
    gamma = 0.0 if gamma is None else float(gamma)
    responder = _responder(gamma, temperature, markowitz_level, br_iters)

    def init(payoffs, profile=None, masks=None) -> RAEState:
        masks = _masks(payoffs.shape[1:], masks)
        if profile is None:
            profile = tuple(_uniform_on(m, payoffs.dtype) for m in masks)
        return RAEState(profile=tuple(jnp.asarray(p, payoffs.dtype) for p in profile), step=jnp.zeros((), jnp.int32))

    def update(payoffs, state: RAEState, masks=None) -> RAEState:
        masks = _masks(payoffs.shape[1:], masks)
        rate = 1.0 / (state.step + 2.0) if step_size is None else step_size
        brs = [br for br, _, _ in _best_response_values(payoffs, state.profile, responder, masks)]
        profile = tuple((1.0 - rate) * p + rate * br for p, br in zip(state.profile, brs))
        return RAEState(profile=profile, step=state.step + 1)

    def solve(payoffs, profile=None, masks=None) -> RAEResult:
        masks = _masks(payoffs.shape[1:], masks)
        state = init(payoffs, profile, masks)
        state = jax.lax.fori_loop(0, num_iters, lambda _, s: update(payoffs, s, masks), state)
        profile = state.profile
        if polish and temperature == 0 and markowitz_level is None:
            profile = _polished(payoffs, profile, gamma, responder, masks)
        return _result(payoffs, profile, _gap(payoffs, profile, responder, masks), state.step)

    return RAESolver(init, update, solve)


def solve(
    payoffs: chex.Array,
    gamma: float | None,
    *,
    init_profile: Profile | None = None,
    masks: Sequence[chex.Array] | None = None,
    temperature: float = 0.0,
    num_iters: int = 1000,
    step_size: float | None = None,
    markowitz_level: float | None = None,
    br_iters: int = 300,
    polish: bool = True,
) -> RAEResult:
    """Risk-averse equilibrium of ``payoffs [n, A_1..A_n]`` by fictitious play from
    ``init_profile`` (uniform by default); see :func:`rae_solver` for the options.

    >>> from marljax.envs.matrix import stag_hunt
    >>> start = (jnp.array([0.9, 0.1]),) * 2
    >>> solve(stag_hunt(), gamma=2.0, init_profile=start).profile  # hare/hare, risk dominant
    """
    payoffs = jnp.asarray(payoffs)
    check_payoffs(payoffs)
    if init_profile is not None:
        check_profile(init_profile, payoffs.shape[1:], name="init_profile")
    if markowitz_level is None and gamma is None:
        raise ValueError("gamma is required (>= 0) unless markowitz_level is given")
    _check_risk_args(gamma, temperature, markowitz_level)
    run = _jitted_solve(gamma, temperature, num_iters, step_size, markowitz_level, br_iters, polish)
    profile = None if init_profile is None else tuple(jnp.asarray(p, payoffs.dtype) for p in init_profile)
    masks = None if masks is None else _masks(payoffs.shape[1:], masks)
    return run(payoffs, profile, masks)


@functools.lru_cache(maxsize=32)
def _jitted_solve(*options):
    # One compiled solver per option set, so repeated calls with new games do not re-trace.
    return jax.jit(rae_solver(*options).solve)


# ---------------------------------------------------------------------------------- helpers


def _polished(payoffs, profile, gamma, responder, masks):
    """Newton on the RAE conditions for each support guess; keep whichever profile (the
    fictitious-play one included) has the smallest RA-gap."""
    candidates = [tuple(profile)] + [_newton_polish(payoffs, profile, gamma, masks, tol) for tol in SUPPORT_TOLERANCES]
    gaps = jnp.stack([_gap(payoffs, c, responder, masks) for c in candidates])
    best = jnp.argmin(jnp.where(jnp.isfinite(gaps), gaps, jnp.inf))
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs)[best], *candidates)


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

    start_pis = [
        jnp.where(s, p, 0.0) / jnp.maximum(jnp.sum(jnp.where(s, p, 0.0)), 1e-30) for p, s in zip(profile, supports)
    ]
    start_lams = [p @ opponent_moments(payoffs, profile, i)[0] for i, p in enumerate(profile)]
    x = jnp.concatenate(start_pis + [jnp.stack(start_lams)])

    def newton(_, x):
        return x - jnp.linalg.lstsq(jax.jacfwd(residual)(x), residual(x))[0]

    pis, _ = unpack(jax.lax.fori_loop(0, steps, newton, x))
    pis = [jnp.maximum(jnp.where(jnp.isfinite(p), p, 0.0), 0.0) * m for p, m in zip(pis, masks)]
    return tuple(
        jnp.where(jnp.sum(p) > 0, p / jnp.maximum(jnp.sum(p), 1e-30), original) for p, original in zip(pis, profile)
    )


def _result(payoffs, profile, gap, steps) -> RAEResult:
    return RAEResult(
        profile=tuple(profile),
        ra_gap=gap,
        nash_conv=nash_conv(payoffs, profile),
        variance=reward_variance(payoffs, profile),
        risk=risk(payoffs, profile),
        expected_payoff=expected_payoffs(payoffs, profile),
        iterations=steps,
    )


def _masks(shape_or_profile, masks):
    sizes = [p.shape[0] for p in shape_or_profile] if not isinstance(shape_or_profile[0], int) else shape_or_profile
    return strategy_masks(sizes, masks)


def _validated(payoffs, profile):
    payoffs = jnp.asarray(payoffs)
    check_payoffs(payoffs)
    check_profile(profile, payoffs.shape[1:])
    return payoffs, tuple(jnp.asarray(p, payoffs.dtype) for p in profile)


def _check_risk_args(gamma, temperature, markowitz_level) -> None:
    if gamma is not None and is_concrete(gamma) and not gamma >= 0:
        raise ValueError(f"gamma (risk aversion) must be >= 0; got {gamma!r}")
    if is_concrete(temperature) and not temperature >= 0:
        raise ValueError(f"temperature must be >= 0; got {temperature!r}")
    if markowitz_level is not None and not 0.0 <= markowitz_level <= 1.0:
        raise ValueError(f"markowitz_level must be in [0, 1]; got {markowitz_level!r}")
