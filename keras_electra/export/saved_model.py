"""SavedModel export for TensorFlow Serving, tokenization in the graph."""

import os
import shutil
import uuid

from keras_electra.export import common
from keras_electra.export import manifest as manifest_lib

TEXT_SIGNATURE = "serving_default"
TOKEN_IDS_SIGNATURE = "serving_token_ids"


def _next_version(export_dir):
    versions = [
        int(name)
        for name in os.listdir(export_dir)
        if name.isdigit() and os.path.isdir(os.path.join(export_dir, name))
    ]
    return max(versions, default=0) + 1


def tokenizer_config(tokenizer, sequence_length):
    """The tokenization settings an app needs to reproduce the inputs.

    Example:
    ```python
    from keras_electra.data import ElectraTokenizer
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a"]
    config = tokenizer_config(ElectraTokenizer(vocab), 16)
    assert config["cls_token_id"] == 2
    ```
    """
    return {
        "class": type(tokenizer).__name__,
        "vocabulary_file": "vocab.txt",
        "lowercase": bool(getattr(tokenizer, "lowercase", True)),
        "strip_accents": bool(getattr(tokenizer, "strip_accents", True)),
        "split_on_cjk": bool(getattr(tokenizer, "split_on_cjk", True)),
        "suffix_indicator": getattr(tokenizer, "suffix_indicator", "##"),
        "oov_token": getattr(tokenizer, "oov_token", "[UNK]"),
        "max_chars_per_word": 100,
        "normalization": "BertTokenizerFast (no NFKC)",
        "pad_token_id": int(tokenizer.pad_token_id),
        "cls_token_id": int(tokenizer.cls_token_id),
        "sep_token_id": int(tokenizer.sep_token_id),
        "unk_token_id": int(tokenizer.token_to_id(tokenizer.oov_token)),
        "sequence_length": int(sequence_length),
        "packing": "[CLS] tokens[:sequence_length - 2] [SEP] [PAD]...",
    }


def _checked(serve, vocabulary_size, sequence_length):
    """Wrap the token-id function with in-graph checks of shape and range.

    Loaded signatures do not enforce static shapes, so a wrong length would
    otherwise fail deep inside the model ("Incompatible shapes: [3,32,16]
    vs. [3,5,16]"); these checks fail first, with the input's name, the
    expected shape and the received one (also through TF Serving).
    """
    import tensorflow as tf

    def serve_checked(token_ids, segment_ids, padding_mask):
        inputs = {
            "token_ids": token_ids,
            "segment_ids": segment_ids,
            "padding_mask": padding_mask,
        }
        checks = []
        for name, value in inputs.items():
            checks.append(
                tf.debugging.assert_equal(
                    tf.shape(value)[1:],
                    tf.constant([sequence_length]),
                    message=(
                        f"`{name}` must have shape [batch, "
                        f"{sequence_length}] (int32); its length differs "
                        "(x: received length, y: expected)"
                    ),
                    summarize=4,
                )
            )
            checks.append(
                tf.debugging.assert_equal(
                    tf.shape(value),
                    tf.shape(token_ids),
                    message=(
                        f"`{name}` and `token_ids` must have the same shape"
                    ),
                    summarize=4,
                )
            )
        if vocabulary_size:
            checks.append(
                tf.debugging.assert_less(
                    token_ids,
                    tf.constant(vocabulary_size, tf.int32),
                    message=(
                        f"`token_ids` must be < vocabulary_size="
                        f"{vocabulary_size}"
                    ),
                    summarize=1,
                )
            )
            checks.append(
                tf.debugging.assert_non_negative(
                    token_ids, message="`token_ids` must be >= 0",
                    summarize=1,
                )
            )
        with tf.control_dependencies(checks):
            token_ids = tf.identity(token_ids)
        return serve(token_ids, segment_ids, padding_mask)

    return serve_checked


def _tf_variable(variable):
    return getattr(variable, "value", variable)


def _serving_module(model, tokenizer, sequence_length):
    import tensorflow as tf

    serve_ids = _checked(
        common.token_id_function(model),
        getattr(common.backbone_of(model), "vocabulary_size", None),
        sequence_length,
    )
    id_specs = common.token_id_specs(None, sequence_length)

    module = tf.Module()
    # Track the weights as a plain list of `tf.Variable`s (as Keras'
    # ExportArchive does). Tracking the Keras model object instead saves a
    # SavedModel that TF2 `tf.saved_model.load` reads but the session-based
    # loaders (TF Serving, `saved_model_cli run`) do not: "Could not find
    # variable classifier_dense/bias".
    module.model_variables = [_tf_variable(v) for v in model.variables]
    module.serving_token_ids = tf.function(
        serve_ids, input_signature=id_specs
    )
    signatures = {
        TOKEN_IDS_SIGNATURE: module.serving_token_ids.get_concrete_function()
    }
    text_specs = None
    if tokenizer is not None:
        from keras_electra.data import ElectraClassifierPreprocessor

        preprocessor = ElectraClassifierPreprocessor(
            tokenizer, sequence_length=sequence_length
        )
        text_specs = [tf.TensorSpec([None], tf.string, name="text")]

        def serve_text(text):
            x = preprocessor(text)
            return serve_ids(
                x["token_ids"], x["segment_ids"], x["padding_mask"]
            )

        module.serving_default = tf.function(
            serve_text, input_signature=text_specs
        )
        signatures[TEXT_SIGNATURE] = (
            module.serving_default.get_concrete_function()
        )
    else:
        signatures[TEXT_SIGNATURE] = signatures[TOKEN_IDS_SIGNATURE]
    return module, signatures, id_specs, text_specs


def _output_specs(concrete_function):
    return manifest_lib.spec_list(concrete_function.structured_outputs)


def export_saved_model(
    model,
    export_dir,
    tokenizer=None,
    sequence_length=128,
    version=None,
):
    """Export a model as a versioned SavedModel for TensorFlow Serving.

    Writes `export_dir/<version>/` with two signatures:

    - `serving_default`: `text`, a `[batch]` `tf.string` tensor of raw
      sentences. Tokenization runs in the graph (the tokenizer's WordPiece
      vocabulary, the same tf-text ops as training), then `[CLS] text
      [SEP]`, truncation to `sequence_length` (long texts are cut, never an
      error) and padding.
    - `serving_token_ids`: int32 `token_ids`, `segment_ids` and
      `padding_mask`, each `[batch, sequence_length]`.

    Both return `logits` (plus `probabilities`, the softmax, for
    classifiers; `scores` for regression). Without a `tokenizer`,
    `serving_default` is the token-id signature.

    The version folder also holds `vocab.txt` and `manifest.json` (config,
    vocabulary SHA-256, input and output specs, versions, creation command
    and date). The model is written to a temporary folder inside
    `export_dir` and renamed, so TF Serving never sees half a model and an
    existing version is never overwritten.

    The text signature needs the TF Text ops registered: in Python,
    `import tensorflow_text` first (or use `load_saved_model`, and
    `python -m keras_electra.export.saved_model_cli` instead of
    `saved_model_cli`). A model server must be built with the TF Text ops
    (not tested here); without them, serve `serving_token_ids` and tokenize
    on the client (`SimpleTokenizer` and the shipped `vocab.txt`). The
    weights are tracked as plain variables so that session-based loaders
    (TF Serving, `saved_model_cli run`) restore them.

    Only the TensorFlow backend exports; a model trained under JAX or torch
    is saved with `save_to_preset()` and reloaded under
    `KERAS_BACKEND=tensorflow` (weights are portable).

    Args:
        model: a keras_electra model (`ElectraClassifier`,
            `ElectraDiscriminator`, `ElectraBackbone`, ...) taking the three
            int inputs.
        export_dir: str. The model base folder TF Serving watches.
        tokenizer: `keras_electra.data.ElectraTokenizer` or None. Defaults to
            `None` (token-id signature only).
        sequence_length: int. Length of the packed inputs. Defaults to `128`.
        version: int or None. Version folder; `None` picks one more than the
            largest existing version (1 for an empty folder). Defaults to
            `None`.

    Returns:
        The path of the written version folder (str).

    Raises:
        RuntimeError: Keras is not on the TensorFlow backend.
        FileExistsError: the version folder already exists.

    Example:
    ```python
    from keras_electra.data import ElectraTokenizer
    from keras_electra.export import export_saved_model
    from keras_electra.models import ElectraClassifier, ElectraBackbone
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "good", "film"]
    backbone = ElectraBackbone(vocabulary_size=len(vocab), num_layers=1,
                               num_heads=2, hidden_dim=16, intermediate_dim=32)
    model = ElectraClassifier(backbone, num_classes=2)
    path = export_saved_model(model, "/tmp/electra_serving",
                              tokenizer=ElectraTokenizer(vocab),
                              sequence_length=16)
    # TF Serving: --model_base_path=/tmp/electra_serving
    ```
    """
    common.check_tensorflow_backend("export_saved_model")
    common.check_sequence_length(model, sequence_length)
    import tensorflow as tf

    export_dir = os.path.abspath(os.fspath(export_dir))
    os.makedirs(export_dir, exist_ok=True)
    if version is None:
        version = _next_version(export_dir)
    if not isinstance(version, int) or version < 0:
        raise ValueError(
            f"`version` must be a non-negative int or None. Received: "
            f"version={version!r}"
        )
    final_dir = os.path.join(export_dir, str(version))
    if os.path.exists(final_dir):
        raise FileExistsError(
            f"Version {version} already exists at '{final_dir}'; exported "
            "versions are never overwritten. Pass another `version` or "
            "`version=None` for the next one."
        )

    module, signatures, id_specs, text_specs = _serving_module(
        model, tokenizer, sequence_length
    )
    vocabulary = None if tokenizer is None else list(tokenizer.vocabulary)
    inputs = {TOKEN_IDS_SIGNATURE: manifest_lib.spec_list(id_specs)}
    inputs[TEXT_SIGNATURE] = manifest_lib.spec_list(text_specs or id_specs)
    outputs = {k: _output_specs(f) for k, f in signatures.items()}
    manifest = manifest_lib.build_manifest(
        model,
        "saved_model",
        inputs=inputs,
        outputs=outputs,
        vocabulary=vocabulary,
        tokenizer_config=(
            None
            if tokenizer is None
            else tokenizer_config(tokenizer, sequence_length)
        ),
        extra={
            "version": version,
            "sequence_length": sequence_length,
            "signatures": sorted(signatures),
            "tag_set": "serve",
        },
    )

    tmp_dir = os.path.join(export_dir, f".tmp-{version}-{uuid.uuid4().hex}")
    try:
        tf.saved_model.save(module, tmp_dir, signatures=signatures)
        if vocabulary is not None:
            manifest_lib.write_vocabulary(
                vocabulary, os.path.join(tmp_dir, "vocab.txt")
            )
        manifest_lib.write_manifest(
            manifest, os.path.join(tmp_dir, "manifest.json")
        )
        try:
            os.rename(tmp_dir, final_dir)
        except OSError:
            raise FileExistsError(
                f"Version {version} appeared at '{final_dir}' while "
                "exporting; it was left untouched."
            ) from None
    finally:
        if os.path.exists(tmp_dir):
            shutil.rmtree(tmp_dir, ignore_errors=True)
    return final_dir


class ServingModel:
    """A loaded ELECTRA SavedModel with input checks in Python.

    Returned by `load_saved_model`. Calling it with strings runs the
    `serving_default` (text) signature; `predict_token_ids` runs
    `serving_token_ids`. Inputs are checked against the signatures first,
    so a wrong dtype or length raises a `TypeError` / `ValueError` naming
    the input, what it expects and what it received.

    Attributes:
        signatures: the loaded signature functions, by name.
        manifest: the export manifest (dict), or `None` if absent.

    Example:
    ```python
    served = load_saved_model("/tmp/electra_serving/1")
    outputs = served(["a good film", "a bad film"])
    outputs["probabilities"]
    ```
    """

    def __init__(self, loaded, manifest=None):
        self.loaded = loaded
        self.signatures = dict(loaded.signatures)
        self.manifest = manifest

    def _run(self, signature, inputs):
        import numpy as np
        import tensorflow as tf

        function = self.signatures[signature]
        _, specs = function.structured_input_signature
        missing = sorted(set(specs) - set(inputs))
        extra = sorted(set(inputs) - set(specs))
        if missing or extra:
            raise ValueError(
                f"Signature '{signature}' takes inputs {sorted(specs)}; "
                f"missing {missing}, unexpected {extra}."
            )
        feed = {}
        for name, spec in specs.items():
            value = inputs[name]
            if not isinstance(value, tf.Tensor):
                value = np.asarray(value)
                if spec.dtype == tf.string and value.dtype.kind in "USO":
                    value = tf.constant(value.astype(object), tf.string)
                else:
                    value = tf.constant(value)
            if value.dtype != spec.dtype:
                if spec.dtype.is_integer and value.dtype.is_integer:
                    value = tf.cast(value, spec.dtype)
                else:
                    raise TypeError(
                        f"Signature '{signature}': input `{name}` must be "
                        f"{spec.dtype.name} of shape {_shape(spec.shape)}; "
                        f"received {value.dtype.name} of shape "
                        f"{tuple(value.shape)}."
                    )
            if not spec.shape.is_compatible_with(value.shape):
                raise ValueError(
                    f"Signature '{signature}': input `{name}` must have "
                    f"shape {_shape(spec.shape)}; received shape "
                    f"{tuple(value.shape)}. Token ids must be padded or cut "
                    "to the exported sequence length (the text signature "
                    "does this itself)."
                )
            feed[name] = value
        outputs = function(**feed)
        return {k: v.numpy() for k, v in outputs.items()}

    def __call__(self, texts):
        """Outputs of the text signature for a list of strings."""
        if isinstance(texts, str):
            texts = [texts]
        return self._run(TEXT_SIGNATURE, {"text": texts})

    def predict_token_ids(self, inputs):
        """Outputs of the token-id signature for a dict of int arrays.

        Example:
        ```python
        served.predict_token_ids({"token_ids": ids, "segment_ids": seg,
                                  "padding_mask": mask})["logits"]
        ```
        """
        return self._run(TOKEN_IDS_SIGNATURE, dict(inputs))


def _shape(shape):
    return "[" + ", ".join(
        "batch" if d is None else str(d) for d in shape.as_list()
    ) + "]"


def load_saved_model(path):
    """Load an exported SavedModel version folder as a `ServingModel`.

    Registers the TF Text ops the text signature needs (`import
    tensorflow_text`) before loading; works under any Keras backend since
    it only needs TensorFlow.

    Args:
        path: str. The version folder (`export_dir/<version>`).

    Returns:
        `ServingModel`.

    Example:
    ```python
    served = load_saved_model("/tmp/electra_serving/1")
    served(["a good film"])["logits"]
    ```
    """
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the tokenizer ops)

    manifest_path = os.path.join(path, "manifest.json")
    manifest = None
    if os.path.exists(manifest_path):
        manifest = manifest_lib.read_manifest(manifest_path)
    return ServingModel(tf.saved_model.load(os.fspath(path)), manifest)
