"""Mean-field embeddings: permutation invariance, mass, the one-agent kernel row, O(N) at N = 10,000, bad values."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import marljax
from marljax.solvers import mfc

CENTRES = mfc.grid_centres([-1.0, -1.0, -1.0], [1.0, 1.0, 1.0], 3)  # 27 centres in 3-D
BANDWIDTH = 0.4
KERNEL = mfc.MeanFieldEmbedding.create("kernel", CENTRES, BANDWIDTH)
HISTOGRAM = mfc.MeanFieldEmbedding.create("histogram", CENTRES, BANDWIDTH)
embed_kernel, embed_histogram = jax.jit(KERNEL), jax.jit(HISTOGRAM)


@pytest.fixture(scope="module")
def states():
    return jax.random.uniform(jax.random.PRNGKey(0), (200, 3), jnp.float32, -1.2, 1.2)


def test_grid_centres_span_the_box():
    assert CENTRES.shape == (27, 3)
    np.testing.assert_array_equal(CENTRES[0], [-1, -1, -1])
    np.testing.assert_array_equal(CENTRES[13], [0, 0, 0])  # the middle of the grid
    np.testing.assert_array_equal(CENTRES[-1], [1, 1, 1])


def test_kernel_embedding_is_the_mean_of_rbf_kernels(states):
    x, b = np.asarray(states, np.float64), CENTRES.astype(np.float64)
    expected = np.exp(-((x[:, None] - b[None]) ** 2).sum(-1) / (2 * BANDWIDTH**2)).mean(0)
    np.testing.assert_allclose(embed_kernel(states), expected, rtol=1e-4, atol=1e-6)


def test_one_agent_embeds_to_its_kernel_row(states):
    one = states[:1]
    np.testing.assert_allclose(embed_kernel(one), mfc.kernel_rows(one, jnp.asarray(CENTRES), BANDWIDTH)[0], rtol=1e-6)
    # an agent on a centre: kernel 1 there, exp(-1 / (2 sigma^2)) at the grid neighbours one unit away
    row = embed_kernel(jnp.zeros((1, 3)))
    assert row[13] == pytest.approx(1.0)
    assert row[4] == pytest.approx(np.exp(-1 / (2 * BANDWIDTH**2)), rel=1e-5)  # centre 4 is (-1, 0, 0)


def test_histogram_has_mass_one_and_counts_nearest_centres(states):
    hist = np.asarray(embed_histogram(states))
    assert hist.sum() == pytest.approx(1.0, abs=1e-6) and (hist >= 0).all()
    nearest = ((np.asarray(states)[:, None] - CENTRES[None]) ** 2).sum(-1).argmin(1)
    np.testing.assert_allclose(hist, np.bincount(nearest, minlength=27) / 200, atol=1e-6)


@pytest.mark.parametrize("embed", [embed_kernel, embed_histogram], ids=["kernel", "histogram"])
def test_embeddings_are_permutation_invariant(embed, states):
    perm = jax.random.permutation(jax.random.PRNGKey(1), states.shape[0])
    np.testing.assert_allclose(embed(states[perm]), embed(states), atol=1e-6)
    assert not np.allclose(embed(states[:100]), embed(states[100:]), atol=1e-3)  # yet it sees the distribution


def test_ten_thousand_agents_without_n_by_n():
    embedding = mfc.embedding_for_env(marljax.make("swarms/Vicsek-v0", num_agents=10), "kernel", 3, 0.5)
    states = jax.random.uniform(jax.random.PRNGKey(2), (10_000, 4), jnp.float32, -1.0, 1.0)
    fn = jax.jit(embedding)
    # The largest array of the compiled embedding is [N, K] (K = 3^4 = 81 centres), never [N, N].
    assert "10000,10000" not in fn.lower(states).as_text().replace(" ", "")
    mu = fn(states)
    assert mu.shape == (81,) and bool(jnp.all(jnp.isfinite(mu))) and bool(jnp.all(mu > 0))


def test_bad_values_raise():
    with pytest.raises(ValueError, match="kernel centres"):
        mfc.MeanFieldEmbedding.create("kernel", np.zeros((0, 3)), 0.5)
    with pytest.raises(ValueError, match="kernel centres"):
        mfc.MeanFieldEmbedding.create("kernel", [], 0.5)
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="bandwidth must be a positive number"):
            mfc.MeanFieldEmbedding.create("kernel", CENTRES, bad)
    with pytest.raises(ValueError, match="embedding must be one of"):
        mfc.MeanFieldEmbedding.create("gaussian", CENTRES, 0.5)
    with pytest.raises(ValueError, match="agent states have 2 columns; the centres have 3"):
        KERNEL(jnp.zeros((5, 2)))
    with pytest.raises(ValueError, match="has no mean-field state"):
        mfc.embedding_for_env(marljax.make("mpe/SimpleSpread-v0"))
    with pytest.raises(ValueError, match="has no mean-field state"):
        mfc.make_learner(mfc.MFCConfig(), marljax.make("mpe/SimpleSpread-v0"))
    kuramoto = marljax.make("swarms/Kuramoto-v0", num_agents=8)
    with pytest.raises(ValueError, match="bandwidth must be positive"):
        mfc.make_learner(mfc.MFCConfig(bandwidth=0.0), kuramoto)
    with pytest.raises(ValueError, match="centres_per_dim must be positive"):
        mfc.make_learner(mfc.MFCConfig(centres_per_dim=0), kuramoto)
    with pytest.raises(ValueError, match="embedding must be one of"):
        mfc.make_learner(mfc.MFCConfig(embedding="rbf"), kuramoto)
    with pytest.raises(ValueError, match="centres have 2 columns; .* agent states 3"):
        mfc.make_learner(mfc.MFCConfig(), kuramoto, embedding=mfc.MeanFieldEmbedding.create("kernel", CENTRES[:, :2]))
    with pytest.raises(ValueError, match="rule_log_std must be in"):
        mfc.make_learner(mfc.MFCConfig(rule_log_std=1.0), kuramoto)
    with pytest.raises(ValueError, match="rule_scale must be positive"):
        mfc.make_learner(mfc.MFCConfig(rule_scale=0.0), kuramoto)


def test_rule_parameters_are_the_scaled_action_and_start_nearly_deterministic():
    rule = mfc.LinearGaussianRule(view_size=2, action_size=1, bound=3.0, scale=0.5, log_std=-3.0)
    action = jnp.array([1.0, -10.0, 0.4, 0.0])  # W = (0.5, -5 -> clipped to -3), c = 0.2, log s = 0 - 3
    weights, offset, std = rule.unpack(action)
    np.testing.assert_allclose(weights, [[0.5, -3.0]])
    np.testing.assert_allclose(offset, [0.2], rtol=1e-6)
    np.testing.assert_allclose(std, [np.exp(-3.0)], rtol=1e-6)  # the upper level's zero action: s ~ 0.05
    views = jnp.array([[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(rule.mean(action, views)[:, 0], [0.7, -2.8], rtol=1e-6)
    samples = rule.sample(jax.random.PRNGKey(0), action, jnp.zeros((4000, 2)))
    assert abs(float(jnp.std(samples)) - np.exp(-3.0)) < 0.005 and abs(float(jnp.mean(samples)) - 0.2) < 0.005
