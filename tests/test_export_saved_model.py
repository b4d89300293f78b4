"""SavedModel export: layout, versions, fresh-process reload, CLI, errors."""

import json
import os
import re
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from test_export_utils import build_vocabulary
from test_export_utils import corpus_sentences
from test_export_utils import random_inputs
from test_export_utils import tf_backend
from test_export_utils import tiny_classifier
from test_tokenizer_hf_parity import HARD

pytestmark = pytest.mark.skipif(
    not tf_backend(),
    reason="export runs under the TensorFlow backend only (weights are "
    "portable: reload under KERAS_BACKEND=tensorflow to export)",
)

SEQUENCE_LENGTH = 32
TEXTS = [
    "Call me Ishmael.",
    "It was the best of times, it was the worst of times!",
    " ".join(["whale"] * 400),  # far longer than SEQUENCE_LENGTH: truncated
    "Café naïve – résumé?",
] + HARD


def _env():
    env = dict(os.environ)
    env["KERAS_BACKEND"] = "tensorflow"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from keras_electra.data import ElectraClassifierPreprocessor
    from keras_electra.data import ElectraTokenizer
    from keras_electra.export import export_saved_model

    from transformers import BertTokenizerFast

    # The hard characters (controls, U+FFFD, CJK, accents, "…") get pieces
    # of their own, in place of the rarest words: 1500 tokens still.
    vocabulary = build_vocabulary(corpus_sentences(300), size=1500)
    extra = sorted({c for t in HARD for c in t if c.isprintable()
                    and not c.isspace()} - set(vocabulary))
    vocabulary = vocabulary[:len(vocabulary) - len(extra)] + extra
    tokenizer = ElectraTokenizer(vocabulary)
    model = tiny_classifier(len(vocabulary))
    base = tmp_path_factory.mktemp("serving")
    path = export_saved_model(
        model, str(base), tokenizer=tokenizer, sequence_length=SEQUENCE_LENGTH
    )
    # Keras is fed Hugging Face's ids, so the served text signature must
    # tokenize in the graph as BertTokenizerFast does.
    vocab_file = tmp_path_factory.mktemp("hf") / "vocab.txt"
    vocab_file.write_text("".join(t + "\n" for t in vocabulary))
    hf = BertTokenizerFast(vocab=str(vocab_file), do_lower_case=True)(
        TEXTS, max_length=SEQUENCE_LENGTH, truncation=True,
        padding="max_length", return_tensors="np",
    )
    x_text = {
        "token_ids": hf["input_ids"].astype("int32"),
        "segment_ids": hf["token_type_ids"].astype("int32"),
        "padding_mask": hf["attention_mask"].astype(bool),
    }
    preprocessor = ElectraClassifierPreprocessor(
        tokenizer, sequence_length=SEQUENCE_LENGTH
    )
    ours = preprocessor(TEXTS)
    np.testing.assert_array_equal(np.asarray(ours["token_ids"]),
                                  x_text["token_ids"])
    x_ids = random_inputs(3, SEQUENCE_LENGTH, len(vocabulary), seed=1)
    return {
        "base": str(base),
        "path": path,
        "model": model,
        "tokenizer": tokenizer,
        "vocabulary": vocabulary,
        "x_text": x_text,
        "text_logits": np.asarray(model.predict(x_text, verbose=0)),
        "x_ids": x_ids,
        "ids_logits": np.asarray(model.predict(x_ids, verbose=0)),
    }


def test_layout_manifest_and_versions(exported):
    from keras_electra.export import export_saved_model
    from keras_electra.export import read_manifest
    from keras_electra.export import vocabulary_sha256

    path = exported["path"]
    assert os.path.basename(path) == "1"
    for name in ("saved_model.pb", "variables", "vocab.txt", "manifest.json"):
        assert os.path.exists(os.path.join(path, name)), name
    manifest = read_manifest(path)
    assert manifest["format"] == "saved_model"
    assert manifest["model_class"] == "ElectraTextClassifier"
    assert manifest["config"]["num_classes"] == 2
    assert manifest["vocabulary_sha256"] == vocabulary_sha256(
        os.path.join(path, "vocab.txt")
    )
    assert manifest["vocabulary_sha256"] == vocabulary_sha256(
        exported["vocabulary"]
    )
    assert manifest["inputs"]["serving_default"] == [
        {"name": "text", "dtype": "string", "shape": [None]}
    ]
    assert manifest["inputs"]["serving_token_ids"][0] == {
        "name": "token_ids", "dtype": "int32",
        "shape": [None, SEQUENCE_LENGTH],
    }
    assert sorted(o["name"] for o in manifest["outputs"]["serving_default"]) \
        == ["logits", "probabilities"]
    assert manifest["tokenizer"]["sequence_length"] == SEQUENCE_LENGTH
    for key in ("keras_electra_version", "created_by", "created_at"):
        assert manifest[key]

    # Next version by default; an existing version is never overwritten.
    model, tokenizer = exported["model"], exported["tokenizer"]
    with pytest.raises(FileExistsError, match="never overwritten"):
        export_saved_model(model, exported["base"], tokenizer, 
                           sequence_length=SEQUENCE_LENGTH, version=1)
    second = export_saved_model(model, exported["base"],
                                sequence_length=SEQUENCE_LENGTH)
    assert os.path.basename(second) == "2"
    assert sorted(os.listdir(exported["base"])) == ["1", "2"]  # no temp dirs
    # Without a tokenizer the default signature takes token ids.
    assert read_manifest(second)["inputs"]["serving_default"][0]["name"] \
        == "token_ids"


def test_fresh_process_matches_keras_and_errors_are_readable(
    exported, tmp_path
):
    np.savez(tmp_path / "x_ids.npz", **exported["x_ids"])
    script = textwrap.dedent(f"""
        import json, sys
        import numpy as np
        import tensorflow as tf
        import tensorflow_text  # registers the tokenizer ops
        loaded = tf.saved_model.load({exported["path"]!r})
        text_fn = loaded.signatures["serving_default"]
        ids_fn = loaded.signatures["serving_token_ids"]
        texts = {TEXTS!r}
        out = text_fn(text=tf.constant(texts))
        x = dict(np.load({str(tmp_path / "x_ids.npz")!r}))
        out_ids = ids_fn(**{{k: tf.constant(v) for k, v in x.items()}})
        errors = {{}}
        def record(key, fn):
            try:
                fn()
            except Exception as e:
                errors[key] = f"{{type(e).__name__}}: {{e}}"
        short = {{k: tf.constant(v[:, :5]) for k, v in x.items()}}
        big = dict(x, token_ids=x["token_ids"] + 100000)
        record("raw_int_to_text", lambda: text_fn(text=tf.constant([1, 2])))
        record("raw_short_ids", lambda: ids_fn(**short))
        record("raw_big_ids", lambda: ids_fn(
            **{{k: tf.constant(v) for k, v in big.items()}}))
        from keras_electra.export import load_saved_model
        served = load_saved_model({exported["path"]!r})
        np.testing.assert_allclose(served(texts)["logits"],
                                   out["logits"].numpy(), atol=1e-6)
        record("int_to_text", lambda: served([1, 2]))
        record("short_ids", lambda: served.predict_token_ids(
            {{k: v[:, :5] for k, v in x.items()}}))
        np.savez({str(tmp_path / "out.npz")!r},
                 logits=out["logits"].numpy(),
                 probabilities=out["probabilities"].numpy(),
                 ids_logits=out_ids["logits"].numpy())
        json.dump(errors, open({str(tmp_path / "errors.json")!r}, "w"))
    """)
    subprocess.run([sys.executable, "-c", script], check=True, env=_env(),
                   timeout=300)
    out = np.load(tmp_path / "out.npz")
    np.testing.assert_allclose(out["logits"], exported["text_logits"],
                               atol=1e-5)
    np.testing.assert_allclose(
        out["probabilities"],
        keras.ops.convert_to_numpy(
            keras.ops.softmax(exported["text_logits"])),
        atol=1e-5,
    )
    np.testing.assert_allclose(out["ids_logits"], exported["ids_logits"],
                               atol=1e-5)
    errors = json.load(open(tmp_path / "errors.json"))
    # Raw signatures (what TF Serving runs): TensorFlow's dtype message, and
    # the in-graph checks for shapes and id ranges, naming the input.
    assert "expected to be a string tensor but is a int32" in \
        errors["raw_int_to_text"]
    assert (f"`token_ids` must have shape [batch, {SEQUENCE_LENGTH}]"
            in errors["raw_short_ids"]), errors["raw_short_ids"]
    assert "[5]" in errors["raw_short_ids"], errors["raw_short_ids"]
    assert "vocabulary_size=1500" in errors["raw_big_ids"]
    # `load_saved_model` checks in Python first, naming input, dtype, shape.
    assert errors["int_to_text"].startswith("TypeError")
    assert "`text` must be string of shape [batch]" in errors["int_to_text"]
    assert "received int" in errors["int_to_text"]
    assert errors["short_ids"].startswith("ValueError")
    assert f"[batch, {SEQUENCE_LENGTH}]" in errors["short_ids"]
    assert "(3, 5)" in errors["short_ids"]


def _parse_cli_output(stdout, key):
    match = re.search(
        rf"Result for output key {key}:\s*\n(\[\[.*?\]\])", stdout, re.S
    )
    assert match, stdout
    return np.array(json.loads(re.sub(r"\s+", ",", match.group(1).replace(
        "[ ", "[").replace(" ]", "]"))))


def test_saved_model_cli_run(exported):
    sentence = TEXTS[1]
    command = [
        sys.executable, "-m", "keras_electra.export.saved_model_cli", "run",
        "--dir", exported["path"], "--tag_set", "serve",
        "--signature_def", "serving_default",
        "--input_exprs", f"text={json.dumps([sentence])}",
    ]
    result = subprocess.run(command, capture_output=True, text=True,
                            env=_env(), timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    logits = _parse_cli_output(result.stdout, "logits")
    probabilities = _parse_cli_output(result.stdout, "probabilities")
    np.testing.assert_allclose(logits[0], exported["text_logits"][1],
                               atol=1e-5)
    np.testing.assert_allclose(probabilities.sum(), 1.0, atol=1e-5)


def test_other_backends_get_a_clear_error(exported, monkeypatch, tmp_path):
    from keras_electra.export import export_saved_model
    from keras_electra.export import export_tflite

    monkeypatch.setattr(keras.config, "backend", lambda: "jax")
    with pytest.raises(RuntimeError, match="KERAS_BACKEND=tensorflow"):
        export_saved_model(exported["model"], str(tmp_path))
    with pytest.raises(RuntimeError, match="from_preset"):
        export_tflite(exported["model"], str(tmp_path / "m.tflite"))
    assert os.listdir(tmp_path) == []


def test_bad_sequence_length(exported, tmp_path):
    from keras_electra.export import export_saved_model

    with pytest.raises(ValueError, match="max_sequence_length=64"):
        export_saved_model(exported["model"], str(tmp_path),
                           sequence_length=65)


@pytest.mark.large
def test_weights_from_jax_export_under_tensorflow(tmp_path):
    """Train a step under JAX, reload the preset under TF, export, compare."""
    pytest.importorskip("jax")
    from keras_electra.export import export_saved_model
    from keras_electra.models import ElectraClassifier

    preset = tmp_path / "preset"
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        import numpy as np
        from test_export_utils import random_inputs, tiny_classifier
        model = tiny_classifier(300, seed=3)
        x = random_inputs(8, {SEQUENCE_LENGTH}, 300, seed=2)
        model.compile(learning_rate=1e-3)
        model.fit(x, np.arange(8) % 2, epochs=2, verbose=0)
        model.save_to_preset({str(preset)!r})
        np.save({str(tmp_path / "jax_logits.npy")!r},
                np.asarray(model.predict(x, verbose=0)))
    """)
    env = _env()
    env["KERAS_BACKEND"] = "jax"
    subprocess.run([sys.executable, "-c", script], check=True, env=env,
                   timeout=300)
    # The preset holds the compiled optimizer; make its class importable.
    import keras_electra.optimizers.layerwise_decay  # noqa: F401

    model = ElectraClassifier.from_preset(str(preset))
    path = export_saved_model(model, str(tmp_path / "serving"),
                              sequence_length=SEQUENCE_LENGTH)
    import tensorflow as tf

    x = random_inputs(8, SEQUENCE_LENGTH, 300, seed=2)
    loaded = tf.saved_model.load(path)
    out = loaded.signatures["serving_token_ids"](
        **{k: tf.constant(v) for k, v in x.items()}
    )
    np.testing.assert_allclose(out["logits"].numpy(),
                               np.load(tmp_path / "jax_logits.npy"),
                               atol=1e-4)
