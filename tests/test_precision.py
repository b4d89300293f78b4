"""set_matmul_dtype_policy: bfloat16 matrix products, float32 elsewhere."""

import numpy as np
import pytest
import keras
from keras import ops

from keras_electra.models import ElectraBackbone
from keras_electra.models import ElectraDiscriminator
from keras_electra.models import ElectraGenerator
from keras_electra.models import ReplacedTokenDetector
from keras_electra.training import set_matmul_dtype_policy

pytestmark = pytest.mark.multibackend


def tiny_rtd(seed=0):
    def backbone(hidden, heads):
        return ElectraBackbone(
            vocabulary_size=64, num_layers=2, num_heads=heads,
            hidden_dim=hidden, intermediate_dim=2 * hidden, embedding_dim=16,
            max_sequence_length=32, dropout=0.0,
        )

    return ReplacedTokenDetector(
        ElectraGenerator(backbone(16, 1)),
        ElectraDiscriminator(backbone(32, 2)),
        seed=seed,
    )


def batch(size=8, length=24, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, 64, size=(size, length)).astype("int32")
    ids[:, 0], ids[:, -1] = 2, 3
    return {
        "token_ids": ids,
        "segment_ids": np.zeros_like(ids),
        "padding_mask": np.ones_like(ids),
    }


def test_only_dense_layers_change_and_variables_stay_float32():
    keras.utils.set_random_seed(0)
    rtd = tiny_rtd()
    changed = set_matmul_dtype_policy(rtd)
    layers = list(rtd._flatten_layers(include_self=False, recursive=True))
    dense = [
        layer for layer in layers
        if isinstance(layer, (keras.layers.Dense, keras.layers.EinsumDense))
    ]
    norms = [
        layer for layer in layers
        if isinstance(layer, keras.layers.LayerNormalization)
    ]
    # 2 models x 2 layers x (4 attention + 2 feed-forward) + heads.
    assert changed == len(dense) >= 24
    assert {layer.compute_dtype for layer in dense} == {"bfloat16"}
    assert norms and {layer.compute_dtype for layer in norms} == {"float32"}
    assert {v.dtype for v in rtd.weights if "float" in v.dtype} == {"float32"}


def test_outputs_close_to_float32_and_training_runs():
    keras.utils.set_random_seed(0)
    reference = tiny_rtd()
    x = batch()
    discriminator_input = {
        k: x[k] for k in ("token_ids", "segment_ids", "padding_mask")
    }
    expected = ops.convert_to_numpy(
        reference.discriminator(discriminator_input)
    )
    set_matmul_dtype_policy(reference)
    actual = ops.convert_to_numpy(
        ops.cast(reference.discriminator(discriminator_input), "float32")
    )
    # bfloat16 keeps 8 bits of mantissa: close, not equal.
    assert not np.array_equal(actual, expected)
    np.testing.assert_allclose(actual, expected, atol=0.1)
    reference.compile(learning_rate=1e-2, train_steps=30, warmup_steps=1)
    history = reference.fit(
        {k: np.tile(v, (4, 1)) for k, v in x.items()}, batch_size=8,
        epochs=3, verbose=0,
    )
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)), losses
    assert losses[-1] < losses[0], losses


def test_layer_without_dense_layers_is_an_error():
    with pytest.raises(ValueError, match="no Dense or EinsumDense"):
        set_matmul_dtype_policy(keras.layers.LayerNormalization())
