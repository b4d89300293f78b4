"""Import and export of Hugging Face ELECTRA checkpoints (local folders).

A Hugging Face ELECTRA folder holds `config.json` (`model_type: electra`)
and the weights, as `model.safetensors` (possibly sharded, with
`model.safetensors.index.json`) or as `pytorch_model.bin`. Three model
classes are understood:

- `ElectraModel` (`embeddings.*`, `encoder.*`) as `ElectraBackbone`;
- `ElectraForPreTraining` (`electra.*`, `discriminator_predictions.*`) as
  `ElectraDiscriminator`;
- `ElectraForMaskedLM` (`electra.*`, `generator_predictions.*`,
  `generator_lm_head.bias`; its output weight is tied to the word
  embeddings) as `ElectraGenerator`.

The import is strict: every weight of the Keras model is assigned exactly
once, checkpoint tensors left over (other than buffers such as
`position_ids`) are an error, and a shape mismatch names the checkpoint
tensor, the Keras weight and both shapes. Nothing is assigned until the
whole checkpoint has been checked, so a failed load never leaves a
half-loaded model. `pytorch_model.bin` is read with
`torch.load(weights_only=True)`, which refuses to unpickle arbitrary
objects.

Layout differences handled here: torch `Linear` weights are
`[out_features, in_features]` (Keras kernels are `[in, out]`), and
`ElectraSelfAttention` (as `MultiHeadAttention`) keeps query/key/value
kernels as `[hidden, heads, head_dim]` and the output kernel as
`[heads, head_dim, hidden]`.
"""

import json
import logging
import os
import struct

import keras
import numpy as np

from keras_electra.models import ElectraBackbone
from keras_electra.models import ElectraDiscriminator
from keras_electra.models import ElectraGenerator
from keras_electra.models import preset_loader

logger = logging.getLogger("keras_electra.convert")

CONFIG_FILE = "config.json"
SAFETENSORS_FILE = "model.safetensors"
SAFETENSORS_INDEX_FILE = "model.safetensors.index.json"
PYTORCH_FILE = "pytorch_model.bin"
VOCABULARY_FILE = "vocab.txt"

ENCODER_PREFIX = "electra."
MODEL_TYPES = ("electra", "bert")
BERT_PREFIX = "bert."
# BERT's masked-LM head is ELECTRA's generator head under other names (its
# decoder weight is tied to the word embeddings, its decoder bias to `bias`).
BERT_HEAD_NAMES = {
    "cls.predictions.transform.dense.": "generator_predictions.dense.",
    "cls.predictions.transform.LayerNorm.": "generator_predictions.LayerNorm.",
    "cls.predictions.bias": "generator_lm_head.bias",
    "cls.predictions.decoder.weight": "generator_lm_head.weight",
}
DISCRIMINATOR_HEAD = "discriminator_predictions."
GENERATOR_HEADS = ("generator_predictions.", "generator_lm_head.")
# Non-trainable buffers saved by some transformers versions.
BUFFER_NAMES = ("embeddings.position_ids", "embeddings.token_type_ids")

# Hugging Face config key -> (ElectraBackbone argument, required).
CONFIG_KEYS = {
    "vocab_size": ("vocabulary_size", True),
    "num_hidden_layers": ("num_layers", True),
    "num_attention_heads": ("num_heads", True),
    "hidden_size": ("hidden_dim", True),
    "intermediate_size": ("intermediate_dim", True),
    "embedding_size": ("embedding_dim", True),
    "max_position_embeddings": ("max_sequence_length", True),
    "type_vocab_size": ("num_segments", False),
    "layer_norm_eps": ("layer_norm_epsilon", False),
    "hidden_dropout_prob": ("dropout", False),
    "initializer_range": ("initializer_range", False),
}

# How a Keras weight is laid out relative to its checkpoint tensor.
COPY = "copy"  # identical layout
DENSE = "dense"  # torch Linear weight [out, in] -> Keras kernel [in, out]
HEADS_IN = "heads_in"  # [hidden, hidden] -> [hidden, heads, head_dim]
HEADS_BIAS = "heads_bias"  # [hidden] -> [heads, head_dim]
HEADS_OUT = "heads_out"  # [hidden, hidden] -> [heads, head_dim, hidden]
TIED = "tied"  # `generator_lm_head.weight`: must equal the word embeddings


def vocabulary_path(path):
    """Return the path of a Hugging Face folder's `vocab.txt`, or `None`.

    Args:
        path: str. A local Hugging Face checkpoint folder.

    Example:
    ```python
    import os, tempfile
    folder = tempfile.mkdtemp()
    assert vocabulary_path(folder) is None
    open(os.path.join(folder, "vocab.txt"), "w").write("[PAD]\\n")
    assert vocabulary_path(folder).endswith("vocab.txt")
    ```
    """
    folder = os.path.expanduser(os.fspath(path))
    candidate = os.path.join(folder, VOCABULARY_FILE)
    return candidate if os.path.isfile(candidate) else None


def backbone_config(hf_config):
    """Translate a Hugging Face `ElectraConfig` dict to backbone arguments.

    Only what our architecture can reproduce exactly is accepted: the exact
    (erf) GELU, which Hugging Face calls `"gelu"`, and absolute position
    embeddings. `hidden_dropout_prob` becomes `dropout` (embeddings and
    residual branches), `attention_probs_dropout_prob` `attention_dropout`.

    Args:
        hf_config: dict. The parsed `config.json` of a Hugging Face ELECTRA
            checkpoint.

    Returns:
        A dict of `ElectraBackbone` constructor arguments.

    Example:
    ```python
    config = backbone_config({
        "model_type": "electra", "vocab_size": 100, "num_hidden_layers": 2,
        "num_attention_heads": 2, "hidden_size": 32, "intermediate_size": 64,
        "embedding_size": 16, "max_position_embeddings": 64,
    })
    assert config["embedding_dim"] == 16 and config["hidden_dim"] == 32
    ```
    """
    model_type = hf_config.get("model_type")
    if model_type not in MODEL_TYPES:
        raise ValueError(
            "Expected a Hugging Face ELECTRA or BERT config (model_type="
            f"'electra' or 'bert'), received model_type={model_type!r}."
        )
    if model_type == "bert":
        # BERT has no factorized embeddings: they are as wide as the model.
        hf_config = dict(hf_config)
        hf_config.setdefault("embedding_size", hf_config.get("hidden_size"))
    activation = hf_config.get("hidden_act", "gelu")
    if activation != "gelu":
        raise ValueError(
            f"Received hidden_act={activation!r}. keras_electra implements "
            "the exact (erf) GELU only, which Hugging Face calls 'gelu'; "
            "a checkpoint trained with another activation would give "
            "different outputs."
        )
    position_type = hf_config.get("position_embedding_type", "absolute")
    if position_type != "absolute":
        raise ValueError(
            f"Received position_embedding_type={position_type!r}. "
            "keras_electra implements learned absolute position embeddings "
            "only ('absolute')."
        )
    missing = [
        key
        for key, (_, required) in CONFIG_KEYS.items()
        if required and key not in hf_config
    ]
    if missing:
        raise ValueError(
            f"The Hugging Face config lacks required keys: {missing}."
        )
    config = {
        name: hf_config[key]
        for key, (name, _) in CONFIG_KEYS.items()
        if key in hf_config
    }
    # Kept only where it differs, so that `dropout=0.0` (the parity
    # override) still switches every dropout off.
    attention = hf_config.get("attention_probs_dropout_prob")
    if attention is not None and attention != config.get("dropout", 0.1):
        config["attention_dropout"] = attention
    return config


def huggingface_config(backbone, architecture="ElectraModel"):
    """Return the Hugging Face `config.json` dict describing `backbone`.

    Args:
        backbone: `keras_electra.models.ElectraBackbone`.
        architecture: str. The Hugging Face class name to record
            (`"ElectraModel"`, `"ElectraForPreTraining"` or
            `"ElectraForMaskedLM"`). Defaults to `"ElectraModel"`.

    Example:
    ```python
    from keras_electra.models import ElectraBackbone
    backbone = ElectraBackbone.from_preset("electra_small")
    assert huggingface_config(backbone)["embedding_size"] == 128
    ```
    """
    config = {
        "architectures": [architecture],
        "model_type": "electra",
        "hidden_act": "gelu",
        "position_embedding_type": "absolute",
        "tie_word_embeddings": True,
    }
    for key, (name, _) in CONFIG_KEYS.items():
        config[key] = getattr(backbone, name)
    config["attention_probs_dropout_prob"] = backbone.attention_dropout
    return config


# --- Weight layout ------------------------------------------------------


def _backbone_entries(backbone, prefix):
    """(checkpoint key, Keras variable, layout) for the encoder weights."""
    e = backbone.embeddings
    p = prefix
    entries = [
        (f"{p}embeddings.word_embeddings.weight",
         e.token_embedding.embeddings, COPY),
        (f"{p}embeddings.position_embeddings.weight",
         e.position_embedding.position_embeddings, COPY),
        (f"{p}embeddings.token_type_embeddings.weight",
         e.segment_embedding.embeddings, COPY),
        (f"{p}embeddings.LayerNorm.weight", e.layer_norm.gamma, COPY),
        (f"{p}embeddings.LayerNorm.bias", e.layer_norm.beta, COPY),
    ]
    if backbone.embeddings_projection is not None:
        entries += [
            (f"{p}embeddings_project.weight",
             backbone.embeddings_projection.kernel, DENSE),
            (f"{p}embeddings_project.bias",
             backbone.embeddings_projection.bias, COPY),
        ]
    layers_per_group = backbone.num_layers // backbone.num_groups
    for i in range(backbone.num_layers):
        layer = backbone.transformer_layers[i // layers_per_group]
        parts = layer.parts()
        attention = parts["self_attention"]
        n = f"{p}encoder.layer.{i}."
        for hf_name, dense in (
            ("query", attention.query_dense),
            ("key", attention.key_dense),
            ("value", attention.value_dense),
        ):
            entries += [
                (f"{n}attention.self.{hf_name}.weight", dense.kernel, HEADS_IN),
                (f"{n}attention.self.{hf_name}.bias", dense.bias, HEADS_BIAS),
            ]
        entries += [
            (f"{n}attention.output.dense.weight",
             attention.output_dense.kernel, HEADS_OUT),
            (f"{n}attention.output.dense.bias",
             attention.output_dense.bias, COPY),
            (f"{n}attention.output.LayerNorm.weight",
             parts["self_attention_layer_norm"].gamma, COPY),
            (f"{n}attention.output.LayerNorm.bias",
             parts["self_attention_layer_norm"].beta, COPY),
            (f"{n}intermediate.dense.weight",
             parts["feedforward_intermediate_dense"].kernel, DENSE),
            (f"{n}intermediate.dense.bias",
             parts["feedforward_intermediate_dense"].bias, COPY),
            (f"{n}output.dense.weight",
             parts["feedforward_output_dense"].kernel, DENSE),
            (f"{n}output.dense.bias",
             parts["feedforward_output_dense"].bias, COPY),
            (f"{n}output.LayerNorm.weight",
             parts["feedforward_layer_norm"].gamma, COPY),
            (f"{n}output.LayerNorm.bias",
             parts["feedforward_layer_norm"].beta, COPY),
        ]
    return entries


def _discriminator_entries(model):
    h = DISCRIMINATOR_HEAD
    return [
        (f"{h}dense.weight", model.head_dense.kernel, DENSE),
        (f"{h}dense.bias", model.head_dense.bias, COPY),
        (f"{h}dense_prediction.weight", model.head_logits.kernel, DENSE),
        (f"{h}dense_prediction.bias", model.head_logits.bias, COPY),
    ]


def _generator_entries(model):
    from keras_electra.keras_workarounds import masked_lm_head_parts

    head = masked_lm_head_parts(model.lm_head)
    return [
        ("generator_predictions.dense.weight",
         head["intermediate_dense"].kernel, DENSE),
        ("generator_predictions.dense.bias",
         head["intermediate_dense"].bias, COPY),
        ("generator_predictions.LayerNorm.weight",
         head["intermediate_layer_norm"].gamma, COPY),
        ("generator_predictions.LayerNorm.bias",
         head["intermediate_layer_norm"].beta, COPY),
        ("generator_lm_head.bias", head["bias"], COPY),
        ("generator_lm_head.weight",
         model.backbone.token_embedding.embeddings, TIED),
    ]


def weight_map(model):
    """List how `model`'s weights map onto Hugging Face tensor names.

    Args:
        model: `ElectraBackbone` (Hugging Face `ElectraModel`),
            `ElectraDiscriminator` (`ElectraForPreTraining`),
            `ElectraGenerator` (`ElectraForMaskedLM`), or any task with a
            `backbone` attribute (its backbone only, with the `electra.`
            prefix).

    Returns:
        A list of `(checkpoint_key, keras_variable, layout)` tuples.

    Example:
    ```python
    from keras_electra.models import ElectraDiscriminator
    model = ElectraDiscriminator.from_preset("electra_tiny")
    keys = [key for key, _, _ in weight_map(model)]
    assert "discriminator_predictions.dense.weight" in keys
    ```
    """

    if isinstance(model, ElectraBackbone):
        return _backbone_entries(model, "")
    entries = _backbone_entries(model.backbone, ENCODER_PREFIX)
    if isinstance(model, ElectraDiscriminator):
        entries += _discriminator_entries(model)
    elif isinstance(model, ElectraGenerator):
        entries += _generator_entries(model)
    return entries


def _checkpoint_shape(layout, shape):
    """The checkpoint tensor shape that fits a Keras weight of `shape`."""
    shape = tuple(int(d) for d in shape)
    if layout == DENSE:
        return shape[::-1]
    if layout == HEADS_IN:
        return (int(np.prod(shape[1:])), shape[0])
    if layout == HEADS_BIAS:
        return (int(np.prod(shape)),)
    if layout == HEADS_OUT:
        return (shape[-1], int(np.prod(shape[:-1])))
    return shape


def _to_keras(layout, value, shape):
    if layout in (DENSE, HEADS_IN, HEADS_OUT):
        value = value.T
    return np.reshape(value, shape)


def _to_checkpoint(layout, value):
    if layout == HEADS_IN:
        return value.reshape(value.shape[0], -1).T
    if layout == HEADS_BIAS:
        return value.reshape(-1)
    if layout == HEADS_OUT:
        return value.reshape(-1, value.shape[-1]).T
    if layout == DENSE:
        return value.T
    return value


# --- Reading checkpoints ------------------------------------------------


def read_weights(path):
    """Read the weights of a Hugging Face folder into NumPy arrays.

    `model.safetensors` (or its sharded form) is preferred and read with the
    `safetensors` NumPy API (bfloat16 tensors through `ml_dtypes`).
    `pytorch_model.bin` is read with `torch.load(weights_only=True)`, which
    refuses arbitrary pickled objects; without torch, convert it to
    safetensors first.

    Args:
        path: str. A local Hugging Face checkpoint folder.

    Returns:
        A dict from tensor name to `np.ndarray`.

    Example:
    ```python
    import tempfile
    import numpy as np
    from safetensors.numpy import save_file
    folder = tempfile.mkdtemp()
    save_file({"a": np.ones((2, 3), "float32")}, f"{folder}/model.safetensors")
    assert read_weights(folder)["a"].shape == (2, 3)
    ```
    """
    safetensors_path = os.path.join(path, SAFETENSORS_FILE)
    index_path = os.path.join(path, SAFETENSORS_INDEX_FILE)
    pytorch_path = os.path.join(path, PYTORCH_FILE)
    if os.path.exists(safetensors_path):
        return _read_safetensors(safetensors_path)
    if os.path.exists(index_path):
        try:
            with open(index_path, encoding="utf-8") as f:
                shards = sorted(set(json.load(f)["weight_map"].values()))
        except (ValueError, KeyError) as e:
            raise ValueError(
                f"{index_path} is not a valid safetensors index: {e}"
            ) from e
        weights = {}
        for shard in shards:
            weights.update(_read_safetensors(os.path.join(path, shard)))
        return weights
    if os.path.exists(pytorch_path):
        return _read_pytorch(pytorch_path)
    raise FileNotFoundError(
        f"The Hugging Face folder '{path}' has no weights: expected "
        f"{SAFETENSORS_FILE}, {SAFETENSORS_INDEX_FILE} or {PYTORCH_FILE}. "
        "Pass load_weights=False to build the architecture only."
    )


def _safetensors_header(file):
    try:
        with open(file, "rb") as f:
            raw = f.read(8)
            if len(raw) < 8:
                raise ValueError("file shorter than its header")
            (length,) = struct.unpack("<Q", raw)
            if length > os.path.getsize(file) - 8:
                raise ValueError(f"header length {length} exceeds the file")
            header = json.loads(f.read(length).decode("utf-8"))
        return 8 + length, header
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise ValueError(
            f"Cannot read {file}: not a valid safetensors file ({e}). It may "
            "be truncated or corrupt; download or export it again."
        ) from e


def _read_safetensors(file):
    if not os.path.exists(file):
        raise FileNotFoundError(f"Missing weights file {file}.")
    from safetensors.numpy import load_file

    try:
        return dict(load_file(file))
    except Exception as error:  # safetensors raises several error types.
        offset, header = _safetensors_header(file)
        dtypes = {v["dtype"] for k, v in header.items() if k != "__metadata__"}
        if "BF16" not in dtypes:
            raise ValueError(
                f"Cannot read {file}: {error}. It may be truncated or "
                "corrupt; download or export it again."
            ) from error
    # NumPy has no bfloat16: read the raw layout with `ml_dtypes`.
    import ml_dtypes

    types = {"BF16": ml_dtypes.bfloat16, "F16": np.float16,
             "F32": np.float32, "F64": np.float64, "I64": np.int64,
             "I32": np.int32}
    with open(file, "rb") as f:
        f.seek(offset)
        data = f.read()
    weights = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        if info["dtype"] not in types or end > len(data):
            raise ValueError(f"Cannot read tensor '{key}' of {file}.")
        array = np.frombuffer(data[begin:end], dtype=types[info["dtype"]])
        weights[key] = array.reshape(info["shape"])
    return weights


def _read_pytorch(file):
    try:
        import torch
    except ImportError as e:
        raise ImportError(
            f"{file} is a PyTorch pickle. keras_electra reads it only with "
            "torch.load(weights_only=True), and torch is not installed. "
            "Install torch, or convert the checkpoint to model.safetensors."
        ) from e
    try:
        state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as e:  # pickle and zip errors vary across versions.
        raise ValueError(
            f"Cannot read {file} as a weights-only PyTorch checkpoint: {e}"
        ) from e
    if not isinstance(state, dict):
        raise ValueError(
            f"{file} does not hold a state dict (found {type(state).__name__})."
        )
    weights = {}
    for key, value in state.items():
        if isinstance(value, torch.Tensor):
            if value.dtype == torch.bfloat16:
                value = value.float()
            weights[key] = value.detach().cpu().numpy()
    return weights


# --- Import -------------------------------------------------------------


def _describe(keys):
    if any(k.startswith(DISCRIMINATOR_HEAD) for k in keys):
        return "an ElectraForPreTraining (discriminator) checkpoint"
    if any(k.startswith(GENERATOR_HEADS) for k in keys):
        return "an ElectraForMaskedLM (generator) checkpoint"
    if any(k.startswith(ENCODER_PREFIX) for k in keys):
        return "an ELECTRA checkpoint with another head"
    return "a bare ElectraModel (encoder only) checkpoint"


def _check_head(cls, keys, path):

    needed = None
    if issubclass(cls, ElectraDiscriminator):
        needed, head = (DISCRIMINATOR_HEAD,), "replaced-token-detection"
    elif issubclass(cls, ElectraGenerator):
        needed, head = GENERATOR_HEADS, "masked-LM"
    if needed and not any(k.startswith(needed) for k in keys):
        raise ValueError(
            f"Cannot load '{path}' as {cls.__name__}: it has no {head} head "
            f"(no `{needed[0]}*` weights); it is {_describe(keys)}. Load "
            "it with the matching class, or with ElectraBackbone.from_preset "
            "for the encoder alone."
        )


def assign_weights(model, weights, source="checkpoint"):
    """Check a Hugging Face state dict against `model`, then assign it.

    Every weight of `model` (of its backbone, for tasks other than the
    discriminator and generator) must receive exactly one tensor with the
    right shape; checkpoint tensors that are left over are an error, except
    buffers and, when only the encoder is loaded, the tensors of heads that
    are not built. Nothing is assigned unless all checks pass.

    Args:
        model: `ElectraBackbone`, `ElectraDiscriminator`, `ElectraGenerator`
            or a task with a `backbone`.
        weights: dict from Hugging Face tensor name to array.
        source: str. Name of the checkpoint, for error messages.

    Example:
    ```python
    from keras_electra.models import ElectraBackbone
    backbone = ElectraBackbone.from_preset("electra_tiny")
    state = {key: _to_checkpoint(layout, variable.numpy())
             for key, variable, layout in weight_map(backbone)}
    assign_weights(backbone, state)
    ```
    """

    weights = {
        k: v for k, v in weights.items() if not k.endswith(BUFFER_NAMES)
    }
    entries = weight_map(model)
    with_prefix = any(k.startswith(ENCODER_PREFIX) for k in weights)
    if isinstance(model, ElectraBackbone):
        if with_prefix:
            # A task checkpoint: keep its encoder, drop its heads.
            weights = {
                k[len(ENCODER_PREFIX):]: v
                for k, v in weights.items()
                if k.startswith(ENCODER_PREFIX)
            }
        targets = model.weights
    elif isinstance(model, (ElectraDiscriminator, ElectraGenerator)):
        targets = model.weights
    else:
        # Another task: load its backbone only, ignore checkpoint heads.
        if with_prefix:
            weights = {
                k: v
                for k, v in weights.items()
                if k.startswith(ENCODER_PREFIX)
            }
        else:
            weights = {ENCODER_PREFIX + k: v for k, v in weights.items()}
        targets = model.backbone.weights

    problems, updates, used = [], [], set()
    counts = {}
    for key, variable, layout in entries:
        if layout != TIED:
            counts[id(variable)] = counts.get(id(variable), 0) + 1
        if key not in weights:
            if layout != TIED:
                problems.append(f"missing checkpoint weight '{key}'")
            continue
        used.add(key)
        value = np.asarray(weights[key])
        expected = _checkpoint_shape(layout, variable.shape)
        if tuple(value.shape) != expected:
            raise ValueError(
                f"Shape mismatch in {source}: checkpoint weight '{key}' has "
                f"shape {tuple(value.shape)}, but the Keras weight "
                f"'{variable.path}' has shape {tuple(variable.shape)} (it "
                f"needs a checkpoint tensor of shape {expected}). Does "
                "config.json match the weights?"
            )
        if layout == TIED:
            embeddings = weights.get(
                f"{ENCODER_PREFIX}embeddings.word_embeddings.weight"
            )
            if embeddings is not None and not np.array_equal(
                value, np.asarray(embeddings)
            ):
                raise ValueError(
                    f"{source} has an output projection '{key}' that differs "
                    "from the word embeddings; keras_electra ties the two, "
                    "as ELECTRA does, and cannot load untied weights."
                )
            continue
        updates.append((variable, _to_keras(layout, value, variable.shape)))
    shared = [
        v.path for v in targets if counts.get(id(v), 0) > 1
    ]
    if shared:
        problems.append(
            f"Keras weights mapped more than once (cross-layer sharing has no "
            f"Hugging Face equivalent): {sorted(set(shared))}"
        )
    unassigned = [v.path for v in targets if id(v) not in counts]
    if unassigned:
        problems.append(
            f"Keras weights with no checkpoint tensor: {unassigned}"
        )
    leftover = sorted(set(weights) - used)
    if leftover:
        problems.append(f"unused checkpoint tensors: {leftover}")
    if problems:
        raise ValueError(
            f"Cannot load {source} into {type(model).__name__}: "
            + "; ".join(problems)
        )
    for variable, value in updates:
        variable.assign(value.astype(variable.dtype))


def bert_to_electra(weights):
    """Rename a Hugging Face BERT state dict to ELECTRA's tensor names.

    An ELECTRA discriminator's encoder is BERT's encoder minus the pooler:
    `bert.*` (or unprefixed `embeddings.*` / `encoder.*`) becomes
    `electra.*`, the masked-LM head `cls.predictions.*` becomes the
    generator head. The pooler, the next-sentence head and any task head
    have no ELECTRA counterpart and are dropped.

    Args:
        weights: dict from BERT tensor name to array.

    Returns:
        `(weights, dropped)`: the renamed dict and the sorted names dropped.

    Example:
    ```python
    renamed, dropped = bert_to_electra({
        "bert.embeddings.word_embeddings.weight": 1,
        "bert.pooler.dense.weight": 2})
    assert list(renamed) == ["electra.embeddings.word_embeddings.weight"]
    assert dropped == ["bert.pooler.dense.weight"]
    ```
    """
    renamed, dropped = {}, []
    for key, value in weights.items():
        name = key[len(BERT_PREFIX):] if key.startswith(BERT_PREFIX) else key
        if name.startswith(("embeddings.", "encoder.")):
            renamed[ENCODER_PREFIX + name] = value
            continue
        for old, new in BERT_HEAD_NAMES.items():
            if name.startswith(old):
                renamed[new + name[len(old):]] = value
                break
        else:
            dropped.append(key)  # pooler, cls.seq_relationship, task heads
    return renamed, sorted(dropped)


def load(cls, path, load_weights=True, **kwargs):
    """Build `cls` from a local Hugging Face ELECTRA or BERT folder.

    A BERT folder (`model_type: bert`: `BertModel`, `BertForPreTraining`,
    `BertForMaskedLM`, ...) is read as an ELECTRA encoder (see
    `bert_to_electra`; the pooler and next-sentence head are dropped, with
    a log message). Loaded as `ElectraDiscriminator`, to continue
    pre-training from BERT, it gets BERT's encoder and a freshly
    initialized replaced-token head.

    Called by `from_preset()` for folders whose `config.json` has
    `model_type: electra`. Keyword arguments that name `ElectraBackbone`
    arguments override the config (for example `dropout=0.0`); the others
    go to the task constructor. Task classes other than the discriminator
    and generator get the checkpoint's encoder and a freshly initialized
    head.

    Args:
        cls: `ElectraBackbone`, `ElectraDiscriminator`, `ElectraGenerator`
            or a task class taking `backbone=`.
        path: str. The folder.
        load_weights: bool. Read and assign the weights. Defaults to `True`.
        **kwargs: backbone config overrides or task arguments.

    Example:
    ```python
    import tempfile
    from transformers import ElectraConfig, ElectraForPreTraining
    from keras_electra.models import ElectraDiscriminator
    folder = tempfile.mkdtemp()
    ElectraForPreTraining(ElectraConfig(
        vocab_size=100, embedding_size=16, hidden_size=32,
        num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
    )).save_pretrained(folder)
    model = ElectraDiscriminator.from_preset(folder, dropout=0.0)
    ```
    """

    hf_config = preset_loader.read_config(path)
    is_bert = hf_config.get("model_type") == "bert"
    config = backbone_config(hf_config)
    backbone_kwargs, task_kwargs = preset_loader._split_kwargs(
        kwargs, ElectraBackbone
    )
    config.update(backbone_kwargs)
    weights = read_weights(path) if load_weights else None
    target = None
    if weights is not None and is_bert:
        weights, dropped = bert_to_electra(weights)
        if dropped:
            logger.info(
                "Loading the BERT checkpoint '%s' as an ELECTRA encoder: "
                "dropped %s (no ELECTRA counterpart).", path, dropped,
            )
        if issubclass(cls, ElectraDiscriminator):
            target = "backbone"  # BERT has no replaced-token head
    if weights is not None and target is None:
        _check_head(cls, weights, path)
    model = preset_loader.build_from_backbone(
        cls, ElectraBackbone(**config), **task_kwargs
    )
    if weights is not None:
        assign_weights(
            model.backbone if target else model, weights, source=f"'{path}'"
        )
    return model


# --- Export -------------------------------------------------------------


def export_to_huggingface(model, path):
    """Write `model` as a Hugging Face ELECTRA folder.

    Writes `config.json` and `model.safetensors`, loadable with
    `transformers`: `ElectraBackbone` as `ElectraModel`,
    `ElectraDiscriminator` as `ElectraForPreTraining` and `ElectraGenerator`
    as `ElectraForMaskedLM` (its output projection stays tied to the word
    embeddings). Cross-layer shared weights (`num_groups < num_layers`) are
    written once per layer, since Hugging Face ELECTRA has no sharing. No
    tokenizer files are written.

    Args:
        model: `ElectraBackbone`, `ElectraDiscriminator` or
            `ElectraGenerator`.
        path: str. Folder to write; created if missing.

    Example:
    ```python
    from keras_electra.models import ElectraDiscriminator
    model = ElectraDiscriminator.from_preset("electra_tiny")
    export_to_huggingface(model, "/tmp/electra_tiny_hf")
    restored = ElectraDiscriminator.from_preset("/tmp/electra_tiny_hf")
    ```
    """
    from safetensors.numpy import save_file


    architectures = (
        (ElectraBackbone, "ElectraModel"),
        (ElectraDiscriminator, "ElectraForPreTraining"),
        (ElectraGenerator, "ElectraForMaskedLM"),
    )
    for model_cls, architecture in architectures:
        if isinstance(model, model_cls):
            break
    else:
        raise TypeError(
            "export_to_huggingface() takes an ElectraBackbone, "
            "ElectraDiscriminator or ElectraGenerator; received "
            f"{type(model).__name__}. Export `model.backbone` for the encoder."
        )
    backbone = model if isinstance(model, ElectraBackbone) else model.backbone
    tensors = {}
    for key, variable, layout in weight_map(model):
        if layout == TIED:
            continue
        value = keras.ops.convert_to_numpy(variable)
        tensors[key] = np.ascontiguousarray(_to_checkpoint(layout, value))
    path = os.path.expanduser(os.fspath(path))
    os.makedirs(path, exist_ok=True)
    save_file(
        tensors, os.path.join(path, SAFETENSORS_FILE), metadata={"format": "pt"}
    )
    with open(os.path.join(path, CONFIG_FILE), "w", encoding="utf-8") as f:
        json.dump(
            huggingface_config(backbone, architecture), f, indent=2,
            sort_keys=True,
        )


preset_loader.register_folder_format(
    lambda config: config.get("model_type") in ("electra", "bert"), load
)
