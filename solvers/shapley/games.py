"""Shapley and Banzhaf values of a cooperative game ``v``: exact enumeration and permutation sampling.

A cooperative game on ``n`` players is a characteristic function ``v`` giving every coalition
``S`` (here a ``[n]`` bool mask) a worth. The **Shapley value** (Shapley 1953) is each player's
expected marginal contribution when the players join in a uniformly random order,

    phi_i = sum_{S not containing i} |S|! (n - |S| - 1)! / n!  (v(S u {i}) - v(S)),

the only attribution that is efficient (``sum_i phi_i = v(N) - v({})``), symmetric, additive and
gives null players zero. The **Banzhaf value** (Banzhaf 1965) weighs every coalition equally,

    beta_i = 2^{-(n-1)} sum_{S not containing i} (v(S u {i}) - v(S)),

which is what uniform sampling of coalitions estimates (the public code of Heuillet et al. 2022
does that); it is not efficient. **Permutation sampling** (Castro et al. 2009) estimates
``phi`` from random orders, each paired with its reverse (antithetic sampling, Mitchell et al.
2022), whose marginal contributions are negatively correlated: a player early in one order is
late in the other.

Every method evaluates ``v`` on all the coalitions it needs at once -- ``jax.vmap(v)`` over a
``[C, n]`` stack of masks inside one ``jax.jit`` -- and contracts the table on the host in
float64, so the exact method is efficient to rounding. ``v`` may close over arrays, or be a pytree
(e.g. :class:`~marljax.solvers.shapley.rollouts.RolloutGame`) whose array leaves are traced, so a
new game of the same structure reuses the compilation. With ``mesh=`` (or a game built with one)
the coalitions are split over the mesh's devices, each evaluating its own block
(:func:`marljax.sharding.map_batch`); the worths, hence the values, are the same on any number of devices.

    result = shapley.exact(lambda s: jnp.sum(s * worth), num_players=3)
    result.values        # [3] phi
    shapley.permutation(v, 12, key, num_permutations=256).stderr

**Sampled worths.** When ``v`` also has a method ``samples(mask) -> [E]`` (independent
estimates of ``v(mask)`` whose mean is ``v(mask)``, e.g. the team returns of ``E`` episodes),
the methods contract every sample's table and report ``.stderr``, the standard error of the mean
over samples (added in quadrature to the permutation-sampling error for :func:`permutation`).

References:
  Shapley, "A value for n-person games" (1953); Banzhaf, "Weighted voting doesn't work" (1965);
  Castro, Gomez & Tejada, "Polynomial calculation of the Shapley value based on sampling" (2009);
  Mitchell, Cooper, Frank & Holmes, "Sampling permutations for Shapley value estimation" (JMLR 2022);
  Heuillet, Couthouis & Diaz-Rodriguez, "Collective eXplainable AI: explaining cooperative
  strategies and agent contribution in multiagent reinforcement learning with Shapley values" (2022).
"""

from __future__ import annotations

import functools
import math
from typing import Callable, NamedTuple, Optional

import chex
import jax
import jax.numpy as jnp
import numpy as np

from marljax.sharding import map_batch

__all__ = [
    "ShapleyResult",
    "MAX_EXACT_PLAYERS",
    "exact",
    "banzhaf",
    "permutation",
    "coalition_masks",
    "shapley_weights",
    "banzhaf_weights",
    "evaluate_coalitions",
]

#: Exact and Banzhaf values enumerate all 2^n coalitions; beyond this many players use :func:`permutation`.
MAX_EXACT_PLAYERS = 16


class ShapleyResult(NamedTuple):
    """Attribution of a cooperative game's worth to its players (host numpy, float64).

    Attributes:
      values: ``[n]`` the players' Shapley (or Banzhaf) values.
      stderr: ``[n]`` standard error of ``values`` (zeros for an exact method on a deterministic ``v``).
      grand: ``v(all players)``.
      empty: ``v(no player)``.
      method: ``"exact"``, ``"banzhaf"`` or ``"permutation"``.
      num_evaluations: coalitions ``v`` was evaluated on.
    """

    values: np.ndarray
    stderr: np.ndarray
    grand: float
    empty: float
    method: str
    num_evaluations: int


# ---------------------------------------------------------------------------------------------
# Checks and the one vmapped evaluation


def _check_players(num_players, limit: Optional[int] = None, method: str = "") -> int:
    if isinstance(num_players, bool) or not isinstance(num_players, (int, np.integer)) or num_players < 1:
        raise ValueError(f"num_players must be a positive integer; got {num_players!r}")
    if limit is not None and num_players > limit:
        raise ValueError(
            f"num_players={num_players} is too large for the {method} method, which evaluates all 2^n coalitions "
            f"(at most {limit} players); use shapley.permutation for more"
        )
    return int(num_players)


def _has_samples(v) -> bool:
    return callable(getattr(v, "samples", None))


#: Games already checked, by structure (static parts and array shapes): tracing a rollout game costs as
#: much as compiling it, so a second game of one structure (another checkpoint or key) is not traced again.
_CHECKED: dict = {}


def _check_output(v, num_players: int) -> bool:
    """Check that ``v`` maps a ``[n]`` bool mask to a scalar (and ``v.samples`` to ``[E]``); return
    whether samples are used. Traced abstractly (nothing runs), once per structure of ``v``."""
    static, arrays = _split_arrays(v)
    shapes = tuple(None if a is None else (a.shape, str(a.dtype)) for a in arrays)
    key = (static, shapes, num_players)
    try:
        return _CHECKED[key]
    except (KeyError, TypeError):  # not checked yet, or unhashable (evaluate_coalitions says so)
        pass
    use_samples = _trace_output(v, num_players)
    if len(_CHECKED) > 256:  # plain functions made per call would pile up
        _CHECKED.clear()
    try:
        _CHECKED[key] = use_samples
    except TypeError:
        pass
    return use_samples


def _trace_output(v, num_players: int) -> bool:
    mask = jax.ShapeDtypeStruct((num_players,), jnp.bool_)
    try:
        out = jax.eval_shape(v, mask)
    except Exception as err:  # noqa: BLE001 -- any failure to trace means v does not take a mask
        raise ValueError(
            f"v must map a [{num_players}] bool coalition mask to a scalar; calling it failed: {err}"
        ) from err
    if not hasattr(out, "shape") or out.shape != ():
        shape = getattr(out, "shape", type(out).__name__)
        raise ValueError(f"v must return a scalar worth for a [{num_players}] coalition mask; got {shape}")
    if not _has_samples(v):
        return False
    samples = jax.eval_shape(v.samples, mask)
    if len(samples.shape) != 1:
        raise ValueError(f"v.samples must return [E] samples of a coalition's worth; got shape {samples.shape}")
    return True


def _split_arrays(tree):
    """(static part, array leaves) of a pytree: arrays are traced, everything else is static."""
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    is_array = [isinstance(x, (jax.Array, np.ndarray)) for x in leaves]
    arrays = [x if a else None for x, a in zip(leaves, is_array)]
    static = tuple(None if a else x for x, a in zip(leaves, is_array))
    return (treedef, static), arrays


@functools.partial(jax.jit, static_argnames=("static", "use_samples", "batch_size", "mesh"))
def _evaluate(static, arrays, masks, use_samples: bool, batch_size: Optional[int], mesh):
    treedef, static_leaves = static

    def worth(arrays, mask):
        leaves = [a if s is None else s for s, a in zip(static_leaves, arrays)]
        v = jax.tree_util.tree_unflatten(treedef, leaves)
        return (v.samples if use_samples else v)(mask)

    return map_batch(worth, masks, mesh, shared=arrays, batch_size=batch_size)


def _mesh_of(v, mesh):
    """The mesh to split coalitions over: the one passed, else the game's own (``RolloutGame.mesh``)."""
    return mesh if mesh is not None else getattr(v, "mesh", None)


def evaluate_coalitions(
    v: Callable, masks: chex.Array, use_samples: bool = False, batch_size: Optional[int] = None, mesh=None
):
    """``v`` on every row of ``masks [C, n]`` in one jitted ``vmap``: ``[C]`` (or ``[C, E]`` samples).

    Args:
      v: ``v(mask [n] bool) -> scalar``; a pytree's array leaves are traced (no recompiling for
        another game of the same structure).
      masks: ``[C, n]`` bool coalitions.
      use_samples: evaluate ``v.samples`` instead (``[C, E]``).
      batch_size: evaluate this many coalitions at a time (``lax.map``; per device with a mesh) to
        bound memory; ``None``: all at once.
      mesh: a 1-D :func:`marljax.sharding.batch_mesh`: the coalitions are split over its devices
        (``shard_map``; padded to a multiple of its size), each device evaluating its own block.
        ``None``: ``v.mesh`` if ``v`` has one, else one device. The worths do not depend on it.

    Returns:
      float64 host array ``[C]`` or ``[C, E]``.
    """
    if batch_size is not None and (isinstance(batch_size, bool) or int(batch_size) < 1):
        raise ValueError(f"batch_size must be a positive integer or None; got {batch_size!r}")
    static, arrays = _split_arrays(v)
    try:
        hash(static)
    except TypeError as err:
        raise ValueError(f"v's non-array parts must be hashable to be compiled once: {err}") from None
    table = _evaluate(
        static,
        arrays,
        jnp.asarray(masks, bool),
        bool(use_samples),
        None if batch_size is None else int(batch_size),
        _mesh_of(v, mesh),
    )
    return np.asarray(table, np.float64)


# ---------------------------------------------------------------------------------------------
# Coalitions and weights


def coalition_masks(num_players: int) -> np.ndarray:
    """All ``2^n`` coalitions as ``[2^n, n]`` bool masks; row ``k`` holds player ``i`` iff bit ``i`` of ``k`` is set."""
    n = _check_players(num_players, MAX_EXACT_PLAYERS, "exact")
    return ((np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1).astype(bool)


def shapley_weights(num_players: int) -> np.ndarray:
    """``W [n, 2^n]`` with ``phi = W @ v_table`` (float64):
    ``W[i, S] = (|S|-1)! (n-|S|)! / n!`` if ``i in S``, else ``-|S|! (n-|S|-1)! / n!``.

    Each column sums to 0 except the empty (-1) and full (+1) coalitions': efficiency."""
    masks = coalition_masks(num_players)
    n = masks.shape[1]
    size = masks.sum(1)
    fact = np.array([math.factorial(k) for k in range(n + 1)], np.float64)
    joined = fact[np.maximum(size - 1, 0)] * fact[n - size] / fact[n]  # weight of S as S' u {i}
    left = fact[size] * fact[np.maximum(n - size - 1, 0)] / fact[n]  # weight of S without i
    return np.where(masks.T, joined[None, :], -left[None, :])


def banzhaf_weights(num_players: int) -> np.ndarray:
    """``W [n, 2^n]`` with ``beta = W @ v_table``: ``+-2^{-(n-1)}`` as ``i`` is in ``S`` or not."""
    masks = coalition_masks(num_players)
    return np.where(masks.T, 1.0, -1.0) / 2.0 ** (masks.shape[1] - 1)


def _contract(weights: np.ndarray, table: np.ndarray, method: str, use_samples: bool) -> ShapleyResult:
    n = weights.shape[0]
    if use_samples:  # table [2^n, E]: one attribution per sample, then mean and its standard error
        per_sample = weights @ table  # [n, E]
        samples = table.shape[1]
        values = per_sample.mean(1)
        stderr = per_sample.std(1, ddof=1) / np.sqrt(samples) if samples > 1 else np.full(n, np.nan)
        worth = table.mean(1)
    else:
        values, stderr, worth = weights @ table, np.zeros(n), table
    return ShapleyResult(values, stderr, float(worth[-1]), float(worth[0]), method, int(table.shape[0]))


# ---------------------------------------------------------------------------------------------
# The methods


def exact(v: Callable, num_players: int, batch_size: Optional[int] = None, mesh=None) -> ShapleyResult:
    """Exact Shapley values by evaluating ``v`` on all ``2^n`` coalitions (one vmapped batch).

        phi_i = sum_{S not containing i} |S|! (n - |S| - 1)! / n!  (v(S u {i}) - v(S))

    Efficient by construction: ``sum_i phi_i = v(N) - v({})`` to float64 rounding.

    Args:
      v: characteristic function ``v(mask [n] bool) -> scalar`` (jax-traceable); with a
        ``samples`` method, see the module docstring.
      num_players: ``n``, at most :data:`MAX_EXACT_PLAYERS`.
      batch_size: coalitions evaluated at a time (``None``: all ``2^n`` in one vmap).
      mesh: split the coalitions over its devices (:func:`evaluate_coalitions`).

    Returns:
      A :class:`ShapleyResult`.

    Raises:
      ValueError: ``num_players`` is not in ``1..MAX_EXACT_PLAYERS`` or ``v`` does not map a mask to a scalar.
    """
    n = _check_players(num_players, MAX_EXACT_PLAYERS, "exact")
    use_samples = _check_output(v, n)
    table = evaluate_coalitions(v, coalition_masks(n), use_samples, batch_size, mesh)
    return _contract(shapley_weights(n), table, "exact", use_samples)


def banzhaf(v: Callable, num_players: int, batch_size: Optional[int] = None, mesh=None) -> ShapleyResult:
    """Banzhaf values by evaluating ``v`` on all ``2^n`` coalitions: every coalition weighs the same,

        beta_i = 2^{-(n-1)} sum_{S not containing i} (v(S u {i}) - v(S)).

    Not efficient in general (``sum_i beta_i != v(N) - v({})``); equals Shapley for ``n <= 2``
    and for additive games.

    Args:
      v: characteristic function ``v(mask [n] bool) -> scalar``.
      num_players: ``n``, at most :data:`MAX_EXACT_PLAYERS`.
      batch_size: coalitions evaluated at a time (``None``: all in one vmap).
      mesh: split the coalitions over its devices (:func:`evaluate_coalitions`).

    Returns:
      A :class:`ShapleyResult` (``method="banzhaf"``).

    Raises:
      ValueError: as :func:`exact`.
    """
    n = _check_players(num_players, MAX_EXACT_PLAYERS, "banzhaf")
    use_samples = _check_output(v, n)
    table = evaluate_coalitions(v, coalition_masks(n), use_samples, batch_size, mesh)
    return _contract(banzhaf_weights(n), table, "banzhaf", use_samples)


def permutation_masks(key: chex.PRNGKey, num_players: int, num_pairs: int):
    """Orders and prefix coalitions of antithetic permutation pairs.

    Returns:
      ``orders [2P, n]`` (pair ``p`` is rows ``p`` and ``P + p``: an order and its reverse) and
      ``prefixes [2P, n + 1, n]`` bool, ``prefixes[k, j]`` = the first ``j`` players of order ``k``.
    """
    n = num_players
    orders = jax.vmap(lambda k: jax.random.permutation(k, n))(jax.random.split(key, num_pairs))
    orders = jnp.concatenate([orders, orders[:, ::-1]])
    position = jnp.argsort(orders, axis=1)  # position[k, i] = where player i joins in order k
    prefixes = position[:, None, :] < jnp.arange(n + 1)[None, :, None]
    return np.asarray(orders), np.asarray(prefixes)


def permutation(
    v: Callable,
    num_players: int,
    key: chex.PRNGKey,
    num_permutations: int = 128,
    batch_size: Optional[int] = None,
    mesh=None,
) -> ShapleyResult:
    """Monte-Carlo Shapley values from random player orders in antithetic pairs.

    For an order ``pi`` the marginal contribution of player ``i`` is
    ``m_i(pi) = v(P_i(pi) u {i}) - v(P_i(pi))`` with ``P_i(pi)`` the players before ``i``; ``phi_i =
    E_pi[m_i(pi)]``. Orders come in pairs ``(pi, reverse(pi))``; the estimate is the mean over the
    ``P = num_permutations / 2`` pairs of ``(m(pi) + m(reverse pi)) / 2``, and its standard error
    is the standard deviation of the pair means over ``sqrt(P)``. Every order's ``n + 1`` prefix
    coalitions are evaluated in one vmapped batch. Each order's contributions sum to
    ``v(N) - v({})``, so the estimate is efficient too.

    Args:
      v: characteristic function ``v(mask [n] bool) -> scalar``.
      num_players: ``n >= 1``.
      key: PRNG key drawing the orders.
      num_permutations: orders to sample, counting both members of each pair (even, >= 4).
      batch_size: coalitions evaluated at a time (``None``: all at once).
      mesh: split the coalitions over its devices (:func:`evaluate_coalitions`).

    Returns:
      A :class:`ShapleyResult` (``method="permutation"``) with ``stderr``.

    Raises:
      ValueError: ``num_players < 1``, ``num_permutations`` odd or below 4, or ``v`` not mapping a mask to a scalar.
    """
    n = _check_players(num_players)
    if isinstance(num_permutations, bool) or not isinstance(num_permutations, (int, np.integer)):
        raise ValueError(f"num_permutations must be an even integer >= 4; got {num_permutations!r}")
    if num_permutations < 4 or num_permutations % 2:
        raise ValueError(
            f"num_permutations counts both orders of each antithetic pair, so it must be even and >= 4 "
            f"(two pairs give a standard error); got {num_permutations}"
        )
    use_samples = _check_output(v, n)
    pairs = int(num_permutations) // 2
    orders, prefixes = permutation_masks(key, n, pairs)
    table = evaluate_coalitions(v, prefixes.reshape(-1, n), use_samples, batch_size, mesh)
    table = table.reshape((2 * pairs, n + 1) + table.shape[1:])  # [2P, n+1, (E)]
    gains = table[:, 1:] - table[:, :-1]  # gains[k, j]: what the j-th player of order k adds
    marginal = np.empty_like(gains)
    np.put_along_axis(marginal, orders.reshape(orders.shape + (1,) * (gains.ndim - 2)), gains, axis=1)
    pair_means = (marginal[:pairs] + marginal[pairs:]) / 2  # [P, n, (E)]
    if use_samples:
        samples = table.shape[-1]
        values = pair_means.mean((0, 2))
        order_error = pair_means.mean(2).std(0, ddof=1) / np.sqrt(pairs)
        sample_error = pair_means.mean(0).std(1, ddof=1) / np.sqrt(samples) if samples > 1 else np.nan
        stderr = np.sqrt(order_error**2 + sample_error**2)
        grand, empty = table[:, -1].mean(), table[:, 0].mean()
    else:
        values = pair_means.mean(0)
        stderr = pair_means.std(0, ddof=1) / np.sqrt(pairs)
        grand, empty = table[0, -1], table[0, 0]
    return ShapleyResult(values, stderr, float(grand), float(empty), "permutation", int(table.shape[0] * (n + 1)))
