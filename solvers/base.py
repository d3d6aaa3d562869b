"""What every equilibrium solver shares: the validation layer, precision handling and helpers.

Every solver returns a dataclass that has at least

* ``profile``   -- a tuple of simplex vectors, one per player (the solver's answer),
* ``nash_conv`` -- the exact NashConv of that profile (see :func:`marljax.solvers.nash.nash_conv`),
* ``success``   -- a boolean: the solver's own criterion is met (verified equilibrium,
  LP optimal, ...), documented per solver,

so that callers (PSRO meta-solvers, the CLI, tests) can use any solver the same way. The
results are ``flax.struct`` dataclasses: pytrees that pass through ``jit`` and ``vmap``.

**One validation layer.** Every public entry point is wrapped by :func:`validated`, which
checks the payoff tensor (:func:`validate_game`: shape, NaN/inf, number of players, zero-sum
where the solver needs it), promotes integer payoffs to float, and checks each declared option
with a checker of :mod:`marljax.checks` (or a game-aware one below: :func:`profile_option`,
:func:`masks_option`). Checks of concrete values run at the boundary; under ``jit``/``vmap``
only the (static) dtype promotion and the checks of Python scalars run.

Pivoting solvers (simplex, Lemke-Howson) lose accuracy quickly in float32, so they run in
float64 inside :func:`float64` (JAX's ``enable_x64`` at trace time) and hand back arrays in
the payoffs' own dtype.
"""

from __future__ import annotations

import contextlib
import functools
import inspect

import chex
import jax
import jax.numpy as jnp
import numpy as np

from marljax.checks import check_payoffs, check_profile, is_concrete

__all__ = [
    "float64",
    "output_dtype",
    "payoff_range",
    "verified",
    "validate_game",
    "validated",
    "game_check",
    "profile_option",
    "masks_option",
    "DEFAULT_TOLERANCE",
    "first_true",
    "argmin",
    "argmax",
    "jit_when_concrete",
    "strategy_masks",
    "dominate_empty_slots",
]

#: Default verification tolerance, relative to the payoff range: NashConv <= 1e-6 * range.
DEFAULT_TOLERANCE = 1e-6


@contextlib.contextmanager
def float64():
    """Trace the enclosed computation with 64-bit floats enabled (no global side effect)."""
    with jax.enable_x64(True):
        yield


def output_dtype(payoffs) -> jnp.dtype:
    """Results come back in the payoffs' float dtype (float32 for integer payoffs)."""
    dtype = jnp.asarray(payoffs).dtype
    return dtype if jnp.issubdtype(dtype, jnp.floating) else jnp.dtype(jnp.float32)


def payoff_range(payoffs: chex.Array) -> chex.Array:
    """``max(u) - min(u)`` over all players and profiles; 1 for a constant game (so relative
    tolerances stay meaningful)."""
    spread = jnp.max(payoffs) - jnp.min(payoffs)
    return jnp.where(spread > 0, spread, jnp.ones_like(spread))


def verified(nash_conv: chex.Array, payoffs: chex.Array, tol: float = DEFAULT_TOLERANCE) -> chex.Array:
    """``NashConv <= tol * payoff range`` (and not NaN)."""
    return nash_conv <= tol * payoff_range(payoffs)


# ------------------------------------------------------------------------- the validation layer


def validate_game(payoffs, num_players: int | None = None, zero_sum: bool = False, name: str = "payoffs"):
    """The payoff tensor as a float array, checked (concrete values only).

    Args:
      payoffs: ``[n, A_1, ..., A_n]`` payoffs (any real dtype; integers are promoted to the
        default float dtype, so mixed profiles are never cast to integers).
      num_players: the number of players the solver needs, if any.
      zero_sum: the solver needs a two-player zero-sum game; a ``[m, n]`` matrix is then read
        as the row player's payoffs of ``[A, -A]``.
      name: how errors call the argument.
    Returns:
      The payoffs as a ``jax.Array`` of a float dtype.
    Raises:
      ValueError: not numeric, a wrong shape, NaN/inf entries, the wrong number of players, or
        a general-sum game where a zero-sum one is needed.
    """
    concrete = is_concrete(payoffs)
    if concrete:
        try:
            arr = np.asarray(payoffs)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name} is not a numeric array: {err}") from None
        if arr.dtype == object:
            raise ValueError(f"{name} is not a rectangular numeric array")
    payoffs = jnp.asarray(payoffs)
    if zero_sum and payoffs.ndim == 2:
        payoffs = jnp.stack([payoffs, -payoffs])
    if concrete:
        check_payoffs(payoffs, num_players=num_players, name=name)
    if not jnp.issubdtype(payoffs.dtype, jnp.floating):
        payoffs = payoffs.astype(jax.dtypes.canonicalize_dtype(jnp.float64))
    if zero_sum and concrete:
        from marljax.solvers.game.properties import is_zero_sum  # here: the game package imports this module

        if not is_zero_sum(payoffs):
            gap = float(jnp.max(jnp.abs(payoffs[0] + payoffs[1])))
            raise ValueError(
                f"{name} is not a zero-sum game (max |u_1 + u_2| = {gap:.3g}); this solver needs u_2 = -u_1: "
                "use lemke_howson (or the 'nash' solver, which picks one for the game)"
            )
    return payoffs


def game_check(check):
    """Mark an option checker that needs the (validated) game: it is called as
    ``check(name, value, payoffs)``."""
    check.needs_game = True
    return check


@game_check
def profile_option(name: str, profile, payoffs):
    """A mixed profile for this game (one simplex vector per player), cast to its dtype."""
    if profile is None:
        return None
    check_profile(profile, payoffs.shape[1:], name=name)
    return tuple(jnp.asarray(p, payoffs.dtype) for p in profile)


@game_check
def masks_option(name: str, masks, payoffs):
    """Per-player boolean masks of the allowed strategies (see :func:`strategy_masks`)."""
    return None if masks is None else strategy_masks(payoffs.shape[1:], masks, name=name)


def validated(num_players: int | None = None, zero_sum: bool = False, **checks):
    """Decorator for a solver's public entry point: the one validation layer.

    The wrapped function's ``payoffs`` argument (if it has one) goes through
    :func:`validate_game`; each keyword of ``checks`` names an argument and the checker that
    validates it (and may convert it, e.g. to a plain ``int``, so equal options hash equal).

    Args:
      num_players: the number of players the solver needs (None: any).
      zero_sum: the solver needs a two-player zero-sum game (see :func:`validate_game`).
      **checks: argument name -> checker (``check(name, value)``, or a :func:`game_check`).
    Returns:
      The decorator.

    >>> @validated(num_players=2, tol=marljax.checks.number(0.0))
    ... def my_solver(payoffs, tol=1e-6): ...
    """

    def wrap(fn):
        signature = inspect.signature(fn)
        takes_game = "payoffs" in signature.parameters
        unknown = set(checks) - set(signature.parameters)
        if unknown:
            raise TypeError(f"{fn.__name__} has no argument(s) {sorted(unknown)} to check")

        @functools.wraps(fn)
        def call(*args, **kwargs):
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as err:
                raise ValueError(f"{fn.__name__}: {err}") from None
            bound.apply_defaults()  # defaults go through their checks too (e.g. "welfare" -> an array)
            arguments = bound.arguments
            game = None
            if takes_game and "payoffs" in arguments:
                game = arguments["payoffs"] = validate_game(arguments["payoffs"], num_players, zero_sum)
            for name, check in checks.items():
                value = arguments[name]
                arguments[name] = (
                    check(name, value, game) if getattr(check, "needs_game", False) else check(name, value)
                )
            return fn(*bound.args, **bound.kwargs)

        return call

    return wrap


# jnp.argmin/argmax lower a variadic reduce whose initial value takes the dtype of the
# *lowering-time* x64 flag, so they fail on float64 arrays inside ``float64()`` under an
# outer jit. These int32 versions (first index on ties, like numpy) avoid that.


def strategy_masks(sizes, masks, name: str = "masks") -> tuple:
    """Per-player boolean masks of the allowed strategies (all allowed when ``masks`` is None),
    checked: one mask per player, of that player's length, each allowing something."""
    if masks is None:
        return tuple(jnp.ones((a,), bool) for a in sizes)
    if len(masks) != len(sizes):
        raise ValueError(f"{name} has {len(masks)} entries for a {len(sizes)}-player game")
    masks = tuple(jnp.asarray(m, bool) for m in masks)
    for i, (m, a) in enumerate(zip(masks, sizes)):
        if m.shape != (a,):
            raise ValueError(f"{name}[{i}] has shape {m.shape}; player {i} has {a} strategies")
    allowed = [m.any() for m in masks]
    if is_concrete(allowed) and not all(bool(a) for a in allowed):
        raise ValueError("every player's mask must allow at least one action")
    return masks


def dominate_empty_slots(payoffs: chex.Array, masks) -> chex.Array:
    """Give every missing strategy of player ``i`` (``masks[i]`` false) the payoff ``min u_i - 1``
    for player ``i`` against everything: a strict dominance that keeps every equilibrium, and
    every NashConv deviation, off the missing strategies. ``masks``: ``[n, K]`` or one ``[A_i]``
    mask per player."""
    n = payoffs.shape[0]
    out = []
    for i in range(n):
        u = payoffs[i]
        shape = [1] * n
        shape[i] = -1
        out.append(jnp.where(jnp.asarray(masks[i]).reshape(shape), u, jnp.min(u) - 1.0))
    return jnp.stack(out)


def first_true(mask: chex.Array) -> chex.Array:
    """Index of the first True entry of a 1-D mask (0 when there is none)."""
    size = mask.shape[-1]
    index = jnp.min(jnp.where(mask, jnp.arange(size, dtype=jnp.int32), jnp.int32(size)), axis=-1)
    return jnp.where(index == size, 0, index).astype(jnp.int32)


def argmin(values: chex.Array) -> chex.Array:
    return first_true(values == jnp.min(values, axis=-1, keepdims=True))


def argmax(values: chex.Array) -> chex.Array:
    return first_true(values == jnp.max(values, axis=-1, keepdims=True))


def jit_when_concrete(fn=None, *, static_argnums=()):
    """Compile ``fn`` with ``jax.jit`` when it is called on concrete arrays, and inline it when
    called under a transformation (``jit``, ``vmap``...).

    Why not a plain nested ``jax.jit``: our solvers switch on float64 *inside* their body
    (:func:`float64`), and JAX re-processes a nested jit's jaxpr (e.g. batching it under
    ``vmap``) after that context has closed, which mixes float32 and float64. Inlining under
    an outer transformation avoids that; a top-level call still compiles once per shape.
    """
    if fn is None:
        return functools.partial(jit_when_concrete, static_argnums=static_argnums)
    jitted = jax.jit(fn, static_argnums=static_argnums)

    @functools.wraps(fn)
    def call(*args):
        return (jitted if is_concrete(args) else fn)(*args)

    return call
