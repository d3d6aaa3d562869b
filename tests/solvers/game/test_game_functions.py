"""expected_payoffs / deviation_payoffs / nash_conv against brute force, batching, errors."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from marljax.envs.matrix import random_general_sum, rock_paper_scissors, stag_hunt
from marljax.solvers.game.payoffs import deviation_payoffs, expected_payoffs, exploitability, nash_conv


def _random_profile(key, num_actions):
    keys = jax.random.split(key, len(num_actions))
    return tuple(jax.random.dirichlet(k, jnp.ones(a)) for k, a in zip(keys, num_actions))


def _brute_force(u, profile):
    """Sum over every pure joint action, weighting by its probability."""
    u, profile = np.asarray(u, np.float64), [np.asarray(p, np.float64) for p in profile]
    n, shape = u.shape[0], u.shape[1:]
    expected = np.zeros(n)
    dev = [np.zeros(a) for a in shape]
    for joint in itertools.product(*(range(a) for a in shape)):
        prob = np.prod([p[a] for p, a in zip(profile, joint)])
        expected += prob * u[(slice(None), *joint)]
        for i in range(n):
            others = np.prod([p[a] for j, (p, a) in enumerate(zip(profile, joint)) if j != i])
            dev[i][joint[i]] += others * u[(i, *joint)]
    return expected, dev


def test_three_player_payoffs_match_brute_force():
    num_actions = (2, 3, 4)
    u = random_general_sum(jax.random.PRNGKey(0), num_actions)
    profile = _random_profile(jax.random.PRNGKey(1), num_actions)
    expected, dev = _brute_force(u, profile)
    np.testing.assert_allclose(expected_payoffs(u, profile), expected, rtol=1e-5)
    for got, want in zip(deviation_payoffs(u, profile), dev):
        np.testing.assert_allclose(got, want, rtol=1e-5)
    gains = sum(d.max() - d @ np.asarray(p) for d, p in zip(dev, profile))
    np.testing.assert_allclose(nash_conv(u, profile), gains, rtol=1e-5, atol=1e-6)


def test_nash_conv_is_jittable_and_vmaps_over_games_and_profiles():
    num_actions = (3, 3)
    keys = jax.random.split(jax.random.PRNGKey(2), 16)
    games = jax.vmap(lambda k: random_general_sum(k, num_actions))(keys)
    profiles = jax.vmap(lambda k: _random_profile(k, num_actions))(keys)
    batched = jax.jit(jax.vmap(nash_conv))(games, profiles)
    one_by_one = [float(nash_conv(games[b], tuple(p[b] for p in profiles))) for b in range(16)]
    np.testing.assert_allclose(batched, one_by_one, rtol=1e-5)
    assert np.all(np.asarray(batched) >= -1e-6)


def test_rps_exploitability_of_pure_rock():
    u = rock_paper_scissors()
    rock = (jnp.array([1.0, 0, 0]), jnp.array([1.0, 0, 0]))
    assert float(nash_conv(u, rock)) == 2.0  # each player gains 1 by switching to paper
    assert float(exploitability(u, rock)) == 1.0


def test_bad_inputs_get_clear_errors():
    u = stag_hunt()
    good = (jnp.array([0.5, 0.5]), jnp.array([0.5, 0.5]))
    with pytest.raises(ValueError, match="simplex"):
        nash_conv(u, (jnp.array([0.7, 0.7]), good[1]))
    with pytest.raises(ValueError, match="shape"):
        nash_conv(u, (jnp.array([1.0, 0.0, 0.0]), good[1]))
    with pytest.raises(ValueError, match="2 strategies for a 3-player"):
        nash_conv(random_general_sum(jax.random.PRNGKey(0), (2, 2, 2)), good)
    with pytest.raises(ValueError, match="NaN"):
        nash_conv(u.at[0, 1, 1].set(jnp.inf), good)
    with pytest.raises(ValueError, match="dimensions"):
        nash_conv(u[:, 0], good)
    with pytest.raises(ValueError, match="tuple"):
        nash_conv(u, jnp.stack(good))
