"""Manifest JSON and vocabulary files written next to every exported artifact."""

import datetime
import hashlib
import json
import os
import sys

MANIFEST_VERSION = 1


def _vocabulary_text(vocabulary):
    return "".join(token + "\n" for token in vocabulary)


def vocabulary_sha256(vocabulary):
    """SHA-256 of a vocabulary as written to `vocab.txt` (one token a line).

    Args:
        vocabulary: list of str, or the path of a `vocab.txt`.

    Returns:
        The hex digest (str).

    Example:
    ```python
    digest = vocabulary_sha256(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    assert len(digest) == 64
    ```
    """
    if isinstance(vocabulary, (str, os.PathLike)):
        with open(vocabulary, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    data = _vocabulary_text(vocabulary).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def write_vocabulary(vocabulary, path):
    """Write `vocab.txt` (one token a line) and return its SHA-256.

    An existing file with other contents is never overwritten: two models
    with different vocabularies must not share a folder.

    Args:
        vocabulary: list of str.
        path: str. File to write.

    Example:
    ```python
    write_vocabulary(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
                     "/tmp/vocab.txt")
    ```
    """
    data = _vocabulary_text(vocabulary).encode("utf-8")
    if os.path.exists(path):
        with open(path, "rb") as f:
            if f.read() != data:
                raise FileExistsError(
                    f"'{path}' already exists with a different vocabulary. "
                    "Export models with different vocabularies to different "
                    "folders."
                )
    else:
        tmp = f"{path}.tmp-{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    return hashlib.sha256(data).hexdigest()


def _jsonable(value):
    try:
        json.dumps(value)
        return value
    except TypeError:
        if isinstance(value, dict):
            return {str(k): _jsonable(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [_jsonable(v) for v in value]
        return repr(value)


def build_manifest(model, artifact_format, inputs, outputs, quantization=None,
                   vocabulary=None, tokenizer_config=None, extra=None):
    """The manifest of an exported artifact, as a dict.

    Fields: `format`, `model_class`, `config` (the model's Keras config),
    `vocabulary_sha256` and `vocabulary_size` (or `None`), `tokenizer`,
    `quantization`, `inputs` and `outputs` (name, dtype, shape; `None` for a
    free dimension), `keras_electra_version`, `keras_version`,
    `tensorflow_version`, `keras_backend`, `created_by` (`sys.argv`) and
    `created_at` (UTC, ISO 8601).

    Args:
        model: the exported Keras model.
        artifact_format: str. `"saved_model"` or `"tflite"`.
        inputs: dict of signature name -> list of `{"name", "dtype",
            "shape"}`.
        outputs: dict of signature name -> list of `{"name", "dtype",
            "shape"}`.
        quantization: str or None. Defaults to `None`.
        vocabulary: list of str or None. Defaults to `None`.
        tokenizer_config: dict or None. Defaults to `None`.
        extra: dict or None. Merged into the manifest. Defaults to `None`.

    Example:
    ```python
    from keras_electra.models import ElectraDiscriminator
    model = ElectraDiscriminator.from_preset("electra_tiny")
    spec = [{"name": "token_ids", "dtype": "int32", "shape": [1, 128]}]
    manifest = build_manifest(model, "tflite", {"serving_default": spec},
                              {"serving_default": []})
    assert manifest["format"] == "tflite"
    ```
    """
    import keras
    import tensorflow as tf

    import keras_electra

    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "format": artifact_format,
        "model_class": type(model).__name__,
        "config": _jsonable(model.get_config()),
        "vocabulary_sha256": (
            vocabulary_sha256(vocabulary) if vocabulary is not None else None
        ),
        "vocabulary_size": len(vocabulary) if vocabulary is not None else None,
        "tokenizer": _jsonable(tokenizer_config),
        "quantization": quantization,
        "inputs": inputs,
        "outputs": outputs,
        "keras_electra_version": keras_electra.__version__,
        "keras_version": keras.__version__,
        "tensorflow_version": tf.__version__,
        "keras_backend": keras.config.backend(),
        "created_by": list(sys.argv),
        "created_at": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
    }
    manifest.update(_jsonable(extra or {}))
    return manifest


def write_manifest(manifest, path):
    """Write a manifest dict as indented JSON (atomically) and return `path`.

    Example:
    ```python
    write_manifest({"format": "tflite"}, "/tmp/model.manifest.json")
    ```
    """
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)
    return path


def read_manifest(path):
    """Read a manifest: a JSON file, a SavedModel version folder, or a
    `.tflite` file (its `<name>.manifest.json` sibling).

    Example:
    ```python
    manifest = read_manifest("/tmp/electra_serving/1")
    print(manifest["inputs"])
    ```
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, "manifest.json")
    elif path.endswith(".tflite"):
        path = tflite_manifest_path(path)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def tflite_manifest_path(tflite_path):
    """`model.tflite` -> `model.manifest.json` (same folder).

    Example:
    ```python
    assert tflite_manifest_path("/a/m.tflite") == "/a/m.manifest.json"
    ```
    """
    root, _ = os.path.splitext(os.fspath(tflite_path))
    return root + ".manifest.json"


def spec_list(specs):
    """`[{"name", "dtype", "shape"}]` from `tf.TensorSpec`s or a dict of them.

    Example:
    ```python
    import tensorflow as tf
    spec_list([tf.TensorSpec([None], tf.string, name="text")])
    ```
    """
    if isinstance(specs, dict):
        items = sorted(specs.items())
    else:
        items = [(s.name, s) for s in specs]
    return [
        {
            "name": name,
            "dtype": spec.dtype.name,
            "shape": [d for d in spec.shape.as_list()]
            if spec.shape.rank is not None
            else None,
        }
        for name, spec in items
    ]
