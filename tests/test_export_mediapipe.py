"""MediaPipe-ready LiteRT export: metadata, and MediaPipe Tasks on raw text.

The metadata checks run in this environment. The MediaPipe checks run the
exported files in MediaPipe itself (`TextClassifier`, `TextEmbedder`), in
`.venv-mediapipe` (MediaPipe pins an older protobuf than TensorFlow 2.20),
driven through `tests/mediapipe_runner.py` in a subprocess. `make test`
creates that environment and sets `KERAS_ELECTRA_MEDIAPIPE_PYTHON`, so there
a missing MediaPipe is a failure, not a skip.
"""

import json
import os
import subprocess
import unicodedata

import keras
import numpy as np
import pytest

from test_export_utils import build_vocabulary
from test_export_utils import corpus_sentences
from test_export_utils import random_inputs
from test_export_utils import tf_backend
from test_export_utils import tiny_classifier

pytestmark = pytest.mark.skipif(
    not tf_backend(), reason="export runs under the TensorFlow backend only"
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNNER = os.path.join(ROOT, "tests", "mediapipe_runner.py")
MEDIAPIPE_PYTHON = os.environ.get(
    "KERAS_ELECTRA_MEDIAPIPE_PYTHON",
    os.path.join(ROOT, ".venv-mediapipe", "bin", "python"),
)
SEQUENCE_LENGTH = 64
NUM_SENTENCES = 500


def mediapipe(verb, model, payload, tmp_path):
    if not os.path.exists(MEDIAPIPE_PYTHON):
        if "KERAS_ELECTRA_MEDIAPIPE_PYTHON" in os.environ:
            pytest.fail(f"No MediaPipe Python at {MEDIAPIPE_PYTHON}.")
        pytest.skip("no .venv-mediapipe (`make test` creates it)")
    request = tmp_path / f"{verb}_request.json"
    result = tmp_path / f"{verb}_result.json"
    request.write_text(json.dumps(payload), encoding="utf-8")
    out = subprocess.run(
        [MEDIAPIPE_PYTHON, RUNNER, verb, str(model), str(request),
         str(result)],
        capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(result.read_text(encoding="utf-8"))


def _tokenizer(lowercase=True):
    from keras_electra.data import ElectraTokenizer

    texts = corpus_sentences(300)
    return ElectraTokenizer(
        build_vocabulary(texts, size=1500), lowercase=lowercase
    )


def test_classifier_metadata_fields_and_single_output(tmp_path):
    from keras_electra.export import TFLiteRunner
    from keras_electra.export import export_tflite
    from keras_electra.export import list_tflite_ops
    from keras_electra.export import read_manifest
    from keras_electra.export import read_tflite_metadata
    from keras_electra.export.tflite_metadata import subgraph_input_names

    tokenizer = _tokenizer()
    model = tiny_classifier(tokenizer.vocabulary_size(), num_classes=3)
    path = export_tflite(model, str(tmp_path / "m.tflite"),
                         sequence_length=16, tokenizer=tokenizer,
                         labels=["bad", "neutral", "good"])
    info = read_tflite_metadata(path)
    with open(path, "rb") as f:
        order = subgraph_input_names(f.read())
    names = {"token_ids": "ids", "padding_mask": "mask",
             "segment_ids": "segment_ids"}
    assert info["inputs"] == [names[n] for n in order]
    assert info["outputs"] == ["score"]
    assert info["labels"] == ["bad", "neutral", "good"]
    assert info["files"] == ["vocab.txt", "labels.txt"]
    assert info["name"] == type(model).__name__
    assert info["min_parser_version"] == "1.1.0"
    assert info["version"].startswith("keras_electra ")
    assert read_manifest(path)["mediapipe_metadata"] == {
        "kind": "classifier", "labels": ["bad", "neutral", "good"],
        "packed_files": ["labels.txt", "vocab.txt"],
    }
    assert not [op for op in list_tflite_ops(path) if op.startswith("Flex")]
    # One output: the probabilities, equal to Keras' softmax.
    x = random_inputs(4, 16, tokenizer.vocabulary_size(), seed=2)
    out = TFLiteRunner(path).predict(x)
    assert sorted(out) == ["probabilities"]
    logits = np.asarray(model.predict(x, verbose=0))
    expected = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(out["probabilities"], expected, atol=1e-5)
    # Full int8 (calibrated; its mask-fill check compares the one output).
    int8 = export_tflite(model, str(tmp_path / "int8.tflite"),
                         quantization="full_int8", representative_data=x,
                         sequence_length=16, tokenizer=tokenizer,
                         labels=["bad", "neutral", "good"])
    assert read_tflite_metadata(int8)["outputs"] == ["score"]
    assert read_manifest(int8)["attention_mask_fill_max_change"] < 1e-3
    assert sorted(TFLiteRunner(int8).predict(x)) == ["probabilities"]
    # metadata=False: the token-id model with both outputs, no metadata.
    plain = export_tflite(model, str(tmp_path / "plain.tflite"),
                          sequence_length=16, tokenizer=tokenizer,
                          metadata=False)
    assert read_tflite_metadata(plain) is None
    assert sorted(TFLiteRunner(plain).predict(x)) == [
        "logits", "probabilities"]


def test_metadata_defaults_and_refusals(tmp_path):
    from keras_electra.export import export_tflite
    from keras_electra.export import read_tflite_metadata
    from keras_electra.models import ElectraDiscriminator

    tokenizer = _tokenizer()
    size = tokenizer.vocabulary_size()
    model = tiny_classifier(size)
    path = str(tmp_path / "m.tflite")
    # No tokenizer or batch_size != 1: the default quietly gives the plain
    # model; asked for, metadata says what is missing.
    export_tflite(model, path, sequence_length=16)
    assert read_tflite_metadata(path) is None
    export_tflite(model, path, sequence_length=16, tokenizer=tokenizer,
                  batch_size=2)
    assert read_tflite_metadata(path) is None
    with pytest.raises(ValueError, match="tokenizer="):
        export_tflite(model, path, sequence_length=16, metadata=True)
    with pytest.raises(ValueError, match="batch_size=2"):
        export_tflite(model, path, sequence_length=16, tokenizer=tokenizer,
                      batch_size=2, metadata=True)
    with pytest.raises(ValueError, match="lowercase=False"):
        export_tflite(model, path, sequence_length=16,
                      tokenizer=_tokenizer(lowercase=False), metadata=True)
    with pytest.raises(ValueError, match="2 classes but 3 labels"):
        export_tflite(model, path, sequence_length=16, tokenizer=tokenizer,
                      labels=["a", "b", "c"])
    with pytest.raises(ValueError, match="distinct"):
        export_tflite(model, path, sequence_length=16, tokenizer=tokenizer,
                      labels=["a", "a"])
    discriminator = ElectraDiscriminator(model.backbone)
    with pytest.raises(ValueError, match="ElectraDiscriminator is neither"):
        export_tflite(discriminator, path, sequence_length=16,
                      tokenizer=tokenizer, metadata=True)
    export_tflite(discriminator, path, sequence_length=16,
                  tokenizer=tokenizer)
    assert read_tflite_metadata(path) is None


def _rotten_tomatoes_test():
    from keras_electra.data import load_rotten_tomatoes

    texts, _ = load_rotten_tomatoes("test")
    return list(texts[:NUM_SENTENCES])


@pytest.fixture(scope="module")
def finetuned(tmp_path_factory):
    """A classifier fine-tuned and exported with the CLI (Rotten Tomatoes)."""
    from test_reliability import VOCAB
    from test_reliability import cli_here
    from test_reliability import vocabulary_size

    from keras_electra.models import ElectraDiscriminator

    folder = tmp_path_factory.mktemp("mediapipe")
    encoder = folder / "encoder"
    # A fixed encoder: the agreement below is measured on one model, not on
    # whichever an unseeded initialization gives.
    keras.utils.set_random_seed(0)
    ElectraDiscriminator.from_preset(
        "electra_tiny", vocabulary_size=vocabulary_size(), num_layers=2,
        num_groups=1,
    ).save_to_preset(str(encoder))
    (encoder / "vocab.txt").write_text(open(VOCAB).read())
    out = cli_here("finetune", "--model", encoder, "--output", folder / "clf",
              "--task", "rotten_tomatoes", "--epochs", "2",
              "--max-train-examples", "3000", "--sequence-length",
              str(SEQUENCE_LENGTH), "--learning-rate", "1e-3", cwd=folder)
    assert out.returncode == 0, out.stderr[-3000:]
    out = cli_here("export", "--model", folder / "clf", "--output", folder,
              "--format", "tflite", "--quantization", "float32",
              "dynamic_int8", "--sequence-length", str(SEQUENCE_LENGTH),
              cwd=folder)
    assert out.returncode == 0, out.stderr[-3000:]
    return folder


def test_metadata_is_what_mediapipes_own_writer_writes(finetuned, tmp_path):
    model = finetuned / "tflite" / "model_dynamic_int8.tflite"
    labels = json.loads((finetuned / "clf" / "labels.json").read_text())
    shown = mediapipe("writer_json", model, {
        "vocab": str(finetuned / "tflite" / "vocab.txt"),
        "labels": labels["labels"],
    }, tmp_path)
    assert shown["ours_files"] == ["labels.txt", "vocab.txt"]
    assert shown["ours"]["subgraph_metadata"] == (
        shown["theirs"]["subgraph_metadata"])
    assert shown["ours"]["min_parser_version"] == (
        shown["theirs"]["min_parser_version"])
    assert shown["ours"]["name"] == "ElectraTextClassifier"


def test_mediapipe_text_classifier_agrees_with_keras(finetuned, tmp_path):
    from keras_electra.models import ElectraTextClassifier

    texts = _rotten_tomatoes_test()
    classifier = ElectraTextClassifier.from_preset(str(finetuned / "clf"))
    logits = np.asarray(classifier.predict(texts, verbose=0))
    keras_probabilities = np.exp(logits) / np.exp(logits).sum(
        -1, keepdims=True)
    expected_labels = json.loads(
        (finetuned / "clf" / "labels.json").read_text())["labels"]
    # Not a constant model: both classes are predicted.
    assert len(set(logits.argmax(-1))) == 2
    for name, min_agreement in (("float32", 0.995), ("dynamic_int8", 0.995)):
        model = finetuned / "tflite" / f"model_{name}.tflite"
        result = mediapipe("classify", model, texts, tmp_path)
        assert result["labels"] == expected_labels
        scores = np.asarray(result["scores"])
        agreement = (scores.argmax(-1) == logits.argmax(-1)).mean()
        assert agreement >= min_agreement, (name, agreement)
        difference = np.abs(scores - keras_probabilities)
        # Close on most texts; MediaPipe's tokenizer keeps accents that
        # ours strips, so a few texts get other word pieces.
        assert np.median(difference) < (1e-4 if name == "float32" else 0.02)


def test_mediapipe_text_embedder_matches_keras(finetuned, tmp_path):
    from keras_electra.export import export_tflite
    from keras_electra.export import read_tflite_metadata
    from keras_electra.models import ElectraTextEmbedder

    texts = _rotten_tomatoes_test()
    embedder = ElectraTextEmbedder.from_preset(str(finetuned / "clf"))
    # The exported length: longer texts are truncated there as well.
    embedder.preprocessor.sequence_length = SEQUENCE_LENGTH
    expected = np.asarray(embedder.predict(texts, verbose=0))
    # MediaPipe's BERT tokenizer lower-cases but keeps accents ("cliché"),
    # which the uncased tokenizer removes: those texts may get other pieces.
    plain = np.array([unicodedata.normalize("NFD", t) == t for t in texts])
    assert 0.9 * len(texts) < plain.sum() < len(texts)
    for quantization in (None, "dynamic_int8"):
        path = export_tflite(
            embedder, str(tmp_path / f"embedder_{quantization}.tflite"),
            quantization=quantization, sequence_length=SEQUENCE_LENGTH,
        )
        assert read_tflite_metadata(path)["outputs"] == ["embedding"]
        got = np.asarray(mediapipe("embed", path, texts,
                                   tmp_path)["embeddings"])
        cosine = (got * expected).sum(-1) / (
            np.linalg.norm(got, axis=-1) * np.linalg.norm(expected, axis=-1))
        assert cosine[plain].min() >= 0.99, (quantization,
                                             np.sort(cosine[plain])[:5])
        assert (cosine >= 0.99).mean() >= 0.98, np.sort(cosine)[:10]


def test_example_runs_both_paths(finetuned, tmp_path):
    """examples/tflite_inference.py: MediaPipe on raw text, and the plain
    interpreter with the Python tokenizer, name the same class."""
    import sys

    model = str(finetuned / "tflite" / "model_dynamic_int8.tflite")
    example = os.path.join(ROOT, "examples", "tflite_inference.py")
    texts = ["A moving, beautifully acted film.", "Dull and far too long."]
    mediapipe("classify", model, texts, tmp_path)  # skips without MediaPipe
    by_mediapipe = subprocess.run(
        [MEDIAPIPE_PYTHON, example, "--mediapipe", "--model", model,
         "--text", *texts], capture_output=True, text=True, timeout=300,
    )
    assert by_mediapipe.returncode == 0, by_mediapipe.stderr[-2000:]
    by_interpreter = subprocess.run(
        [sys.executable, example, "--model", model, "--text", *texts],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, KERAS_BACKEND="tensorflow"),
    )
    assert by_interpreter.returncode == 0, by_interpreter.stderr[-2000:]
    labels = json.loads((finetuned / "clf" / "labels.json").read_text())
    names = [line.split()[0] for line in by_mediapipe.stdout.splitlines()]
    probabilities = [
        np.array(line.split("]")[0].strip("[ ").split(), float)
        for line in by_interpreter.stdout.splitlines()[1:]
    ]
    assert names == [labels["labels"][int(p.argmax())] for p in probabilities]
