"""Oriented rectangles ("boxes") in the plane: corners and separating-axis overlap tests.

A box is its centre ``c``, heading ``psi`` (the direction of its length axis), ``length`` and
``width``. Its unit axes are ``u = (cos psi, sin psi)`` (along the length) and
``w = (-sin psi, cos psi)`` (across), its half-extents ``l = length / 2``, ``h = width / 2``.

Two convex polygons are disjoint iff some edge normal separates them (the separating-axis
theorem); a rectangle has two distinct edge normals, so two boxes A, B need four axes. On an axis
``a`` the projections of the boxes are intervals around ``c . a`` of half-length

    r_A(a) = l_A |u_A . a| + h_A |w_A . a|,

and ``a`` separates them iff ``|(c_B - c_A) . a| > r_A(a) + r_B(a)``. The boxes overlap iff none of
``u_A, w_A, u_B, w_B`` separates them; touching boxes (equality) count as overlapping, as in
highway-env's ``utils.are_polygons_intersecting``.

Everything is pure ``jnp`` on ``[..., M]`` arrays (jit/vmap friendly). The all-pairs test costs
``O(M^2)``; :func:`any_box_overlap` finds the boxes that overlap another by sort and sweep along ``x``
(a box reaches at most its half-diagonal from its centre, so only pairs closer than the sum of two
half-diagonals in ``x`` can overlap), ``O(M K)`` for ``K`` boxes within that reach of each other, exact.

References:
    Gottschalk, Lin, Manocha (1996), "OBBTree: a hierarchical structure for rapid interference
    detection", SIGGRAPH (the separating-axis test for oriented boxes).
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "box_axes",
    "box_corners",
    "boxes_overlap",
    "pairwise_box_overlap",
    "one_vs_many_box_overlap",
    "any_box_overlap",
    "materialised",
]


def materialised(*arrays: chex.Array) -> tuple[chex.Array, ...]:
    """The arrays unchanged, but computed into memory before any consumer reads them.

    XLA fuses elementwise producers into their consumers; when a consumer broadcasts (an ``[M]`` array
    read by an ``[M, M]`` pairwise loop), an expensive producer such as ``cos`` is then re-evaluated for
    every element of the loop. ``jax.lax.optimization_barrier`` does not stop this on CPU (the barrier is
    removed before fusion); a product with the identity matrix does, and is exact (``x * 1 + y * 0 = x``
    for finite ``x, y``; ``precision="highest"`` keeps float32 on accelerators).

    Args:
        arrays: float arrays of one shape and dtype (finite values).

    Returns:
        The same values, as a tuple.
    """
    stacked = jnp.stack(arrays, -1)
    eye = jnp.eye(len(arrays), dtype=stacked.dtype)
    stacked = jnp.einsum("...k,kl->...l", stacked, eye, precision=jax.lax.Precision.HIGHEST)
    return tuple(stacked[..., i] for i in range(len(arrays)))


def box_axes(heading: chex.Array) -> tuple[chex.Array, chex.Array]:
    """The unit length axis ``u = (cos psi, sin psi)`` and width axis ``w = (-sin psi, cos psi)``.

    Args:
        heading: ``[...]`` headings psi in radians.

    Returns:
        ``(u, w)``, each ``[..., 2]``.
    """
    cos, sin = jnp.cos(heading), jnp.sin(heading)
    return jnp.stack([cos, sin], -1), jnp.stack([-sin, cos], -1)


def box_corners(centre: chex.Array, heading: chex.Array, length: chex.Array, width: chex.Array) -> chex.Array:
    """Corners ``c + s_l l u + s_w h w`` of each box, counter-clockwise from the rear right.

    Args:
        centre: ``[..., 2]`` box centres.
        heading: ``[...]`` headings psi.
        length: ``[...]`` (or scalar) extents along ``u``.
        width: ``[...]`` (or scalar) extents along ``w``.

    Returns:
        ``[..., 4, 2]``: rear-right, front-right, front-left, rear-left corner.
    """
    u, w = box_axes(heading)
    half_l = (jnp.asarray(length) / 2)[..., None, None]
    half_w = (jnp.asarray(width) / 2)[..., None, None]
    sign_l = jnp.array([-1.0, 1.0, 1.0, -1.0])[:, None]
    sign_w = jnp.array([-1.0, -1.0, 1.0, 1.0])[:, None]
    return centre[..., None, :] + sign_l * half_l * u[..., None, :] + sign_w * half_w * w[..., None, :]


def boxes_overlap(
    centre_a: chex.Array,
    heading_a: chex.Array,
    length_a: chex.Array,
    width_a: chex.Array,
    centre_b: chex.Array,
    heading_b: chex.Array,
    length_b: chex.Array,
    width_b: chex.Array,
) -> chex.Array:
    """Whether boxes A and B overlap, elementwise over broadcastable batch shapes.

    Args:
        centre_a, centre_b: ``[..., 2]`` centres.
        heading_a, heading_b: ``[...]`` headings.
        length_a, width_a, length_b, width_b: ``[...]`` or scalar extents.

    Returns:
        ``[...]`` bool, ``True`` where no axis among ``u_A, w_A, u_B, w_B`` separates the boxes.
    """
    # Scalar components only (no [..., 2] intermediates): XLA fuses the whole test into one loop -- and would
    # pull cos and sin into it too, evaluating them once per *pair* (4 M^2 transcendentals in the all-pairs
    # test, most of its cost on CPU); materialised first, they cost 4 M.
    cos_a, sin_a = materialised(jnp.cos(heading_a), jnp.sin(heading_a))
    cos_b, sin_b = materialised(jnp.cos(heading_b), jnp.sin(heading_b))
    la, ha = jnp.asarray(length_a) / 2, jnp.asarray(width_a) / 2
    lb, hb = jnp.asarray(length_b) / 2, jnp.asarray(width_b) / 2
    dx = centre_b[..., 0] - centre_a[..., 0]
    dy = centre_b[..., 1] - centre_a[..., 1]
    return _overlap_on_axes(dx, dy, cos_a, sin_a, la, ha, cos_b, sin_b, lb, hb)


def _overlap_on_axes(dx, dy, cos_a, sin_a, la, ha, cos_b, sin_b, lb, hb) -> chex.Array:
    """The separating-axis test given the centre offset ``(dx, dy) = c_B - c_A``, each box's axis
    ``(cos, sin)`` and half-extents ``(l, h)`` (symmetric in A and B, bit for bit)."""
    # |u_A . u_B| = |w_A . w_B| = |cos(psi_B - psi_A)|, |u_A . w_B| = |w_A . u_B| = |sin(psi_B - psi_A)|.
    cos_ab = jnp.abs(cos_a * cos_b + sin_a * sin_b)
    sin_ab = jnp.abs(sin_b * cos_a - cos_b * sin_a)
    apart_on_ua = jnp.abs(dx * cos_a + dy * sin_a) > la + lb * cos_ab + hb * sin_ab
    apart_on_wa = jnp.abs(dy * cos_a - dx * sin_a) > ha + lb * sin_ab + hb * cos_ab
    apart_on_ub = jnp.abs(dx * cos_b + dy * sin_b) > lb + la * cos_ab + ha * sin_ab
    apart_on_wb = jnp.abs(dy * cos_b - dx * sin_b) > hb + la * sin_ab + ha * cos_ab
    return ~(apart_on_ua | apart_on_wa | apart_on_ub | apart_on_wb)


def pairwise_box_overlap(centre: chex.Array, heading: chex.Array, length: chex.Array, width: chex.Array) -> chex.Array:
    """All-pairs overlap of ``M`` boxes; the diagonal (a box with itself) is ``False``.

    Args:
        centre: ``[M, 2]`` centres.
        heading: ``[M]`` headings.
        length: ``[M]`` or scalar lengths.
        width: ``[M]`` or scalar widths.

    Returns:
        ``[M, M]`` bool, symmetric.
    """
    m = centre.shape[0]
    length = jnp.broadcast_to(length, (m,))
    width = jnp.broadcast_to(width, (m,))
    overlap = boxes_overlap(
        centre[:, None],
        heading[:, None],
        length[:, None],
        width[:, None],
        centre[None, :],
        heading[None, :],
        length[None, :],
        width[None, :],
    )
    return overlap & ~jnp.eye(m, dtype=bool)


def one_vs_many_box_overlap(
    centre: chex.Array,
    heading: chex.Array,
    length: chex.Array,
    width: chex.Array,
    centres: chex.Array,
    headings: chex.Array,
    lengths: chex.Array,
    widths: chex.Array,
) -> chex.Array:
    """Overlap of one box (``centre [2]``, scalar heading and extents) with each of ``M`` boxes.

    Returns:
        ``[M]`` bool.
    """
    return boxes_overlap(centre[None], heading, length, width, centres, headings, lengths, widths)


def any_box_overlap(
    centre: chex.Array,
    heading: chex.Array,
    length: float,
    width: float,
    order: chex.Array | None = None,
    unrolled: int = 2,
) -> chex.Array:
    """Whether each of ``M`` equal boxes overlaps another one: sort and sweep along ``x``, exact.

    With the boxes sorted by ``x`` (``order``), box pairs ``k`` places apart are tested for
    ``k = 1, 2, ...`` until no two boxes ``k`` places apart are closer in ``x`` than ``R`` = the
    sum of two half-diagonals plus 1 cm (boxes further apart in ``x`` cannot overlap, and sorted
    ``x`` only grows with ``k``). The first ``unrolled`` offsets are always tested; the rest in a
    loop that stops at the first offset with no close pair -- under ``vmap``, at the largest such
    offset over the batch. The result equals ``pairwise_box_overlap(...).any(0)`` bit for bit.

    Args:
        centre: ``[M, 2]`` centres.
        heading: ``[M]`` headings.
        length, width: the boxes' (common) extents.
        order: ``[M]`` int, the box at each place of the ``x``-sorted sequence (ties in any
            order); default ``argsort(x)``.
        unrolled: offsets tested before the loop (static).

    Returns:
        ``[M]`` bool.
    """
    m = centre.shape[0]
    if order is None:
        order = jnp.argsort(centre[:, 0])
    # One row gather of everything the test reads, trigonometry first: XLA then computes cos and sin once per box
    # instead of once per offset that reads them.
    x, y, cos, sin = jnp.stack([centre[:, 0], centre[:, 1], jnp.cos(heading), jnp.sin(heading)], -1)[order].T
    half_l, half_w = length / 2, width / 2
    reach = 2 * float(np.hypot(half_l, half_w)) + 0.01  # float errors in the test are ~1e-4 m at x ~ 1e3 m
    slot = jnp.arange(m)

    def overlap_at(k, shifted):
        """Whether the box at place ``s`` overlaps the one at place ``s + k``, for the places ``s`` that
        ``shifted`` (a slice or a roll) lines up with ``s + k``."""
        a, b = shifted
        return _overlap_on_axes(
            b(x) - a(x), b(y) - a(y), a(cos), a(sin), half_l, half_w, b(cos), b(sin), half_l, half_w
        )

    # The first offsets on static slices (M - k pairs each, no wrap-around to mask).
    hit = jnp.zeros(m, bool)
    for k in range(1, min(unrolled, m - 1) + 1):
        pair_hit = overlap_at(k, (lambda v, k=k: v[: m - k], lambda v, k=k: v[k:]))
        none = jnp.zeros(k, bool)
        hit = hit | jnp.concatenate([pair_hit, none]) | jnp.concatenate([none, pair_hit])

    def close_pairs(k):
        return (k < m) & jnp.any((jnp.roll(x, -k) - x <= reach) & (slot < m - k))

    def body(carry):
        k, hit = carry
        pair_hit = overlap_at(k, (lambda v: v, lambda v: jnp.roll(v, -k))) & (slot < m - k)
        return k + 1, hit | pair_hit | jnp.roll(pair_hit, k)

    first = min(unrolled, m - 1) + 1
    _, hit = jax.lax.while_loop(lambda c: close_pairs(c[0]), body, (jnp.int32(first), hit))
    return jnp.zeros(m, bool).at[order].set(hit, unique_indices=True)
