"""What every equilibrium solver shares: the result type, precision handling and checks.

Every solver returns a dataclass that has at least

* ``profile``   -- a tuple of simplex vectors, one per player (the solver's answer),
* ``nash_conv`` -- the exact NashConv of that profile (see :func:`marljax.solvers.nash.nash_conv`),
* ``success``   -- a boolean: the solver's own criterion is met (verified equilibrium,
  LP optimal, ...), documented per solver,

so that callers (PSRO meta-solvers, the CLI, tests) can use any solver the same way. The
results are ``flax.struct`` dataclasses: pytrees that pass through ``jit`` and ``vmap``.

Pivoting solvers (simplex, Lemke-Howson) lose accuracy quickly in float32, so they run in
float64 inside :func:`float64` (JAX's ``enable_x64`` at trace time) and hand back arrays in
the payoffs' own dtype.
"""

from __future__ import annotations

import contextlib
import functools

import chex
import jax
import jax.numpy as jnp
from flax import struct

from marljax.checks import check_payoffs, is_concrete

__all__ = [
    "EquilibriumResult",
    "float64",
    "output_dtype",
    "payoff_range",
    "verified",
    "validate_game",
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


@struct.dataclass
class EquilibriumResult:
    """The fields every solver result has (solver results add their own)."""

    profile: tuple
    nash_conv: chex.Array
    success: chex.Array


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


def validate_game(payoffs, num_players: int | None = None, name: str = "payoffs"):
    """Check a payoff tensor at the API boundary (skipped under jit) and return it as an array.

    Raises ``ValueError`` for lists that are not arrays, wrong shapes, NaN/inf entries.
    """
    if is_concrete(payoffs):
        try:
            arr = jnp.asarray(payoffs)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name} is not a numeric array: {err}") from None
        check_payoffs(arr, num_players=num_players, name=name)
        return arr
    return payoffs


# jnp.argmin/argmax lower a variadic reduce whose initial value takes the dtype of the
# *lowering-time* x64 flag, so they fail on float64 arrays inside ``float64()`` under an
# outer jit. These int32 versions (first index on ties, like numpy) avoid that.


def strategy_masks(sizes, masks) -> tuple:
    """Per-player boolean masks of the allowed strategies (all allowed when ``masks`` is None),
    checked: one mask per player, of that player's length, each allowing something."""
    if masks is None:
        return tuple(jnp.ones((a,), bool) for a in sizes)
    if len(masks) != len(sizes):
        raise ValueError(f"masks has {len(masks)} entries for a {len(sizes)}-player game")
    masks = tuple(jnp.asarray(m, bool) for m in masks)
    for i, (m, a) in enumerate(zip(masks, sizes)):
        if m.shape != (a,):
            raise ValueError(f"masks[{i}] has shape {m.shape}; player {i} has {a} strategies")
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
