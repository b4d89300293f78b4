"""`ElectraDropout` / `random_ops.dropout`: Keras' dropout distribution and
determinism on every backend, and XLA's bit generator (not
`jax.random.bernoulli`) behind the JAX mask."""

import keras
import numpy as np
import pytest

from keras_electra import random_ops
from keras_electra.layers import ElectraDropout
from keras_electra.layers import ElectraTransformerEncoder
from test_case import to_numpy

pytestmark = pytest.mark.multibackend


def _ones(shape=(256, 256)):
    return np.ones(shape, "float32")


def test_dropout_keeps_the_rate_and_scales_the_kept_entries():
    layer = ElectraDropout(0.1, seed=0)
    y = to_numpy(layer(_ones(), training=True))
    kept = y != 0
    # 65,536 draws: the kept share is 0.9 to ~0.001 (one standard error).
    assert abs(kept.mean() - 0.9) < 0.006, kept.mean()
    np.testing.assert_allclose(y[kept], 1 / 0.9, rtol=1e-6)
    # Rows and columns are not correlated: no row or column all dropped.
    assert kept.mean(axis=0).min() > 0.7 and kept.mean(axis=1).min() > 0.7
    np.testing.assert_array_equal(to_numpy(layer(_ones())), _ones())


def test_dropout_is_seeded_and_draws_new_masks_each_call():
    first = ElectraDropout(0.5, seed=3)
    second = ElectraDropout(0.5, seed=3)
    a1 = to_numpy(first(_ones(), training=True)) != 0
    b1 = to_numpy(second(_ones(), training=True)) != 0
    a2 = to_numpy(first(_ones(), training=True)) != 0
    np.testing.assert_array_equal(a1, b1)
    # Independent masks at rate 0.5 agree on half the entries.
    assert abs((a1 == a2).mean() - 0.5) < 0.01, (a1 == a2).mean()
    other = to_numpy(ElectraDropout(0.5, seed=4)(_ones(), training=True))
    assert abs((a1 == (other != 0)).mean() - 0.5) < 0.01


def test_dropout_rate_edges_and_noise_shape_follow_keras():
    x = _ones((8, 16))
    assert np.all(to_numpy(ElectraDropout(0.0)(x, training=True)) == 1)
    assert np.all(to_numpy(ElectraDropout(1.0)(x, training=True)) == 0)
    y = to_numpy(ElectraDropout(0.5, noise_shape=(8, 1), seed=1)(
        x, training=True))
    # noise_shape (8, 1): whole rows kept or dropped, as Keras does.
    assert set(np.unique(y.std(axis=1))) == {0.0}


def test_jax_mask_comes_from_xla_bit_generator():
    if keras.config.backend() != "jax":
        pytest.skip("the fast path is JAX's")
    import jax

    seed = keras.random.SeedGenerator(0)

    def draw(x):
        return random_ops.dropout(x, 0.1, seed)

    hlo = jax.jit(draw).lower(_ones((4, 4))).as_text()
    assert "rng_bit_generator" in hlo
    assert "threefry2x32" not in hlo


def test_encoder_trains_through_the_dropout():
    encoder = ElectraTransformerEncoder(
        intermediate_dim=32, num_heads=2, dropout=0.3, attention_dropout=0.3
    )
    x = np.random.default_rng(0).normal(size=(2, 8, 16)).astype("float32")
    # Training outputs are random, inference ones are not.
    train_a = to_numpy(encoder(x, training=True))
    train_b = to_numpy(encoder(x, training=True))
    assert np.abs(train_a - train_b).max() > 1e-3
    np.testing.assert_array_equal(
        to_numpy(encoder(x)), to_numpy(encoder(x))
    )
