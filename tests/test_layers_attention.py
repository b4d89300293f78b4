"""The encoder block we own: same numbers as keras-hub's `TransformerEncoder`
and Keras' `MultiHeadAttention` with the same weights, the fused kernel path
in inference, the export options, and checkpoints written with keras-hub's
block. Runs under every Keras backend."""

import h5py
import keras
import keras_hub
import numpy as np
import pytest

from keras_electra.layers import ElectraSelfAttention
from keras_electra.layers import ElectraTransformerEncoder
from keras_electra.layers import attention_for_export
from keras_electra.models import ElectraBackbone
from keras_electra.models.checked_weights import load_weights_checked
from test_case import tiny_backbone
from test_case import tiny_inputs
from test_case import to_numpy

pytestmark = pytest.mark.multibackend


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, 6, 16)).astype("float32")
    padding_mask = np.ones((2, 6), "int32")
    padding_mask[0, 4:] = 0
    return x, padding_mask


def test_self_attention_equals_keras_multi_head_attention():
    x, padding_mask = _inputs()
    ours = ElectraSelfAttention(num_heads=2, key_dim=8)
    ours(x, padding_mask=padding_mask)
    theirs = keras.layers.MultiHeadAttention(num_heads=2, key_dim=8)
    theirs(x, x)
    for dense in ("query_dense", "key_dense", "value_dense", "output_dense"):
        getattr(theirs, dense).set_weights(getattr(ours, dense).get_weights())
    expected = to_numpy(
        theirs(x, x, attention_mask=padding_mask[:, None, :].astype(bool))
    )
    actual = to_numpy(ours(x, padding_mask=padding_mask))
    np.testing.assert_allclose(actual, expected, atol=1e-6)
    # The mask matters: without it the padded rows' keys count.
    assert np.abs(to_numpy(ours(x)) - expected).max() > 1e-3


def test_export_paths_match_and_are_scoped():
    x, padding_mask = _inputs(1)
    layer = ElectraSelfAttention(num_heads=2, key_dim=8)
    expected = to_numpy(layer(x, padding_mask=padding_mask))
    for fuse, fill in ((True, None), (True, -50.0), (False, -50.0)):
        with attention_for_export(layer, fuse, fill) as names:
            assert names == [layer.name]
            assert (layer.fuse_projections, layer.mask_fill) == (fuse, fill)
            actual = to_numpy(layer(x, padding_mask=padding_mask))
        np.testing.assert_allclose(actual, expected, atol=1e-6)
        assert (layer.fuse_projections, layer.mask_fill) == (False, None)


def test_probability_dropout_only_in_training():
    x, padding_mask = _inputs(2)
    for rate, differs in ((0.5, True), (0.0, False)):
        layer = ElectraSelfAttention(num_heads=2, key_dim=8, dropout=rate)
        infer = to_numpy(layer(x, padding_mask=padding_mask))
        train = to_numpy(layer(x, padding_mask=padding_mask, training=True))
        assert (np.abs(train - infer).max() > 1e-3) == differs, rate


@pytest.mark.parametrize("training", [False, True])
def test_block_equals_keras_hub_transformer_encoder(training):
    # Dropout 0 in training exercises the explicit scores path against
    # keras-hub's (MultiHeadAttention with dropout 0 there too).
    x, padding_mask = _inputs(3)
    kwargs = dict(intermediate_dim=32, num_heads=2, activation="gelu",
                  layer_norm_epsilon=1e-12)
    ours = ElectraTransformerEncoder(dropout=0.0, **kwargs)
    ours(x, padding_mask=padding_mask)
    theirs = keras_hub.layers.TransformerEncoder(dropout=0.0, **kwargs)
    theirs(x, padding_mask=padding_mask)
    # Same weights, same names inside the block, same order.
    assert [w.path.split("/", 1)[1] for w in ours.weights] == [
        w.path.split("/", 1)[1] for w in theirs.weights
    ]
    theirs.set_weights(ours.get_weights())
    expected = to_numpy(theirs(x, padding_mask=padding_mask,
                               training=training))
    actual = to_numpy(ours(x, padding_mask=padding_mask, training=training))
    np.testing.assert_allclose(actual, expected, atol=1e-5)


def test_block_config_round_trip():
    block = ElectraTransformerEncoder(
        intermediate_dim=32, num_heads=2, dropout=0.1, attention_dropout=0.0,
        kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
    )
    restored = ElectraTransformerEncoder.from_config(block.get_config())
    assert restored.get_config() == block.get_config()
    assert restored.attention_dropout == 0.0 and restored.dropout == 0.1
    x, padding_mask = _inputs(4)
    block(x, padding_mask=padding_mask)
    restored(x, padding_mask=padding_mask)
    restored.set_weights(block.get_weights())
    np.testing.assert_allclose(
        to_numpy(restored(x, padding_mask=padding_mask)),
        to_numpy(block(x, padding_mask=padding_mask)), atol=1e-6,
    )


def _rename_to_keras_hub_blocks(path):
    """Rewrite a weights file as the keras-hub-block backbone wrote it."""
    with h5py.File(path, "r+") as f:
        names = list(f["layers"].keys())
        for name in names:
            if name.startswith("electra_transformer_encoder"):
                suffix = name[len("electra_transformer_encoder"):]
                f.move(f"layers/{name}", f"layers/transformer_encoder{suffix}")
        return sorted(f["layers"].keys())


def test_checkpoints_of_keras_hub_blocks_still_load(tmp_path):
    source = tiny_backbone(num_layers=2)
    inputs = tiny_inputs()
    expected = to_numpy(source(inputs)["sequence_output"])
    path = str(tmp_path / "old.weights.h5")
    source.save_weights(path)
    groups = _rename_to_keras_hub_blocks(path)
    assert "transformer_encoder_1" in groups
    target = tiny_backbone(num_layers=2)
    assert np.abs(
        to_numpy(target(inputs)["sequence_output"]) - expected
    ).max() > 1e-3
    load_weights_checked(target, path)
    np.testing.assert_allclose(
        to_numpy(target(inputs)["sequence_output"]), expected, atol=1e-6
    )
    # The file itself is left as it was.
    with h5py.File(path, "r") as f:
        assert "transformer_encoder" in f["layers"]


def test_backbone_inference_uses_fused_attention_kernel(monkeypatch):
    calls = []
    original = keras.ops.dot_product_attention

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(keras.ops, "dot_product_attention", counting)
    backbone = ElectraBackbone(
        vocabulary_size=100, num_layers=2, num_heads=2, hidden_dim=16,
        intermediate_dim=32, dropout=0.1,
    )
    calls.clear()
    backbone(tiny_inputs(), training=False)
    assert len(calls) == 2
    calls.clear()
    backbone(tiny_inputs(), training=True)  # probability dropout 0.1
    assert len(calls) == 0


def test_old_layout_without_room_for_the_copy_names_the_file(
    tmp_path, monkeypatch
):
    from keras_electra.models import checked_weights

    source = tiny_backbone(num_layers=2)
    path = str(tmp_path / "old.weights.h5")
    source.save_weights(path)
    _rename_to_keras_hub_blocks(path)
    monkeypatch.setattr(checked_weights, "writable_bytes", lambda root: 0)
    with pytest.raises(ValueError, match="old.weights.h5.*renamed copy"):
        with checked_weights.current_layout(path):
            pass
    # A file in today's layout needs no copy.
    source.save_weights(str(tmp_path / "new.weights.h5"))
    with checked_weights.current_layout(
        str(tmp_path / "new.weights.h5")
    ) as readable:
        assert readable == str(tmp_path / "new.weights.h5")
