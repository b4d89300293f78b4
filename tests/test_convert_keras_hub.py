"""Import of keras-hub `ElectraBackbone` preset folders."""

import math
import os

import keras
import numpy as np
import pytest

from keras_electra.convert import keras_hub_checkpoint
from keras_electra.models import ElectraBackbone
from keras_electra.models import ElectraDiscriminator
from keras_electra.models import ElectraGenerator
from test_case import tiny_inputs
from test_case import to_numpy

keras_hub = pytest.importorskip("keras_hub")

pytestmark = pytest.mark.multibackend

SIZES = dict(num_layers=2, num_heads=2, hidden_dim=32, intermediate_dim=64,
             max_sequence_length=32, dropout=0.0)


def keras_hub_preset(folder, embedding_dim=16, seed=0):
    keras.utils.set_random_seed(seed)
    source = keras_hub.models.ElectraBackbone(
        vocab_size=100, embedding_dim=embedding_dim, **SIZES
    )
    source.save_to_preset(str(folder))
    return source, str(folder)


def _gelu_gap():
    """Largest |tanh-approximate GELU - exact GELU| over a fine grid."""
    x = np.linspace(-8.0, 8.0, 160001)
    exact = 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))
    approximate = 0.5 * x * (
        1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3))
    )
    return np.abs(exact - approximate).max()


@pytest.mark.parametrize("embedding_dim", [16, 32])
def test_weights_equal_and_outputs_close(tmp_path, embedding_dim):
    source, folder = keras_hub_preset(tmp_path, embedding_dim)
    backbone = ElectraBackbone.from_preset(folder)
    assert type(backbone) is ElectraBackbone
    assert backbone.vocabulary_size == 100
    assert backbone.embedding_dim == embedding_dim
    assert backbone.layer_norm_epsilon == 1e-12

    # Every weight of ours equals the keras-hub weight of the same role;
    # keras-hub's only extra weights are the pooler's.
    theirs = {w.path: to_numpy(w) for w in source.weights}
    renames = {"embeddings/layer_norm/": "embeddings_layer_norm/",
               "embeddings/token_embedding/": "token_embedding/",
               "embeddings/position_embedding/": "position_embedding/",
               "embeddings/segment_embedding/": "segment_embedding/"}
    matched = set()
    for weight in backbone.weights:
        path = weight.path
        for ours, keras_hub_name in renames.items():
            path = path.replace(ours, keras_hub_name)
        np.testing.assert_array_equal(to_numpy(weight), theirs[path])
        matched.add(path)
    assert sorted(set(theirs) - matched) == [
        "pooled_dense/bias", "pooled_dense/kernel"
    ]
    hidden = SIZES["hidden_dim"]
    assert source.count_params() - backbone.count_params() == (
        hidden * hidden + hidden
    )

    # Outputs differ only through GELU: keras-hub uses the tanh
    # approximation, we the exact erf form. The two activations differ by at
    # most 4.7e-4 anywhere (computed below), and by far less where the
    # pre-activations of a freshly initialized layer lie (|x| < ~1). The gap
    # reaches the output through the feed-forward projection (64 inputs,
    # weights of std 0.02: a gain of about 64 x 0.016 ~ 1) and LayerNorm, so
    # 1e-3 on outputs of unit scale is a safe bound that still catches any
    # real wiring difference, which would be O(0.1) or more. Measured: ~1e-6.
    # The weights themselves are compared exactly above.
    gap = _gelu_gap()
    assert 1e-4 < gap < 1e-3
    inputs = tiny_inputs(length=12)
    expected = to_numpy(source(inputs)["sequence_output"])
    actual = to_numpy(backbone(inputs)["sequence_output"])
    assert np.abs(expected).max() > 0.5
    np.testing.assert_allclose(actual, expected, atol=1e-3, rtol=0)


def test_task_classes(tmp_path):
    _, folder = keras_hub_preset(tmp_path)
    for cls, head in ((ElectraDiscriminator, "replaced-token-detection"),
                      (ElectraGenerator, "masked-LM")):
        with pytest.raises(ValueError, match=f"no {head} head"):
            cls.from_preset(folder)


def test_architecture_only_and_overrides(tmp_path):
    source, folder = keras_hub_preset(tmp_path)
    backbone = ElectraBackbone.from_preset(folder, load_weights=False,
                                           dropout=0.2)
    assert backbone.dropout == 0.2
    assert backbone.count_params() == source.count_params() - (32 * 32 + 32)
    # Not loaded: the token table is a fresh random draw.
    assert not np.array_equal(
        to_numpy(backbone.token_embedding.embeddings),
        to_numpy(source.token_embedding.embeddings),
    )


def test_shape_mismatch_is_named(tmp_path):
    source, folder = keras_hub_preset(tmp_path)
    target = ElectraBackbone(vocabulary_size=90, embedding_dim=16, **SIZES)
    with pytest.raises(ValueError, match=r"token_embedding/embeddings.*"
                       r"\(100, 16\).*\(90, 16\)"):
        keras_hub_checkpoint.copy_weights(source, target)


def test_vocabulary_path(tmp_path):
    _, folder = keras_hub_preset(tmp_path)
    assert keras_hub_checkpoint.vocabulary_path(folder) is None
    assets = os.path.join(folder, "assets", "tokenizer")
    os.makedirs(assets)
    with open(os.path.join(assets, "vocabulary.txt"), "w") as f:
        f.write("[PAD]\n")
    assert keras_hub_checkpoint.vocabulary_path(folder).endswith(
        "vocabulary.txt"
    )


def test_import_registers_every_folder_reader():
    # In a fresh process: `import keras_electra` alone must teach
    # `from_preset` both foreign formats (the keras-hub reader was only
    # registered once something imported its module).
    import subprocess
    import sys

    code = (
        "import keras_electra\n"
        "from keras_electra.models import preset_loader\n"
        "print(sorted(load.__module__ for _, load in "
        "preset_loader.FOLDER_FORMATS))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == (
        "['keras_electra.convert.huggingface', "
        "'keras_electra.convert.keras_hub_checkpoint']"
    )
