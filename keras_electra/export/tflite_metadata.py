"""TFLite metadata that MediaPipe Tasks reads: tokenizer, tensors, labels.

MediaPipe's `TextClassifier` and `TextEmbedder` take raw strings when the
`.tflite` carries TFLite metadata (the `ModelMetadata` flatbuffer of the
`metadata_schema.fbs` schema, file identifier `M001`, stored in the model's
`TFLITE_METADATA` buffer) with a BERT tokenizer process unit, and the
files it names (`vocab.txt`, `labels.txt`) packed after the model as an
uncompressed zip archive. This module writes exactly those fields with the
`flatbuffers` runtime (a TensorFlow dependency), so the export needs no
MediaPipe install (MediaPipe pins an older protobuf than TensorFlow); the
tests check the result against MediaPipe's own metadata writer and run it in
MediaPipe.

The flatbuffer slot numbers below are the field positions of the schema's
tables (version 1.1.0 of the schema is enough for these fields).
"""

import io
import zipfile

import numpy as np

METADATA_BUFFER_NAME = "TFLITE_METADATA"
METADATA_FILE_IDENTIFIER = b"M001"
MIN_PARSER_VERSION = "1.1.0"
# Names MediaPipe's BERT preprocessor looks for in the input tensor metadata.
INPUT_METADATA = {
    "token_ids": ("ids", "Tokenized ids of the input text."),
    "padding_mask": (
        "mask", "Mask with 1 for real tokens and 0 for padding tokens."
    ),
    "segment_ids": (
        "segment_ids",
        "0 for the first sequence, 1 for the second sequence if exists.",
    ),
}
KINDS = ("classifier", "embedder")
# The one output each kind's model keeps (see `common.token_id_function`).
KIND_OUTPUTS = {"classifier": "probabilities", "embedder": "embedding"}
DESCRIPTIONS = {
    "classifier": (
        "ELECTRA text classifier: raw text in (BERT WordPiece tokenizer), "
        "probabilities of the labels out."
    ),
    "embedder": (
        "ELECTRA text embedder: raw text in (BERT WordPiece tokenizer), "
        "one embedding vector out."
    ),
}

# `AssociatedFileType`, `ContentProperties` and `ProcessUnitOptions` values.
_TENSOR_AXIS_LABELS = 2
_VOCABULARY = 5
_FEATURE_PROPERTIES = 1
_BERT_TOKENIZER_OPTIONS = 4


def metadata_kind(model, metadata=None):
    """Which MediaPipe text task `model` exports for, or None.

    `"classifier"` for an `ElectraTextClassifier` with two or more classes,
    `"embedder"` for an `ElectraTextEmbedder`. `metadata=None` gives that
    (None for other models), `False` always None, `True` that kind or a
    `ValueError` naming the model.

    Example:
    ```python
    from keras_electra.export.tflite_metadata import metadata_kind
    from keras_electra.models import ElectraTextClassifier
    model = ElectraTextClassifier.from_preset("electra_tiny", num_classes=2)
    assert metadata_kind(model) == "classifier"
    ```
    """
    from keras_electra.models import ElectraTextClassifier
    from keras_electra.models import ElectraTextEmbedder

    if metadata not in (None, True, False):
        raise ValueError(
            "`metadata` must be None, True or False. Received: "
            f"metadata={metadata!r}"
        )
    if metadata is False:
        return None
    kind = None
    if isinstance(model, ElectraTextEmbedder):
        kind = "embedder"
    elif isinstance(model, ElectraTextClassifier) and model.num_classes >= 2:
        kind = "classifier"
    if kind is None and metadata:
        raise ValueError(
            "MediaPipe metadata describes a text classifier (two or more "
            "classes) or a text embedder; "
            f"{type(model).__name__} is neither. Export it with "
            "metadata=False."
        )
    return kind


def metadata_problem(tokenizer, batch_size):
    """Why an export cannot carry MediaPipe metadata, or None if it can.

    Example:
    ```python
    from keras_electra.export.tflite_metadata import metadata_problem
    assert "tokenizer=" in metadata_problem(None, 1)
    ```
    """
    if tokenizer is None:
        return (
            "MediaPipe metadata packs the tokenizer's vocabulary: pass "
            "`tokenizer=` (or metadata=False for the token-id model)."
        )
    if batch_size != 1:
        return (
            "MediaPipe feeds one text at a time: metadata needs "
            f"batch_size=1. Received: batch_size={batch_size!r}"
        )
    if not getattr(tokenizer, "lowercase", True):
        return (
            "MediaPipe's BERT tokenizer lower-cases every input, but this "
            "tokenizer is cased (lowercase=False): MediaPipe would give "
            "other token ids than training. Export with metadata=False and "
            "tokenize in the app."
        )
    return None


def check_metadata_inputs(model, kind, tokenizer, batch_size, labels):
    """Check what a MediaPipe export needs; return the label names.

    Example:
    ```python
    from keras_electra.export.tflite_metadata import check_metadata_inputs
    from keras_electra.models import ElectraTextClassifier
    model = ElectraTextClassifier.from_preset("electra_tiny", num_classes=2)
    check_metadata_inputs(model, "classifier", model.preprocessor.tokenizer,
                          1, None)  # ["0", "1"]
    ```
    """
    problem = metadata_problem(tokenizer, batch_size)
    if problem is not None:
        raise ValueError(problem)
    if kind != "classifier":
        if labels is not None:
            raise ValueError("`labels` is for classifiers only.")
        return None
    if labels is None:
        return [str(i) for i in range(model.num_classes)]
    labels = [str(label) for label in labels]
    if len(labels) != model.num_classes:
        raise ValueError(
            f"The classifier has {model.num_classes} classes but "
            f"{len(labels)} labels were given: {labels}"
        )
    bad = [label for label in labels if not label.strip() or "\n" in label]
    if bad or len(set(labels)) != len(labels):
        raise ValueError(
            "Labels must be distinct, non-empty and on one line each. "
            f"Received: {labels}"
        )
    return labels


def packed_files(kind):
    """The names of the files a `kind` export packs in the `.tflite`."""
    return ("vocab.txt", "labels.txt") if kind == "classifier" else (
        "vocab.txt",
    )


def with_metadata(model_bytes, model, kind, tokenizer, labels,
                  description=None):
    """The converted `model_bytes` with MediaPipe metadata and files.

    Example:
    ```python
    from keras_electra.export.tflite_metadata import with_metadata
    # `flatbuffer` from `tf.lite.TFLiteConverter.convert()`:
    # with_metadata(flatbuffer, model, "classifier", tokenizer, ["neg", "pos"])
    ```
    """
    from keras_electra.version import __version__

    files = {
        "vocab.txt": "".join(
            f"{token}\n" for token in tokenizer.vocabulary
        ).encode("utf-8"),
    }
    if kind == "classifier":
        files["labels.txt"] = "".join(
            f"{label}\n" for label in labels
        ).encode("utf-8")
    # Parsed once: the input order and the metadata buffer both need it
    # (a 54 MB float32 ELECTRA-Small takes seconds to parse).
    parsed = _parsed(model_bytes)
    data = build_metadata(
        subgraph_input_names(parsed),
        kind,
        name=type(model).__name__,
        description=description or DESCRIPTIONS[kind],
        version=f"keras_electra {__version__}",
        author="keras_electra",
    )
    return populate(parsed, data, files)


class _Writer:
    """Builds tables of the metadata schema bottom-up with a Builder."""

    def __init__(self):
        import flatbuffers

        self.builder = flatbuffers.Builder(1024)

    def string(self, value):
        return None if value is None else self.builder.CreateString(value)

    def vector(self, offsets):
        b = self.builder
        b.StartVector(4, len(offsets), 4)
        for offset in reversed(offsets):
            b.PrependUOffsetTRelative(offset)
        return b.EndVector()

    def float_vector(self, values):
        b = self.builder
        b.StartVector(4, len(values), 4)
        for value in reversed(values):
            b.PrependFloat32(value)
        return b.EndVector()

    def table(self, num_slots, offsets=None, bytes_=None):
        """A table with offset fields `{slot: offset}`, byte fields."""
        b = self.builder
        b.StartObject(num_slots)
        for slot, offset in (offsets or {}).items():
            if offset is not None:
                b.PrependUOffsetTRelativeSlot(slot, offset, 0)
        for slot, value in (bytes_ or {}).items():
            b.PrependInt8Slot(slot, value, 0)
        return b.EndObject()

    def associated_file(self, name, description, file_type):
        # AssociatedFile: name, description, type, locale, version.
        return self.table(
            5,
            {0: self.string(name), 1: self.string(description)},
            {2: file_type},
        )

    def feature_content(self):
        # Content: content_properties_type, content_properties, range.
        properties = self.table(0)
        return self.table(3, {1: properties}, {0: _FEATURE_PROPERTIES})

    def tensor(self, name, description, stats=None, files=()):
        # TensorMetadata: name, description, dimension_names, content,
        # process_units, stats, associated_files.
        name, description = self.string(name), self.string(description)
        content = self.feature_content()
        stats_offset = None
        if stats is not None:
            # Stats: max, min.
            high = self.float_vector([stats[1]])
            low = self.float_vector([stats[0]])
            stats_offset = self.table(2, {0: high, 1: low})
        else:
            stats_offset = self.table(2)
        files = self.vector(list(files)) if files else None
        return self.table(
            7,
            {0: name, 1: description, 3: content, 5: stats_offset, 6: files},
        )

    def bert_tokenizer(self, vocab_file):
        # BertTokenizerOptions: vocab_file. ProcessUnit: options_type, options.
        options = self.table(1, {0: self.vector([vocab_file])})
        return self.table(2, {1: options}, {0: _BERT_TOKENIZER_OPTIONS})

    def finish(self, root):
        self.builder.Finish(root, file_identifier=METADATA_FILE_IDENTIFIER)
        return bytes(self.builder.Output())


def build_metadata(input_names, kind, name, description, version=None,
                   author=None, license=None):
    """The `ModelMetadata` flatbuffer (bytes) for a BERT-input text model.

    Args:
        input_names: the model's input names (`"token_ids"`,
            `"segment_ids"`, `"padding_mask"`) in the order of the `.tflite`
            subgraph's inputs.
        kind: str. `"classifier"` (one output of class probabilities,
            `labels.txt` attached) or `"embedder"` (one embedding output).
        name, description, version, author, license: str or None. The
            model's general information.

    Returns:
        bytes.

    Example:
    ```python
    from keras_electra.export.tflite_metadata import build_metadata
    data = build_metadata(["segment_ids", "token_ids", "padding_mask"],
                          "classifier", "ElectraTextClassifier", "Sentiment.")
    assert data[4:8] == b"M001"
    ```
    """
    if kind not in KINDS:
        raise ValueError(f"`kind` must be one of {KINDS}. Received: {kind!r}")
    unknown = sorted(set(input_names) - set(INPUT_METADATA))
    if unknown or len(input_names) != 3:
        raise ValueError(
            "A MediaPipe text model takes exactly the inputs "
            f"{sorted(INPUT_METADATA)}. Received: {list(input_names)}"
        )
    w = _Writer()
    inputs = [w.tensor(*INPUT_METADATA[n]) for n in input_names]
    if kind == "classifier":
        labels = w.associated_file(
            "labels.txt",
            "Labels for categories that the model can recognize.",
            _TENSOR_AXIS_LABELS,
        )
        output = w.tensor(
            "score", "Score of the labels respectively.", stats=(0.0, 1.0),
            files=[labels],
        )
    else:
        output = w.tensor("embedding", "Embedding vector of the input text.")
    vocab = w.associated_file(
        "vocab.txt",
        "Vocabulary file to convert natural language words to embedding "
        "vectors.",
        _VOCABULARY,
    )
    tokenizer = w.bert_tokenizer(vocab)
    # SubGraphMetadata: name, description, input_tensor_metadata,
    # output_tensor_metadata, associated_files, input_process_units, ...
    subgraph = w.table(10, {
        2: w.vector(inputs), 3: w.vector([output]), 5: w.vector([tokenizer]),
    })
    strings = {
        slot: w.string(value)
        for slot, value in (
            (0, name), (1, description), (2, version), (4, author),
            (5, license), (7, MIN_PARSER_VERSION),
        )
    }
    # ModelMetadata: name, description, version, subgraph_metadata, author,
    # license, associated_files, min_parser_version.
    root = w.table(8, {**strings, 3: w.vector([subgraph])})
    return w.finish(root)


def _parsed(model):
    """A `.tflite` as TFLite's object API model (parsed once by callers
    that need it twice; bytes are parsed here)."""
    if hasattr(model, "subgraphs"):
        return model
    from tensorflow.lite.tools import flatbuffer_utils

    return flatbuffer_utils.read_model_from_bytearray(bytearray(model))


def subgraph_input_names(model_bytes):
    """The input names of a `.tflite` subgraph (bytes or parsed), in order.

    Example:
    ```python
    from keras_electra.export.tflite_metadata import subgraph_input_names
    subgraph_input_names(open("/tmp/model.tflite", "rb").read())
    # ["segment_ids", "token_ids", "padding_mask"]
    ```
    """
    graph = _parsed(model_bytes).subgraphs[0]
    names = []
    for index in graph.inputs:
        name = graph.tensors[index].name.decode("utf-8")
        # "serving_default_token_ids:0" -> "token_ids"
        name = name.split(":")[0]
        if name.startswith("serving_default_"):
            name = name[len("serving_default_"):]
        names.append(name)
    return names


def populate(model_bytes, metadata, files):
    """Return `model_bytes` with `metadata` inside and `files` packed after.

    `model_bytes` may also be an already parsed model (it is then changed).

    The metadata goes into a new model buffer named `TFLITE_METADATA`
    (replacing an earlier one), and `files` (`{name: bytes}`) are appended as
    a stored (uncompressed) zip archive, as the TFLite metadata format
    expects; the result is still a valid `.tflite` for any interpreter.

    Example:
    ```python
    from keras_electra.export.tflite_metadata import build_metadata, populate
    model = open("/tmp/model.tflite", "rb").read()
    with_metadata = populate(
        model, build_metadata(["segment_ids", "token_ids", "padding_mask"],
                              "embedder", "ElectraTextEmbedder", "Vectors."),
        {"vocab.txt": b"[PAD]\\n[UNK]\\n"})
    ```
    """
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = _parsed(model_bytes)
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(metadata, dtype=np.uint8)
    model.metadata = list(model.metadata or [])
    model.buffers = list(model.buffers or [])
    for entry in model.metadata:
        if entry.name.decode("utf-8") == METADATA_BUFFER_NAME:
            model.buffers[entry.buffer] = buffer
            break
    else:
        model.buffers.append(buffer)
        entry = schema.MetadataT()
        entry.name = METADATA_BUFFER_NAME
        entry.buffer = len(model.buffers) - 1
        model.metadata.append(entry)
    stream = io.BytesIO(flatbuffer_utils.convert_object_to_bytearray(model))
    stream.seek(0, io.SEEK_END)
    with zipfile.ZipFile(stream, "a", compression=zipfile.ZIP_STORED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return stream.getvalue()


def read_tflite_metadata(path):
    """What a `.tflite` file's TFLite metadata holds, for checks and tests.

    Returns:
        dict with `name`, `description`, `version`, `min_parser_version`,
        `inputs` and `outputs` (tensor metadata names), `files` (names of
        the packed files) and `labels` (lines of `labels.txt`, or None); or
        None when the file has no metadata.

    Example:
    ```python
    from keras_electra.export.tflite_metadata import read_tflite_metadata
    read_tflite_metadata("/tmp/model.tflite")["inputs"]  # ["segment_ids", "ids", ...]
    ```
    """
    import flatbuffers
    from flatbuffers import number_types
    from tensorflow.lite.tools import flatbuffer_utils

    with open(path, "rb") as f:
        data = f.read()
    model = flatbuffer_utils.read_model_from_bytearray(bytearray(data))
    raw = None
    for entry in model.metadata or []:
        if entry.name.decode("utf-8") == METADATA_BUFFER_NAME:
            raw = bytes(np.asarray(model.buffers[entry.buffer].data, np.uint8))
    if raw is None:
        return None
    if raw[4:8] != METADATA_FILE_IDENTIFIER:
        raise ValueError(
            f"'{path}' has a {METADATA_BUFFER_NAME} buffer without the "
            f"{METADATA_FILE_IDENTIFIER!r} identifier."
        )

    def table(buf, pos):
        return flatbuffers.table.Table(buf, pos)

    def field(t, slot):
        return t.Offset(4 + 2 * slot)

    def string(t, slot):
        offset = field(t, slot)
        return t.String(offset + t.Pos).decode("utf-8") if offset else None

    def tables(t, slot):
        offset = field(t, slot)
        if not offset:
            return []
        start = t.Vector(offset)
        return [
            table(t.Bytes, t.Indirect(start + 4 * i))
            for i in range(t.VectorLen(offset))
        ]

    buf = bytearray(raw)
    root = table(buf, flatbuffers.encode.Get(
        number_types.UOffsetTFlags.packer_type, buf, 0
    ))
    subgraph = tables(root, 3)[0]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        files = zf.namelist()
        labels = (
            zf.read("labels.txt").decode("utf-8").splitlines()
            if "labels.txt" in files else None
        )
    return {
        "name": string(root, 0),
        "description": string(root, 1),
        "version": string(root, 2),
        "author": string(root, 4),
        "min_parser_version": string(root, 7),
        "inputs": [string(t, 0) for t in tables(subgraph, 2)],
        "outputs": [string(t, 0) for t in tables(subgraph, 3)],
        "files": files,
        "labels": labels,
    }
