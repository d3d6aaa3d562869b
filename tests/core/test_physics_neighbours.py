"""Periodic space, neighbour lists (all-pairs vs cell list, overflow) and order parameters."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from marljax.physics.neighbours import NeighbourOverflowError, check_overflow, gather_neighbours, neighbour_list
from marljax.physics.order import kuramoto_order, local_histogram, local_mean_phase, polarisation, wrap_angle
from marljax.physics.space import circular_mean, periodic

BOX, RADIUS = 9.5, 1.1  # 8 cells of side 1.1875 per side: cells not aligned with the radius


def brute_force_neighbours(pos, box, radius):
    """Sets of neighbours by numpy, minimum image, no self."""
    delta = pos[:, None, :] - pos[None, :, :]
    delta -= box * np.round(delta / box)
    close = np.sqrt((delta**2).sum(-1)) < radius
    np.fill_diagonal(close, False)
    return [set(np.flatnonzero(row)) for row in close]


def as_sets(neighbours):
    idx = np.asarray(neighbours.idx)
    n = idx.shape[0]
    return [set(row[row < n]) for row in idx]


@pytest.fixture(scope="module")
def clustered_positions():
    """400 agents, half uniform, half packed into a 2 x 2 patch straddling the box corner."""
    k1, k2 = jax.random.split(jax.random.PRNGKey(0))
    uniform = np.asarray(jax.random.uniform(k1, (200, 2), maxval=BOX))
    patch = np.mod(np.asarray(jax.random.uniform(k2, (200, 2), minval=-1.0, maxval=1.0)), BOX)
    return np.concatenate([uniform, patch]).astype(np.float32)


def test_periodic_displacement_is_the_minimum_image_and_shift_wraps():
    displacement, shift = periodic(10.0)
    a, b = jnp.array([[0.5, 9.8]]), jnp.array([[9.5, 0.1]])
    np.testing.assert_allclose(displacement(a, b), [[1.0, -0.3]], atol=1e-5)
    np.testing.assert_allclose(shift(jnp.array([[9.9, 0.2]]), jnp.array([[0.3, -0.5]])), [[0.2, 9.7]], atol=1e-5)
    # A cluster across the corner has its centre at the corner, not in the middle of the box.
    centre = circular_mean(jnp.array([[9.8, 9.9], [0.2, 0.1]]), 10.0)
    np.testing.assert_allclose(np.minimum(centre, 10.0 - centre), [0.0, 0.0], atol=1e-4)


def test_cell_list_and_all_pairs_find_the_same_neighbours(clustered_positions):
    pos = clustered_positions
    truth = brute_force_neighbours(pos, BOX, RADIUS)
    lists = {}
    for method in ("all_pairs", "cell_list"):
        fns = neighbour_list(BOX, RADIUS, method)
        allocated = fns.allocate(pos)
        assert not bool(allocated.overflow)
        moved = np.mod(pos + 0.37, BOX)  # update inside jit with the allocated capacities
        lists[method] = jax.jit(fns.update)(jnp.asarray(moved), allocated)
        assert as_sets(allocated) == truth
        assert not bool(lists[method].overflow)
    assert as_sets(lists["all_pairs"]) == as_sets(lists["cell_list"]) == truth  # translation keeps pairs
    np.testing.assert_array_equal(lists["cell_list"].count, [len(s) for s in truth])


def test_overflow_is_flagged_never_silent_and_reallocation_recovers(clustered_positions):
    pos = jnp.asarray(clustered_positions)
    fns = neighbour_list(BOX, RADIUS, "cell_list")
    spread = fns.allocate(pos[:200])  # sized for the uniform half only
    update = jax.jit(fns.update)
    squeezed = update(jnp.concatenate([pos[:200, :1] * 0.2, pos[:200, 1:] * 0.2], 1), spread)
    assert bool(squeezed.overflow)  # the patch does not fit the cells' or rows' capacity
    assert int(squeezed.count.max()) > squeezed.capacity  # the true counts still tell by how much
    with pytest.raises(NeighbourOverflowError, match="reallocate"):
        check_overflow(squeezed)
    # A neighbour capacity alone can overflow too (all-pairs): one agent short.
    all_pairs = neighbour_list(BOX, RADIUS, "all_pairs")
    short = all_pairs.allocate(pos, capacity=int(all_pairs.allocate(pos).count.max()) - 1)
    assert bool(short.overflow)
    check_overflow(all_pairs.allocate(pos))  # re-measured: fits, no error


def test_bad_neighbour_parameters_raise():
    with pytest.raises(ValueError, match="box too small for the cell list"):
        neighbour_list(2.5, 1.0, "cell_list")
    with pytest.raises(ValueError, match="radius"):
        neighbour_list(10.0, 0.0)
    with pytest.raises(ValueError, match="method"):
        neighbour_list(10.0, 1.0, "octree")


def test_order_parameters_and_local_statistics_match_their_definitions(clustered_positions):
    theta = jax.random.uniform(jax.random.PRNGKey(1), (400,), minval=-np.pi, maxval=np.pi)
    np.testing.assert_allclose(polarisation(jnp.full(50, 0.7)), 1.0, atol=1e-6)
    np.testing.assert_allclose(polarisation(jnp.array([0.0, np.pi])), 0.0, atol=1e-6)
    r, psi = kuramoto_order(jnp.array([0.1, 0.5]))
    np.testing.assert_allclose([r, psi], [np.cos(0.2), 0.3], atol=1e-6)

    neighbours = neighbour_list(BOX, RADIUS, "cell_list").allocate(clustered_positions)
    r_loc, psi_loc, count = local_mean_phase(theta, neighbours)
    t = np.asarray(theta)
    for i, others in enumerate(brute_force_neighbours(clustered_positions, BOX, RADIUS)[:25]):
        group = t[[i, *others]]
        z = np.exp(1j * group).mean()
        np.testing.assert_allclose([r_loc[i], np.cos(psi_loc[i] - np.angle(z))], [abs(z), 1.0], atol=1e-5)
        assert count[i] == len(group)

    relative = wrap_angle(gather_neighbours(theta, neighbours) - theta[:, None])
    hist = local_histogram(relative, neighbours, 6, -np.pi, np.pi, normalise=False)
    for i, others in enumerate(brute_force_neighbours(clustered_positions, BOX, RADIUS)[:25]):
        rel = np.mod(t[list(others)] - t[i] + np.pi, 2 * np.pi) - np.pi
        np.testing.assert_allclose(hist[i], np.histogram(rel, 6, (-np.pi, np.pi))[0], atol=1e-6)
