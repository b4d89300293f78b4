"""LiteRT (TFLite) export for token-id inputs, builtin ops only."""

import os

import numpy as np

from keras_electra.export import common
from keras_electra.export import manifest as manifest_lib
from keras_electra.export import tflite_metadata
from keras_electra.keras_workarounds import flatten_layers
from keras_electra.layers.electra_self_attention import attention_for_export

QUANTIZATIONS = (None, "float16", "dynamic_int8", "full_int8")

# Keras' masked softmax writes -1e9 into the attention scores of padded keys.
# Static int8 calibration then spans [-1e9, max score] with 256 levels, so
# every real score lands in the same bucket and attention turns uniform over
# the real tokens (83% agreement with the float model on Rotten Tomatoes).
# Full-int8 export traces the model with this fill instead: a padded key then
# weighs at most exp(-50) of the top real key (float outputs unchanged to
# ~1e-7, checked on the calibration data), and the quantization range stays
# tens of units wide.
FULL_INT8_MASK_FILL = -50.0
# Largest logit change the bounded fill may cause on the calibration data.
MASK_FILL_TOLERANCE = 1e-3
# Full-int8 export keeps LayerNormalization in float32 by default. On a
# 4-layer, 128-wide classifier the converter's quantization debugger ranked
# LayerNorm's int8 MEAN (off by up to 74 quantization steps) and then its
# `mean x scale` product (45 steps) as the worst ops by far: the residual
# stream's large shared component does not survive 8 bits. Float LayerNorm
# lifted agreement with the float model on Rotten Tomatoes from 98.6-99.0%
# to 99.5-99.6%.
FULL_INT8_FLOAT_LAYERS = ("LayerNormalization",)


def _check_mask_fill(model, batches, bounded, output=None):
    """Raise if the bounded fill changes the model's outputs."""
    worst = 0.0
    reference = common.token_id_function(model, output=output)
    for batch in batches[:16]:
        args = [np.asarray(batch[name], "int32") for name in common.INPUT_NAMES]
        expected = reference(*args)
        actual = bounded(*args)
        for key, value in expected.items():
            diff = np.max(np.abs(np.asarray(actual[key]) - np.asarray(value)))
            worst = max(worst, float(diff))
    if worst > MASK_FILL_TOLERANCE:
        raise ValueError(
            "Full-int8 export bounds the attention mask fill at "
            f"{FULL_INT8_MASK_FILL}, but that changes this model's outputs "
            f"on the calibration data by {worst:.2e} (tolerance "
            f"{MASK_FILL_TOLERANCE}): some attention rows score every real "
            "token below the fill. Use quantization='dynamic_int8'."
        )
    return worst


def _tokenize(tokenizer, texts, sequence_length):
    from keras_electra.data import ElectraClassifierPreprocessor

    preprocessor = ElectraClassifierPreprocessor(
        tokenizer, sequence_length=sequence_length
    )
    x = preprocessor(list(texts))
    return {k: np.asarray(v, "int32") for k, v in x.items()}


def _representative_batches(data, tokenizer, sequence_length, batch_size):
    """Normalize `representative_data` to a list of input dicts."""
    if callable(data):
        data = data()
    if isinstance(data, (list, tuple)) and data and isinstance(data[0], str):
        if tokenizer is None:
            raise ValueError(
                "`representative_data` is a list of strings, which needs a "
                "`tokenizer` to turn into token ids."
            )
        data = _tokenize(tokenizer, data, sequence_length)
    if isinstance(data, dict):
        arrays = {k: np.asarray(data[k], "int32") for k in common.INPUT_NAMES}
        n = len(arrays["token_ids"])
        step = batch_size or 1
        data = [
            {k: v[i : i + step] for k, v in arrays.items()}
            for i in range(0, n - step + 1, step)
        ]
    batches = []
    for item in data:
        item = {k: np.asarray(item[k], "int32") for k in common.INPUT_NAMES}
        if item["token_ids"].ndim == 1:
            item = {k: v[None] for k, v in item.items()}
        if item["token_ids"].shape[-1] != sequence_length:
            raise ValueError(
                "`representative_data` must have sequence length "
                f"{sequence_length}; received token_ids of shape "
                f"{item['token_ids'].shape}."
            )
        batches.append(item)
    if not batches:
        raise ValueError("`representative_data` is empty.")
    return batches


def export_tflite(
    model,
    path,
    quantization=None,
    representative_data=None,
    sequence_length=128,
    tokenizer=None,
    batch_size=1,
    float_layers=FULL_INT8_FLOAT_LAYERS,
    float_ops=(),
    fuse_attention=None,
    metadata=None,
    labels=None,
    description=None,
):
    """Convert a model to a LiteRT (`.tflite`) flatbuffer of builtin ops.

    The model takes int32 `token_ids`, `segment_ids` and `padding_mask` of
    shape `[batch_size, sequence_length]` (tokenize on the device, for
    example with `keras_electra.export.SimpleTokenizer`; TF Text ops are not
    LiteRT builtins) and returns the same outputs as the SavedModel's
    token-id signature (`logits`, plus `probabilities` for classifiers).

    With `metadata` (the default for `ElectraTextClassifier` and
    `ElectraTextEmbedder`), the file is ready for MediaPipe Tasks, which
    then take raw strings (`mediapipe.tasks.python.text.TextClassifier` /
    `TextEmbedder`; Android, iOS and web alike): it carries TFLite metadata
    with a BERT tokenizer process unit (the tokenizer's `vocab.txt` packed
    in the file), the three inputs named `ids`, `mask` and `segment_ids`,
    and one output: `probabilities` (metadata `score`, with `labels.txt`
    packed) for a classifier, `embedding` for the embedder. The file still
    runs in any LiteRT interpreter (`TFLiteRunner` returns that one output).
    MediaPipe lower-cases its input, so a cased tokenizer is refused.

    Conversion goes through a concrete function with
    `tf.lite.TFLiteConverter` and `supported_ops` restricted to
    `TFLITE_BUILTINS` (plus `TFLITE_BUILTINS_INT8` for full int8): Select-TF
    ("Flex") ops are never allowed, so the file runs in the standalone
    ai-edge-litert interpreter. The op list is checked after conversion.

    Quantization:

    - `None`: float32.
    - `"float16"`: float16 weights, float32 compute.
    - `"dynamic_int8"`: int8 weights, activations quantized on the fly.
    - `"full_int8"`: int8 weights and activations, calibrated on
      `representative_data` (real token ids); inputs stay int32 ids and
      outputs float32. Ops without an int8 kernel keep float kernels.
      The graph is traced with masked attention scores filled with -50
      instead of -1e9 (`keras_electra.layers.attention_for_export`), so
      that the int8 range of the scores is not spent on the fill; the change of
      outputs is checked on the calibration data (at most 1e-3, else a
      `ValueError`). The ops of the Keras layers named in `float_layers`
      (LayerNormalization by default) and the op types in `float_ops`
      keep float32 kernels, selected with the converter's quantization
      debugger.

    Next to `path` it writes `vocab.txt` (when `tokenizer` is given) and
    `<name>.manifest.json` (config, vocabulary SHA-256, quantization, input
    and output specs, versions, creation command and date).

    Args:
        model: a keras_electra model taking the three int inputs.
        path: str. The `.tflite` file to write.
        quantization: None, `"float16"`, `"dynamic_int8"` or `"full_int8"`.
            Defaults to `None`.
        representative_data: calibration inputs for `"full_int8"`: a dict of
            int arrays `[n, sequence_length]`, a list of such dicts, a list
            of strings (tokenized with `tokenizer`), or a callable returning
            one of those. A few hundred real examples are plenty. Defaults to
            `None`.
        sequence_length: int. Defaults to `128`.
        tokenizer: `ElectraTokenizer` or None. Its vocabulary is shipped as
            `vocab.txt`. `None` takes the model's preprocessor's tokenizer,
            if it has one. Defaults to `None`.
        batch_size: int or None. Fixed batch dimension; `None` leaves it
            dynamic (resize the interpreter inputs before use). Defaults to
            `1`.
        float_layers: sequence of Keras layer class names whose ops
            `"full_int8"` keeps in float32; `()` quantizes every op that has
            an int8 kernel. Ignored by the other modes. Defaults to
            `("LayerNormalization",)`.
        float_ops: sequence of LiteRT op names (for example `"MEAN"`) that
            `"full_int8"` keeps in float32 wherever they occur. Defaults to
            `()`.
        fuse_attention: bool or None. Trace self-attention with one fused
            query/key/value projection and an additive padding mask
            (`keras_electra.layers.attention_for_export`; same outputs,
            fewer and larger ops: dynamic int8 ELECTRA-Small 12-19%
            faster). `None` fuses for every quantization except
            `"full_int8"`, whose accuracy was validated on the unfused graph
            (fused, query, key and value would share one int8 activation
            scale). The manifest
            records how many blocks were fused (`fused_attention_blocks`).
            Defaults to `None`.
        metadata: bool or None. Write MediaPipe-ready TFLite metadata (see
            above; needs an uncased tokenizer and `batch_size=1`). `None`
            writes it for text classifiers and text embedders when those
            hold, `False` gives the plain token-id model with all its
            outputs. Defaults to `None`.
        labels: list of str or None. The class names a classifier's
            metadata ships as `labels.txt`, in class-id order. `None` names
            them `"0"`, `"1"`, ... Defaults to `None`.
        description: str or None. The metadata's model description.
            Defaults to a description of the task.

    Returns:
        `path` (str).

    Example:
    ```python
    from keras_electra.export import export_tflite, list_tflite_ops
    from keras_electra.models import ElectraDiscriminator
    model = ElectraDiscriminator.from_preset("electra_tiny")
    export_tflite(model, "/tmp/electra_tiny.tflite",
                  quantization="dynamic_int8", sequence_length=64)
    assert not any(op.startswith("Flex")
                   for op in list_tflite_ops("/tmp/electra_tiny.tflite"))
    ```
    """
    common.check_tensorflow_backend("export_tflite")
    common.check_sequence_length(model, sequence_length)
    if tokenizer is None:
        preprocessor = getattr(model, "preprocessor", None)
        tokenizer = getattr(preprocessor, "tokenizer", None)
    kind = tflite_metadata.metadata_kind(model, metadata)
    if kind is not None and metadata is None and (
        tflite_metadata.metadata_problem(tokenizer, batch_size)
    ):
        kind = None
    if kind is not None:
        labels = tflite_metadata.check_metadata_inputs(
            model, kind, tokenizer, batch_size, labels
        )
    if quantization not in QUANTIZATIONS:
        raise ValueError(
            f"`quantization` must be one of {QUANTIZATIONS}. Received: "
            f"quantization={quantization!r}"
        )
    if fuse_attention not in (None, True, False):
        raise ValueError(
            "`fuse_attention` must be None, True or False. Received: "
            f"fuse_attention={fuse_attention!r}"
        )
    if isinstance(float_ops, str):
        float_ops = (float_ops,)
    float_ops = tuple(float_ops or ())
    if isinstance(float_layers, str):
        float_layers = (float_layers,)
    float_layers = tuple(float_layers or ())
    unknown = sorted(set(float_ops) - set(_builtin_names().values()))
    if unknown:
        raise ValueError(
            f"`float_ops` must be LiteRT builtin op names such as 'MEAN'. "
            f"Unknown: {unknown}."
        )
    float_layer_names = (
        _layer_names(model, float_layers)
        if quantization == "full_int8" else set()
    )
    if quantization == "full_int8" and representative_data is None:
        raise ValueError(
            "quantization='full_int8' needs `representative_data` (real "
            "token ids) to calibrate the activation ranges."
        )
    import tensorflow as tf

    specs = common.token_id_specs(batch_size, sequence_length)
    function = tf.function(common.token_id_function(
        model, output=tflite_metadata.KIND_OUTPUTS.get(kind)
    ))
    if fuse_attention is None:
        fuse_attention = quantization != "full_int8"
    attention = attention_for_export(
        model,
        fuse_projections=fuse_attention,
        mask_fill=FULL_INT8_MASK_FILL if quantization == "full_int8" else None,
    )
    with attention as attention_layers:
        concrete = function.get_concrete_function(*specs)
    fused_layers = attention_layers if fuse_attention else []
    if quantization == "full_int8":
        batches = _representative_batches(
            representative_data, tokenizer, sequence_length, batch_size
        )
        mask_fill_change = _check_mask_fill(
            model, batches, concrete, tflite_metadata.KIND_OUTPUTS.get(kind)
        )
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [_frozen(concrete, specs)], tf.Module()
    )
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantization == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantization == "dynamic_int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif quantization == "full_int8":

        def representative_dataset():
            for batch in batches:
                # By name: the graph's input order is not the spec order.
                yield dict(batch)

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative_dataset
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.TFLITE_BUILTINS_INT8,
            tf.lite.OpsSet.TFLITE_BUILTINS,
        ]
    float_nodes = []
    if quantization == "full_int8" and (float_ops or float_layers):
        flatbuffer, float_nodes = _convert_with_float_ops(
            converter,
            representative_dataset,
            float_ops,
            float_layer_names,
        )
    else:
        flatbuffer = converter.convert()
    if kind is not None:
        flatbuffer = tflite_metadata.with_metadata(
            flatbuffer, model, kind, tokenizer, labels, description
        )

    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(flatbuffer)
    ops = list_tflite_ops(tmp)
    flex = [op for op in ops if op.startswith("Flex") or op.startswith("CUSTOM")]
    if flex:
        os.remove(tmp)
        raise RuntimeError(
            f"The converted model uses non-builtin ops {flex}; it would not "
            "run in the standalone LiteRT interpreter."
        )
    os.replace(tmp, path)

    vocabulary = None
    if tokenizer is not None:
        vocabulary = list(tokenizer.vocabulary)
        manifest_lib.write_vocabulary(
            vocabulary, os.path.join(folder, "vocab.txt")
        )
    from keras_electra.export.saved_model import tokenizer_config

    # Calibration and float-kept ops: recorded for full int8, None otherwise.
    full_int8_fields = dict.fromkeys((
        "calibration_batches", "attention_mask_fill",
        "attention_mask_fill_max_change", "float_ops", "float_layers",
        "float_tensors",
    ))
    if quantization == "full_int8":
        full_int8_fields.update(
            calibration_batches=len(batches),
            attention_mask_fill=FULL_INT8_MASK_FILL,
            attention_mask_fill_max_change=mask_fill_change,
            float_ops=list(float_ops),
            float_layers=list(float_layers),
            float_tensors=len(float_nodes),
        )
    manifest = manifest_lib.build_manifest(
        model,
        "tflite",
        inputs={"serving_default": manifest_lib.spec_list(specs)},
        outputs={
            "serving_default": manifest_lib.spec_list(
                concrete.structured_outputs
            )
        },
        quantization=quantization,
        vocabulary=vocabulary,
        tokenizer_config=(
            None
            if tokenizer is None
            else tokenizer_config(tokenizer, sequence_length)
        ),
        extra={
            "file": os.path.basename(path),
            "file_bytes": len(flatbuffer),
            "sequence_length": sequence_length,
            "batch_size": batch_size,
            "ops": ops,
            "fused_attention_blocks": len(fused_layers),
            "mediapipe_metadata": None if kind is None else {
                "kind": kind,
                "labels": labels,
                "packed_files": sorted(tflite_metadata.packed_files(kind)),
            },
            "supported_ops": [
                str(s).split(".")[-1]
                for s in converter.target_spec.supported_ops
            ],
            **full_int8_fields,
        },
    )
    manifest_lib.write_manifest(
        manifest, manifest_lib.tflite_manifest_path(path)
    )
    return path


def _layer_names(model, class_names):
    """Names of the sublayers of `model` whose class is in `class_names`.

    Raises a `ValueError` naming any class that `model` does not contain,
    so that a misspelt `float_layers` entry is not silently quantized.
    """
    found, classes = set(), set()
    for layer in flatten_layers(model, include_self=False, recursive=True):
        if type(layer).__name__ in class_names:
            found.add(layer.name)
            classes.add(type(layer).__name__)
    missing = sorted(set(class_names) - classes)
    if missing:
        raise ValueError(
            f"`float_layers` names layer classes that {type(model).__name__} "
            f"does not contain: {missing}. Pass Keras class names such as "
            "'LayerNormalization', or `float_layers=()`."
        )
    return found


def _convert_with_float_ops(converter, dataset, float_ops, layer_names):
    """Calibrate and quantize, keeping some ops in float32.

    `float_ops` are LiteRT op names; `layer_names` are Keras layer names,
    whose graph ops (tensors named `.../<layer name>[_N]/...`) stay float.
    Returns the flatbuffer and the list of tensor names kept float by layer.
    """
    import re

    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    options = tf.lite.experimental.QuantizationDebugOptions(
        denylisted_ops=list(float_ops) or None
    )
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=converter, debug_dataset=dataset, debug_options=options
    )
    nodes = []
    if layer_names:
        pattern = re.compile(
            r"(^|/)("
            + "|".join(re.escape(name) for name in sorted(layer_names))
            + r")(_\d+)?/"
        )
        tensors = Interpreter(
            model_content=debugger.calibrated_model
        ).get_tensor_details()
        nodes = sorted(
            {t["name"] for t in tensors if pattern.search(t["name"])}
        )
        if not nodes:
            raise RuntimeError(
                "No tensor of the converted graph belongs to the layers "
                f"{sorted(layer_names)} (graph names did not match "
                "`.../<layer name>[_N]/...`), so they would be quantized to "
                "int8 after all. Pass `float_layers=()` to accept that."
            )
        debugger.options = tf.lite.experimental.QuantizationDebugOptions(
            denylisted_ops=list(float_ops) or None,
            denylisted_nodes=nodes or None,
        )
    return debugger.get_nondebug_quantized_model(), nodes


def _frozen(concrete, specs):
    """The function with its weights as constants, outputs still named.

    Converting the variable-capturing function keeps the weights as resource
    variables (`VAR_HANDLE` / `READ_VARIABLE` ops, slower, and they broke
    calibration); freezing first gives constant weights and
    `FULLY_CONNECTED` kernels.
    """
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    frozen = convert_variables_to_constants_v2(concrete)
    names = sorted(concrete.structured_outputs)

    def serve(token_ids, segment_ids, padding_mask):
        outputs = frozen(token_ids, segment_ids, padding_mask)
        return dict(zip(names, outputs))

    return tf.function(serve).get_concrete_function(*specs)


def _builtin_names():
    from ai_edge_litert import schema_py_generated as schema

    return {
        value: name
        for name, value in vars(schema.BuiltinOperator).items()
        if not name.startswith("_") and isinstance(value, int)
    }


def calibration_sample(examples, size=100, seed=0):
    """A seeded random sample of examples for full-int8 calibration.

    The first examples of a training split often come from a few sources
    (the first Rotten Tomatoes reviews cover a handful of movies) and
    calibrate worse than a random sample of the same size: full-int8
    agreement 98.97% against 99.60% (benchmarks/RESULTS_export.md).

    Args:
        examples: a list of texts (or any sequence), or a dict of equally
            long arrays (`token_ids`, `segment_ids`, `padding_mask`).
        size: int. Examples to keep; all of them if there are fewer.
            Defaults to `100`.
        seed: int. Defaults to `0`.

    Returns:
        The same kind of object as `examples`, holding the sample in its
        original order.

    Example:
    ```python
    from keras_electra.export import calibration_sample
    texts = [f"review {i}" for i in range(1000)]
    sample = calibration_sample(texts, size=100)
    assert len(sample) == 100 and sample == calibration_sample(texts, 100)
    ```
    """
    if size < 1:
        raise ValueError(f"`size` must be at least 1, got {size}.")
    if isinstance(examples, dict):
        lengths = {len(v) for v in examples.values()}
        if len(lengths) != 1:
            raise ValueError(
                "All arrays of a calibration dict must have the same length, "
                f"got lengths { {k: len(v) for k, v in examples.items()} }."
            )
        count = lengths.pop()
    else:
        count = len(examples)
    if count == 0:
        raise ValueError("No calibration examples were given.")
    index = np.sort(
        np.random.default_rng(seed).choice(
            count, min(size, count), replace=False
        )
    )
    if isinstance(examples, dict):
        return {k: np.asarray(v)[index] for k, v in examples.items()}
    return [examples[i] for i in index]


def list_tflite_ops(path):
    """Sorted names of the operators a `.tflite` file uses.

    Reads the flatbuffer's operator codes (no interpreter, no TensorFlow):
    builtin ops by their schema name (`"FULLY_CONNECTED"`, ...), custom ops
    by their custom code (Select-TF ops appear as `"Flex..."`).

    Args:
        path: str. A `.tflite` file.

    Returns:
        list of str.

    Example:
    ```python
    ops = list_tflite_ops("/tmp/electra_tiny.tflite")
    assert "FULLY_CONNECTED" in ops
    ```
    """
    _, code_names = _read_operator_codes(path)
    return sorted(set(code_names))


def tflite_op_counts(path):
    """How many operators of each kind a `.tflite` file runs.

    Counts the operators of every subgraph, named as `list_tflite_ops`
    names them.

    Args:
        path: str. A `.tflite` file.

    Returns:
        dict of str to int, largest count first.

    Example:
    ```python
    counts = tflite_op_counts("/tmp/electra_tiny.tflite")
    assert counts["FULLY_CONNECTED"] > 0
    ```
    """
    import collections

    model, code_names = _read_operator_codes(path)
    counts = collections.Counter()
    for g in range(model.SubgraphsLength()):
        subgraph = model.Subgraphs(g)
        for i in range(subgraph.OperatorsLength()):
            counts[code_names[subgraph.Operators(i).OpcodeIndex()]] += 1
    return dict(counts.most_common())


def _read_operator_codes(path):
    """The parsed flatbuffer and the name of each of its operator codes."""
    from ai_edge_litert import schema_py_generated as schema

    with open(path, "rb") as f:
        buffer = bytearray(f.read())
    model = schema.Model.GetRootAsModel(buffer, 0)
    names = _builtin_names()
    code_names = []
    for i in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(i)
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        if builtin == schema.BuiltinOperator.CUSTOM:
            custom = code.CustomCode()
            code_names.append(custom.decode() if custom else "CUSTOM")
        else:
            code_names.append(names.get(builtin, f"BUILTIN_{builtin}"))
    return model, code_names


class TFLiteRunner:
    """Run an exported `.tflite` in the ai-edge-litert interpreter.

    Args:
        path: str. The `.tflite` file.
        num_threads: int. CPU threads. Defaults to `1`.
        latest_features: bool. Let the default XNNPACK delegate use its
            newest kernels (`experimental_default_delegate_latest_features`),
            among them dynamically quantized int8 matrix products for
            `dynamic_int8` models. Outputs are unchanged; on ELECTRA-Small
            its effect on latency was within this machine's noise (see
            benchmarks/RESULTS_export.md). Defaults to `True`.

    Example:
    ```python
    import numpy as np
    runner = TFLiteRunner("/tmp/electra_tiny.tflite")
    x = {"token_ids": np.array([[2, 10, 3] + [0] * 61], "int32"),
         "segment_ids": np.zeros((1, 64), "int32"),
         "padding_mask": np.array([[1, 1, 1] + [0] * 61], "int32")}
    logits = runner(x)["logits"]
    ```
    """

    def __init__(self, path, num_threads=1, latest_features=True):
        from ai_edge_litert.interpreter import Interpreter

        self.path = os.fspath(path)
        self.interpreter = Interpreter(
            model_path=self.path,
            num_threads=num_threads,
            experimental_default_delegate_latest_features=latest_features,
        )
        self.runner = self.interpreter.get_signature_runner()
        details = self.runner.get_input_details()
        self.input_details = details
        self.batch_size = details["token_ids"]["shape"][0]

    def __call__(self, inputs):
        """Outputs for one batch (dict of int arrays) as a dict of arrays."""
        inputs = {
            k: np.asarray(inputs[k], "int32") for k in common.INPUT_NAMES
        }
        for name, value in inputs.items():
            expected = self.input_details[name]["shape"]
            if value.ndim != 2 or value.shape[1] != expected[1]:
                raise ValueError(
                    f"`{name}` must have shape [batch, {expected[1]}] for "
                    f"this model; received {value.shape}."
                )
        return {k: np.array(v) for k, v in self.runner(**inputs).items()}

    def predict(self, inputs):
        """Run any number of rows, `batch_size` at a time; dict of arrays.

        Example:
        ```python
        outputs = TFLiteRunner("/tmp/electra_tiny.tflite").predict(x)
        ```
        """
        n = len(inputs["token_ids"])
        step = int(self.batch_size) if self.batch_size > 0 else n
        results = []
        for i in range(0, n, step):
            chunk = {k: np.asarray(inputs[k])[i : i + step] for k in
                     common.INPUT_NAMES}
            rows = len(chunk["token_ids"])
            if rows < step:
                chunk = {
                    k: np.concatenate(
                        [v, np.repeat(v[-1:], step - rows, axis=0)]
                    )
                    for k, v in chunk.items()
                }
            out = self(chunk)
            results.append({k: v[:rows] for k, v in out.items()})
        return {
            k: np.concatenate([r[k] for r in results]) for k in results[0]
        }
