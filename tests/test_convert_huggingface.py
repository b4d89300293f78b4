"""Parity with Hugging Face transformers: import, export and error paths.

Random-weight transformers models are saved to local folders and loaded
through `from_preset()`; logits must match to 1e-5 in float32. Every
parameter (LayerNorm scales and biases included) is drawn from N(0, 0.3^2)
rather than left at its initialization, so that logits are O(1) and a
wrongly mapped or transposed tensor cannot hide behind zero biases and unit
scales.
"""

import json
import os

import keras
import keras_hub
import numpy as np
import pytest

from keras_electra.convert import huggingface
from keras_electra.convert import export_to_huggingface
from keras_electra.models import ElectraBackbone
from keras_electra.models import ElectraDiscriminator
from keras_electra.models import ElectraGenerator
from keras_electra.models.electra_task import ElectraTask
from test_case import tiny_backbone
from test_case import tiny_inputs
from test_case import to_numpy

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

pytestmark = pytest.mark.multibackend

VOCABULARY_SIZE = 120
ATOL = 1e-5


def hf_config(embedding_size=16, **kwargs):
    config = dict(
        vocab_size=VOCABULARY_SIZE,
        embedding_size=embedding_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=40,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    config.update(kwargs)
    return transformers.ElectraConfig(**config)


def random_hf_model(model_cls, seed=0, **kwargs):
    torch.manual_seed(seed)
    model = getattr(transformers, model_cls)(hf_config(**kwargs))
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.3)
    return model.eval()


def save(model, folder, fmt="safetensors"):
    """Save `model` as a transformers folder in `fmt`.

    transformers 5 always writes safetensors from `save_pretrained`; the
    legacy `pytorch_model.bin` layout (a torch-saved state dict, tied output
    projection included) is written the way transformers 4 did with
    `safe_serialization=False`.
    """
    folder = str(folder)
    if fmt == "safetensors":
        model.save_pretrained(folder)
    else:
        model.config.save_pretrained(folder)
        path = os.path.join(folder, "pytorch_model.bin")
        torch.save(model.state_dict(), path)
    return folder


def hf_logits(model, inputs):
    with torch.no_grad():
        outputs = model(
            input_ids=torch.tensor(inputs["token_ids"], dtype=torch.long),
            token_type_ids=torch.tensor(inputs["segment_ids"],
                                        dtype=torch.long),
            attention_mask=torch.tensor(inputs["padding_mask"]),
        )
    if hasattr(outputs, "logits"):
        return outputs.logits.numpy()
    return outputs.last_hidden_state.numpy()


def parity_inputs():
    # Two sequences, the second padded over its last three positions.
    # Padded positions are compared too: in both implementations padding
    # only masks attention keys, so padded queries get identical (if
    # meaningless) outputs.
    return tiny_inputs(batch_size=2, length=12,
                       vocabulary_size=VOCABULARY_SIZE, seed=3)


PAIRS = [
    ("ElectraForPreTraining", ElectraDiscriminator),
    ("ElectraForMaskedLM", ElectraGenerator),
]


@pytest.mark.parametrize("fmt", ["safetensors", "bin"])
@pytest.mark.parametrize("embedding_size", [16, 32])
@pytest.mark.parametrize("hf_cls, cls", PAIRS)
def test_logits_match_transformers(tmp_path, hf_cls, cls, embedding_size,
                                   fmt):
    reference = random_hf_model(hf_cls, embedding_size=embedding_size)
    folder = save(reference, tmp_path, fmt)
    expected_file = "model.safetensors" if fmt == "safetensors" else (
        "pytorch_model.bin")
    assert expected_file in os.listdir(folder)
    model = cls.from_preset(folder)
    assert model.backbone.dropout == 0.0
    assert (model.backbone.embeddings_projection is None) == (
        embedding_size == 32
    )
    inputs = parity_inputs()
    expected = hf_logits(reference, inputs)
    actual = to_numpy(model.predict(inputs, verbose=0))
    assert actual.shape == expected.shape
    # Logits vary across positions: a constant output would match anything.
    assert np.ptp(expected) > 1e-2
    np.testing.assert_allclose(actual, expected, atol=ATOL, rtol=0)
    ours = sum(int(np.prod(w.shape)) for w in model.weights)
    assert ours == sum(p.numel() for p in reference.parameters())


@pytest.mark.parametrize("hf_cls", ["ElectraForPreTraining",
                                    "ElectraForMaskedLM", "ElectraModel"])
def test_backbone_loads_encoder_of_any_checkpoint(tmp_path, hf_cls):
    reference = random_hf_model(hf_cls, seed=1)
    folder = save(reference, tmp_path)
    backbone = ElectraBackbone.from_preset(folder)
    assert type(backbone) is ElectraBackbone
    encoder = getattr(reference, "electra", reference)
    inputs = parity_inputs()
    expected = hf_logits(encoder, inputs)
    actual = to_numpy(backbone(inputs)["sequence_output"])
    np.testing.assert_allclose(actual, expected, atol=ATOL, rtol=0)


def test_attention_dropout_round_trips(tmp_path):
    from keras_electra.convert.huggingface import huggingface_config

    reference = random_hf_model("ElectraModel", hidden_dropout_prob=0.1,
                                attention_probs_dropout_prob=0.0)
    backbone = ElectraBackbone.from_preset(save(reference, tmp_path))
    assert backbone.dropout == 0.1 and backbone.attention_dropout == 0.0
    config = huggingface_config(backbone)
    assert config["hidden_dropout_prob"] == 0.1
    assert config["attention_probs_dropout_prob"] == 0.0
    inputs = parity_inputs()
    np.testing.assert_allclose(
        to_numpy(backbone(inputs)["sequence_output"]),
        hf_logits(reference, inputs), atol=ATOL, rtol=0,
    )


def test_wrong_head_is_named(tmp_path):
    discriminator_folder = save(
        random_hf_model("ElectraForPreTraining"), tmp_path / "d"
    )
    generator_folder = save(
        random_hf_model("ElectraForMaskedLM"), tmp_path / "g"
    )
    encoder_folder = save(random_hf_model("ElectraModel"), tmp_path / "e")
    with pytest.raises(ValueError, match="no masked-LM head.*"
                       "generator_predictions.*ElectraForPreTraining"):
        ElectraGenerator.from_preset(discriminator_folder)
    with pytest.raises(ValueError, match="no replaced-token-detection head.*"
                       "discriminator_predictions.*ElectraForMaskedLM"):
        ElectraDiscriminator.from_preset(generator_folder)
    with pytest.raises(ValueError, match="bare ElectraModel"):
        ElectraDiscriminator.from_preset(encoder_folder)


def _edit_config(folder, **changes):
    path = os.path.join(folder, "config.json")
    with open(path) as f:
        config = json.load(f)
    config.update(changes)
    with open(path, "w") as f:
        json.dump(config, f)


def test_shape_mismatch_names_weight_and_shapes(tmp_path):
    folder = save(random_hf_model("ElectraForPreTraining"), tmp_path)
    _edit_config(folder, vocab_size=VOCABULARY_SIZE + 10)
    with pytest.raises(ValueError) as info:
        ElectraDiscriminator.from_preset(folder)
    message = str(info.value)
    assert "'electra.embeddings.word_embeddings.weight'" in message
    assert "(120, 16)" in message  # checkpoint
    assert "(130, 16)" in message  # Keras
    assert "embeddings/token_embedding/embeddings" in message

    _edit_config(folder, vocab_size=VOCABULARY_SIZE, intermediate_size=48)
    with pytest.raises(ValueError) as info:
        ElectraDiscriminator.from_preset(folder)
    message = str(info.value)
    assert "'electra.encoder.layer.0.intermediate.dense.weight'" in message
    assert "(64, 32)" in message and "(32, 48)" in message


def test_leftover_and_missing_tensors_are_listed(tmp_path):
    from safetensors.numpy import load_file
    from safetensors.numpy import save_file

    folder = save(random_hf_model("ElectraForPreTraining"), tmp_path)
    path = os.path.join(folder, "model.safetensors")
    weights = load_file(path)
    weights["electra.encoder.layer.2.output.dense.bias"] = np.zeros(
        32, "float32"
    )
    # Buffers are ignored.
    weights["electra.embeddings.position_ids"] = np.arange(40)[None]
    save_file(weights, path)
    with pytest.raises(ValueError, match=r"unused checkpoint tensors: "
                       r"\['electra.encoder.layer.2.output.dense.bias'\]"):
        ElectraDiscriminator.from_preset(folder)

    del weights["electra.encoder.layer.2.output.dense.bias"]
    del weights["electra.encoder.layer.1.output.LayerNorm.bias"]
    save_file(weights, path)
    with pytest.raises(ValueError, match="missing checkpoint weight "
                       "'electra.encoder.layer.1.output.LayerNorm.bias'"):
        ElectraDiscriminator.from_preset(folder)


def test_failed_load_assigns_nothing(tmp_path):
    folder = save(random_hf_model("ElectraForPreTraining"), tmp_path)
    _edit_config(folder, intermediate_size=48)
    backbone = ElectraBackbone.from_preset(folder, load_weights=False)
    before = [to_numpy(w).copy() for w in backbone.weights]
    with pytest.raises(ValueError):
        huggingface.assign_weights(backbone, huggingface.read_weights(folder))
    for w, value in zip(backbone.weights, before):
        np.testing.assert_array_equal(to_numpy(w), value)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_corrupt_and_missing_weights_files(tmp_path):
    folder = save(random_hf_model("ElectraForPreTraining"), tmp_path / "st")
    path = os.path.join(folder, "model.safetensors")
    with open(path, "r+b") as f:
        f.truncate(100)
    with pytest.raises(ValueError, match=r"model\.safetensors"):
        ElectraDiscriminator.from_preset(folder)
    with open(path, "wb") as f:
        f.write(b"not a checkpoint")
    with pytest.raises(ValueError, match=r"model\.safetensors"):
        ElectraDiscriminator.from_preset(folder)
    os.remove(path)
    with pytest.raises(FileNotFoundError, match="has no weights.*"
                       r"model\.safetensors.*pytorch_model\.bin"):
        ElectraDiscriminator.from_preset(folder)
    # The architecture alone needs no weights file.
    model = ElectraDiscriminator.from_preset(folder, load_weights=False)
    assert model.backbone.vocabulary_size == VOCABULARY_SIZE

    folder = save(random_hf_model("ElectraForPreTraining"), tmp_path / "pt",
                  fmt="bin")
    with open(os.path.join(folder, "pytorch_model.bin"), "wb") as f:
        f.write(b"\x80\x04garbage")
    with pytest.raises(ValueError, match=r"pytorch_model\.bin"):
        ElectraDiscriminator.from_preset(folder)


def test_pickled_objects_are_refused(tmp_path):
    folder = save(random_hf_model("ElectraForPreTraining"), tmp_path,
                  fmt="bin")
    # A pickle that would call a function on load.
    state = {"weights": torch.zeros(2), "payload": _Payload()}
    torch.save(state, os.path.join(folder, "pytorch_model.bin"))
    with pytest.raises(ValueError, match="weights-only"):
        ElectraDiscriminator.from_preset(folder)


class _Payload:
    def __reduce__(self):
        return (os.getcwd, ())


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"hidden_act": "gelu_new"}, "hidden_act='gelu_new'.*exact"),
        ({"position_embedding_type": "relative_key"},
         "position_embedding_type='relative_key'"),
        ({"model_type": "gpt2"}, "neither"),
    ],
)
def test_unsupported_config(tmp_path, changes, match):
    folder = save(random_hf_model("ElectraForPreTraining"), tmp_path)
    _edit_config(folder, **changes)
    with pytest.raises(ValueError, match=match):
        ElectraDiscriminator.from_preset(folder)


def test_untied_output_projection_is_refused(tmp_path):
    reference = random_hf_model("ElectraForMaskedLM")
    folder = save(reference, tmp_path, fmt="bin")
    state = reference.state_dict()
    state["generator_lm_head.weight"] = state[
        "generator_lm_head.weight"
    ].clone() + 1.0
    torch.save(state, os.path.join(folder, "pytorch_model.bin"))
    with pytest.raises(ValueError, match="generator_lm_head.weight.*differs"):
        ElectraGenerator.from_preset(folder)


def test_bfloat16_safetensors(tmp_path):
    reference = random_hf_model("ElectraForPreTraining").to(torch.bfloat16)
    folder = save(reference, tmp_path)
    model = ElectraDiscriminator.from_preset(folder)
    expected = reference.electra.embeddings.word_embeddings.weight.detach()
    expected = expected.float()
    np.testing.assert_array_equal(
        to_numpy(model.backbone.token_embedding.embeddings),
        expected.numpy(),
    )
    assert keras.backend.standardize_dtype(
        model.backbone.token_embedding.embeddings.dtype) == "float32"


def test_config_overrides_and_task_kwargs(tmp_path):
    folder = save(
        random_hf_model("ElectraForPreTraining", hidden_dropout_prob=0.1),
        tmp_path,
    )
    assert ElectraDiscriminator.from_preset(folder).backbone.dropout == 0.1
    model = ElectraDiscriminator.from_preset(folder, dropout=0.0)
    assert model.backbone.dropout == 0.0


def test_vocabulary_path(tmp_path):
    folder = save(random_hf_model("ElectraModel"), tmp_path)
    assert huggingface.vocabulary_path(folder) is None
    with open(os.path.join(folder, "vocab.txt"), "w") as f:
        f.write("[PAD]\n[UNK]\n")
    assert huggingface.vocabulary_path(folder) == os.path.join(
        folder, "vocab.txt"
    )


@pytest.mark.parametrize(
    "cls, hf_cls",
    [
        (ElectraDiscriminator, "ElectraForPreTraining"),
        (ElectraGenerator, "ElectraForMaskedLM"),
        (ElectraBackbone, "ElectraModel"),
    ],
)
def test_export_round_trip(tmp_path, cls, hf_cls):
    keras.utils.set_random_seed(4)
    backbone = tiny_backbone(vocabulary_size=VOCABULARY_SIZE,
                             initializer_range=0.3)
    model = backbone if cls is ElectraBackbone else cls(backbone)
    # LayerNorm and biases start at 1 and 0: randomize them as well.
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(0, 0.3, w.shape).astype("float32")
                       for w in model.get_weights()])
    folder = str(tmp_path / "exported")
    export_to_huggingface(model, folder)
    with open(os.path.join(folder, "config.json")) as f:
        assert json.load(f)["architectures"] == [hf_cls]

    reference = getattr(transformers, hf_cls).from_pretrained(folder).eval()
    inputs = parity_inputs()
    outputs = model(inputs)
    if cls is ElectraBackbone:
        outputs = outputs["sequence_output"]
    np.testing.assert_allclose(
        hf_logits(reference, inputs), to_numpy(outputs), atol=ATOL, rtol=0
    )
    restored = cls.from_preset(folder)
    for a, b in zip(restored.weights, model.weights):
        assert a.path == b.path
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))


def test_export_unrolls_shared_layers(tmp_path):
    keras.utils.set_random_seed(5)
    model = ElectraDiscriminator(tiny_backbone(
        vocabulary_size=VOCABULARY_SIZE, num_layers=4, num_groups=1,
        initializer_range=0.3,
    ))
    folder = str(tmp_path / "exported")
    export_to_huggingface(model, folder)
    reference = transformers.ElectraForPreTraining.from_pretrained(folder)
    assert reference.config.num_hidden_layers == 4
    inputs = parity_inputs()
    np.testing.assert_allclose(
        hf_logits(reference.eval(), inputs), to_numpy(model(inputs)),
        atol=ATOL, rtol=0,
    )
    # Loading back gives an unshared model with the same outputs.
    restored = ElectraDiscriminator.from_preset(folder)
    assert restored.backbone.num_groups == 4
    np.testing.assert_allclose(
        to_numpy(restored(inputs)), to_numpy(model(inputs)), atol=ATOL
    )
    with pytest.raises(ValueError, match="mapped more than once"):
        huggingface.assign_weights(
            model, huggingface.read_weights(folder), source="shared"
        )


def test_sharded_safetensors(tmp_path):
    reference = random_hf_model("ElectraForMaskedLM", seed=6)
    folder = str(tmp_path)
    reference.save_pretrained(folder, max_shard_size="20KB")
    files = os.listdir(folder)
    assert "model.safetensors.index.json" in files
    assert sum(name.endswith(".safetensors") for name in files) > 1
    model = ElectraGenerator.from_preset(folder)
    inputs = parity_inputs()
    np.testing.assert_allclose(
        to_numpy(model(inputs)), hf_logits(reference, inputs), atol=ATOL,
        rtol=0,
    )


class _Tagger(ElectraTask, keras_hub.models.Task):
    """A stand-in for a future task: a backbone plus a fresh head."""

    def __init__(self, backbone, preprocessor=None, **kwargs):
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.head = keras.layers.Dense(3, name="tagger_head")
        inputs = backbone.input
        outputs = self.head(backbone(inputs)["sequence_output"])
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)


@pytest.mark.parametrize("hf_cls", ["ElectraForPreTraining", "ElectraModel"])
def test_other_task_gets_the_encoder(tmp_path, hf_cls):
    reference = random_hf_model(hf_cls, seed=7)
    folder = save(reference, tmp_path)
    model = _Tagger.from_preset(folder)
    assert isinstance(model, _Tagger)
    encoder = getattr(reference, "electra", reference)
    inputs = parity_inputs()
    np.testing.assert_allclose(
        to_numpy(model.backbone(inputs)["sequence_output"]),
        hf_logits(encoder, inputs), atol=ATOL, rtol=0,
    )
    assert to_numpy(model(inputs)).shape == (2, 12, 3)


def test_pytorch_file_without_torch(tmp_path, monkeypatch):
    import sys

    folder = save(random_hf_model("ElectraForPreTraining"), tmp_path,
                  fmt="bin")
    # `import torch` raises ImportError while the entry is None.
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r"pytorch_model\.bin.*"
                       r"weights_only=True.*model\.safetensors"):
        huggingface.read_weights(folder)


def random_bert(model_cls, seed=0):
    torch.manual_seed(seed)
    config = transformers.BertConfig(
        vocab_size=VOCABULARY_SIZE, hidden_size=32, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=40, hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    model = getattr(transformers, model_cls)(config)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.3)
    return model.eval()


@pytest.mark.parametrize("hf_cls", ["BertModel", "BertForPreTraining"])
def test_bert_folder_is_an_electra_encoder(tmp_path, hf_cls, caplog):
    # BertModel saves `embeddings.*` / `pooler.*`; the pre-training model
    # `bert.*` and its two heads.
    reference = random_bert(hf_cls, seed=5)
    folder = save(reference, tmp_path)
    keys = huggingface.read_weights(folder)
    assert any(k.startswith("bert.") for k in keys) == (hf_cls != "BertModel")
    encoder = getattr(reference, "bert", reference)
    inputs = parity_inputs()
    expected = hf_logits(encoder, inputs)
    assert np.ptp(expected) > 1e-2
    caplog.set_level("INFO", logger="keras_electra.convert")
    backbone = ElectraBackbone.from_preset(folder)
    assert backbone.embeddings_projection is None
    np.testing.assert_allclose(
        to_numpy(backbone(inputs)["sequence_output"]), expected,
        atol=ATOL, rtol=0,
    )
    assert "pooler.dense.weight" in caplog.text  # dropped, with a note
    # As the discriminator to continue pre-training from: BERT's encoder,
    # a fresh replaced-token head.
    discriminator = ElectraDiscriminator.from_preset(folder)
    np.testing.assert_allclose(
        to_numpy(discriminator.backbone(inputs)["sequence_output"]),
        expected, atol=ATOL, rtol=0,
    )
    assert to_numpy(discriminator(inputs)).shape == (2, 12)
    # Any task: the encoder, and the task's own head.
    tagger = _Tagger.from_preset(folder)
    np.testing.assert_allclose(
        to_numpy(tagger.backbone(inputs)["sequence_output"]), expected,
        atol=ATOL, rtol=0,
    )


def test_bert_masked_lm_is_an_electra_generator(tmp_path):
    reference = random_bert("BertForMaskedLM", seed=9)
    folder = save(reference, tmp_path)
    inputs = parity_inputs()
    expected = hf_logits(reference, inputs)
    generator = ElectraGenerator.from_preset(folder)
    np.testing.assert_allclose(
        to_numpy(generator.predict(inputs, verbose=0)), expected,
        atol=ATOL, rtol=0,
    )
