"""set_matmul_dtype_policy: bfloat16 matrix products, float32 elsewhere."""

import numpy as np
import pytest
import keras
from keras import ops

from keras_electra.layers import ElectraSelfAttention
from keras_electra.models import ElectraBackbone
from keras_electra.models import ElectraDiscriminator
from keras_electra.models import ElectraGenerator
from keras_electra.models import ReplacedTokenDetector
from keras_electra.training import Float32Activation
from keras_electra.training import set_matmul_dtype_policy
from test_case import short_pretraining_run

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
    attention = [
        layer for layer in layers
        if isinstance(layer, ElectraSelfAttention)
    ]
    probability_dropout = [
        inner for layer in attention
        for inner in layer._flatten_layers(include_self=False)
        if isinstance(inner, keras.layers.Dropout)
    ]
    softmax = [
        layer for layer in layers if isinstance(layer, keras.layers.Softmax)
    ]
    # 2 models x 2 layers x (4 attention + 2 feed-forward) + heads, and
    # each attention layer with its probabilities' dropout.
    assert len(dense) >= 24 and len(attention) == len(softmax) == 4
    assert changed == len(dense) + 2 * len(attention)
    changed_layers = dense + attention + probability_dropout
    assert {layer.compute_dtype for layer in changed_layers} == {"bfloat16"}
    others = [
        layer for layer in layers
        if not any(layer is changed for changed in changed_layers)
    ]
    assert norms and softmax
    assert {layer.compute_dtype for layer in others} == {"float32"}
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


def _activated_dense(model):
    return [
        layer for layer in model._flatten_layers(recursive=True)
        if isinstance(layer, (keras.layers.Dense, keras.layers.EinsumDense))
        and getattr(layer, "activation", None)
        not in (None, keras.activations.linear)
    ]


def test_activations_run_in_float32_and_float32_policy_undoes_it():
    keras.utils.set_random_seed(0)
    rtd = tiny_rtd()
    activated = _activated_dense(rtd)
    # Feed-forward GELUs (2 models x 2 layers) and the two heads' dense.
    assert len(activated) >= 4
    originals = [layer.activation for layer in activated]
    set_matmul_dtype_policy(rtd)
    set_matmul_dtype_policy(rtd)  # Idempotent: no double wrapping.
    for layer, original in zip(activated, originals):
        assert isinstance(layer.activation, Float32Activation)
        assert layer.activation.activation is original
    x = np.linspace(-3, 3, 12, dtype="float32").reshape(3, 4)
    layer = activated[0]
    wrapped = layer.activation(ops.cast(x, "bfloat16"))
    assert ops.convert_to_numpy(ops.cast(wrapped, "float32")).dtype == "float32"
    assert "float32" in str(wrapped.dtype)
    # The activation sees the bfloat16 product upcast, nothing else changes.
    np.testing.assert_allclose(
        ops.convert_to_numpy(wrapped),
        ops.convert_to_numpy(
            originals[0](ops.cast(ops.cast(x, "bfloat16"), "float32"))
        ),
        rtol=1e-6, atol=1e-6,
    )
    # The dense layer's output is float32 after a bfloat16 product.
    out = layer(ops.ones((2, layer.kernel.shape[0])))
    assert "float32" in str(out.dtype)

    set_matmul_dtype_policy(rtd, float32_activations=False)
    assert all(layer.activation is o for layer, o in zip(activated, originals))
    set_matmul_dtype_policy(rtd)
    set_matmul_dtype_policy(rtd, "float32")
    assert all(layer.activation is o for layer, o in zip(activated, originals))
    assert {layer.compute_dtype for layer in activated} == {"float32"}


def test_float32_activation_serializes():
    layer = keras.layers.Dense(3, activation=Float32Activation("gelu"))
    layer.build((None, 4))
    config = layer.get_config()
    clone = keras.layers.Dense.from_config(config)
    assert isinstance(clone.activation, Float32Activation)
    assert clone.activation.activation is keras.activations.gelu
    clone.build((None, 4))
    clone.set_weights(layer.get_weights())
    x = np.random.default_rng(0).normal(size=(2, 4)).astype("float32")
    np.testing.assert_allclose(
        ops.convert_to_numpy(clone(x)), ops.convert_to_numpy(layer(x)),
        rtol=1e-6,
    )


def test_run_pretraining_matmul_bfloat16_saves_float32_models(tmp_path):
    result = short_pretraining_run(tmp_path, precision="matmul_bfloat16")
    assert result["steps"] == 6
    assert np.all(np.isfinite(result["history"]["loss"]))
    discriminator = ElectraDiscriminator.from_preset(result["discriminator_dir"])
    layers = list(discriminator._flatten_layers(recursive=True))
    assert {layer.compute_dtype for layer in layers} == {"float32"}
    assert all(
        np.all(np.isfinite(ops.convert_to_numpy(w)))
        for w in discriminator.weights
    )
    with pytest.raises(ValueError, match="precision must be one of float32, matmul_bf"):
        short_pretraining_run(tmp_path / "x", precision="float16")
