"""Lemke-Howson and support enumeration: known equilibria, nashpy, degenerate games."""

import itertools

import jax
import jax.numpy as jnp
import nashpy
import numpy as np
import pytest

from marljax.envs.matrix import CATALOG, NASH_EQUILIBRIA, games
from marljax.solvers import nash
from marljax.solvers.equilibria.lemke_howson import lemke_howson_solver
from marljax.solvers.equilibria.support_enumeration import equilibria


def as_set(pairs, decimals=6):
    return {tuple(np.round(np.concatenate([x, y]).astype(np.float64), decimals)) for x, y in pairs}


@pytest.mark.parametrize("name", sorted(NASH_EQUILIBRIA))
def test_support_enumeration_finds_exactly_the_known_equilibria(name):
    result = nash.support_enumeration(CATALOG[name]())
    known = [(np.array(x), np.array(y)) for x, y in NASH_EQUILIBRIA[name]]
    assert as_set(equilibria(result), 5) == as_set(known, 5)


@pytest.mark.parametrize("name", sorted(NASH_EQUILIBRIA))
def test_lemke_howson_returns_a_known_equilibrium_of_every_catalog_game(name):
    result = nash.lemke_howson(CATALOG[name]())
    assert bool(result.success) and float(result.nash_conv) <= 1e-6
    found = as_set([tuple(np.asarray(p) for p in result.profile)], 5)
    known = as_set([(np.array(x), np.array(y)) for x, y in NASH_EQUILIBRIA[name]], 5)
    assert found <= known


def test_mixed_equilibria_of_chicken_and_battle_of_the_sexes():
    """The mixed equilibria that Lemke-Howson's paths miss on these 2x2 games come out of
    support enumeration with the textbook values."""
    chicken = equilibria(nash.support_enumeration(games.chicken()))
    assert any(np.allclose(x, [0.9, 0.1]) and np.allclose(y, [0.9, 0.1]) for x, y in chicken)
    bos = equilibria(nash.support_enumeration(games.battle_of_the_sexes()))
    assert any(np.allclose(x, [0.6, 0.4]) and np.allclose(y, [0.4, 0.6]) for x, y in bos)
    # The mixed ones have index -1, so no LH path from the artificial equilibrium ends there.
    for game in (games.chicken(), games.battle_of_the_sexes()):
        paths = jax.vmap(lemke_howson_solver().solve, in_axes=(None, 0))(game, jnp.arange(4))
        assert bool(np.all(paths.success)) and bool(np.all(np.max(np.asarray(paths.profile[0]), axis=1) == 1.0))


@pytest.fixture(scope="module")
def random_games():
    keys = jax.random.split(jax.random.PRNGKey(42), 6)
    return [games.random_general_sum(k, (4, 4)) for k in keys]


def test_support_enumeration_matches_nashpy_on_random_games(random_games):
    batch = jnp.stack(random_games)
    results = jax.jit(jax.vmap(nash.support_enumeration))(batch)
    for i, game in enumerate(random_games):
        ours = equilibria(jax.tree_util.tree_map(lambda leaf: leaf[i], results))
        a, b = (np.asarray(g, np.float64) for g in game)
        # nashpy's vertex enumeration: its support enumeration misses one of these games'
        # equilibria to a strict float tolerance.
        theirs = list(nashpy.Game(a, b).vertex_enumeration())
        assert len(ours) == len(theirs) and len(ours) % 2 == 1  # odd number (Wilson 1971)
        assert as_set(ours, 4) == as_set(theirs, 4)


def test_every_lemke_howson_path_matches_nashpy(random_games):
    """From each dropped label, our path ends where nashpy's lexicographic LH ends."""
    solve = jax.jit(jax.vmap(lemke_howson_solver().solve, in_axes=(None, 0)))
    for game in random_games[:3]:
        paths = solve(game, jnp.arange(8))
        (x, y), a, b = paths.profile, *(np.asarray(g, np.float64) for g in game)
        for label in range(8):
            ref_x, ref_y = nashpy.Game(a, b).lemke_howson(initial_dropped_label=label)
            assert bool(paths.success[label])
            np.testing.assert_allclose(x[label], ref_x, atol=1e-6)
            np.testing.assert_allclose(y[label], ref_y, atol=1e-6)


def test_lemke_howson_verified_on_every_seeded_random_game_batched():
    for size, count in ((25, 24), (100, 4)):
        keys = jax.random.split(jax.random.PRNGKey(size), count)
        batch = jax.vmap(lambda k: games.random_general_sum(k, (size, size)))(keys)
        result = jax.jit(jax.vmap(nash.lemke_howson))(batch)
        assert bool(jnp.all(result.success)), f"{size}x{size}: {result.success}"
        assert float(jnp.max(result.nash_conv)) <= 1e-6  # payoffs in [0, 1)
        np.testing.assert_allclose(jax.vmap(nash.nash_conv)(batch, result.profile), result.nash_conv, atol=5e-6)


def test_lemke_howson_on_degenerate_integer_games_with_ties():
    keys = jax.random.split(jax.random.PRNGKey(3), 40)
    batch = jax.vmap(lambda k: jax.random.randint(k, (2, 7, 6), 0, 3).astype(jnp.float32))(keys)
    # Plus hand-made ties: a constant game and a game with duplicated rows/columns.
    tied = jnp.array([[[1, 1, 0], [1, 1, 0], [0, 0, 1]], [[1, 1, 0], [1, 1, 0], [0, 0, 1]]], jnp.float32)
    result = jax.jit(jax.vmap(nash.lemke_howson))(batch)
    assert bool(jnp.all(result.success)) and float(jnp.max(result.nash_conv)) <= 2e-6
    for game in (tied, jnp.ones((2, 3, 3))):
        single = nash.lemke_howson(game)
        assert bool(single.success) and float(single.nash_conv) == pytest.approx(0.0, abs=1e-9)


def test_all_dropped_labels_of_a_degenerate_game_terminate_within_budget():
    # Integer payoffs with many ties: without the lexicographic rule LH can cycle.
    a = np.array([[3, 3], [2, 5], [0, 6]], np.float32)
    b = np.array([[3, 2], [2, 6], [3, 1]], np.float32)  # von Stengel's degenerate example
    game = jnp.stack([a, b])
    solver = lemke_howson_solver(max_pivots=100)
    paths = jax.vmap(solver.solve, in_axes=(None, 0))(game, jnp.arange(5))
    assert bool(jnp.all(paths.success)) and int(jnp.max(paths.pivots)) < 100
    np.testing.assert_array_equal(paths.label, np.arange(5))
    for p, q in zip(*paths.profile):
        assert float(nash.nash_conv(game, (p, q))) <= 1e-6
    # The one contract: init(payoffs, label), update(state, payoffs) pivots until the path ends.
    state = jax.lax.while_loop(solver.running, lambda s: solver.update(s, game), solver.init(game, 2))
    assert bool(state.finished) and int(state.pivots) == int(paths.pivots[2])


def test_bad_inputs_are_rejected():
    with pytest.raises(ValueError, match="2-player"):
        nash.lemke_howson(jnp.zeros((3, 2, 2, 2)))
    with pytest.raises(ValueError, match="NaN"):
        nash.support_enumeration(jnp.full((2, 2, 2), jnp.nan))
    with pytest.raises(ValueError, match="support pairs"):
        nash.support_enumeration(jnp.zeros((2, 40, 40)))
    with pytest.raises(ValueError, match="dimensions"):
        nash.lemke_howson(jnp.zeros((2, 4)))


def test_support_enumeration_recovers_every_pure_profile_of_a_coordination_game():
    game = games.bimatrix(np.eye(3) * np.array([3.0, 2.0, 1.0]), np.eye(3))
    found = equilibria(nash.support_enumeration(game))
    pure = [tuple(np.eye(3)[i]) for i in range(3)]
    assert all(any(np.allclose(x, p) and np.allclose(y, p) for x, y in found) for p in pure)
    # 3 pure + 3 two-action mixes + 1 full mix = 7 equilibria (the pairs of equal supports).
    assert len(found) == sum(1 for k in range(1, 4) for _ in itertools.combinations(range(3), k))
