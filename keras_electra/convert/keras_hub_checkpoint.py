"""Import of keras-hub `ElectraBackbone` preset folders (local only).

A keras-hub preset folder, as written by
`keras_hub.models.ElectraBackbone(...).save_to_preset(dir)`, holds
`config.json` (`registered_name: keras_hub>ElectraBackbone`) and
`model.weights.h5`. The keras-hub model is rebuilt from the local folder
with `keras_hub.models.ElectraBackbone.from_preset(dir)` (no network) and
its weights are copied into our `ElectraBackbone` layer by layer role.

Two differences remain after the copy, both by design:

- keras-hub's transformer layers use the tanh approximation of GELU; ours
  use the exact erf form of the original ELECTRA and Hugging Face. The two
  differ by at most about 1e-3 per activation, so encoder outputs agree
  closely but not bit-for-bit.
- keras-hub adds a tanh pooler (`pooled_dense`) on the first token, which
  the original ELECTRA does not have; its weights are dropped.
"""

import os

from keras_electra.models import ElectraBackbone
from keras_electra.models import ElectraDiscriminator
from keras_electra.models import ElectraGenerator
from keras_electra.models import preset_loader

KERAS_HUB_NAME = "keras_hub>ElectraBackbone"
VOCABULARY_FILE = os.path.join("assets", "tokenizer", "vocabulary.txt")

# keras-hub config key -> ElectraBackbone argument.
CONFIG_KEYS = {
    "vocab_size": "vocabulary_size",
    "num_layers": "num_layers",
    "num_heads": "num_heads",
    "hidden_dim": "hidden_dim",
    "embedding_dim": "embedding_dim",
    "intermediate_dim": "intermediate_dim",
    "dropout": "dropout",
    "max_sequence_length": "max_sequence_length",
    "num_segments": "num_segments",
}


def vocabulary_path(path):
    """Return the WordPiece vocabulary of a keras-hub preset folder, or `None`.

    keras-hub stores it as `assets/tokenizer/vocabulary.txt` when the preset
    includes a tokenizer.

    Example:
    ```python
    import tempfile
    assert vocabulary_path(tempfile.mkdtemp()) is None
    ```
    """
    folder = os.path.expanduser(os.fspath(path))
    candidate = os.path.join(folder, VOCABULARY_FILE)
    return candidate if os.path.isfile(candidate) else None


def backbone_config(keras_hub_config):
    """Translate a keras-hub `ElectraBackbone` config to our arguments.

    Args:
        keras_hub_config: dict. The `config.json` of the preset folder (the
            serialized object, with `registered_name` and `config`).

    Example:
    ```python
    config = backbone_config({
        "registered_name": "keras_hub>ElectraBackbone",
        "config": {"vocab_size": 100, "num_layers": 2, "num_heads": 2,
                   "hidden_dim": 32, "embedding_dim": 16,
                   "intermediate_dim": 64},
    })
    assert config["vocabulary_size"] == 100
    ```
    """
    name = keras_hub_config.get("registered_name")
    if name != KERAS_HUB_NAME:
        raise ValueError(
            f"Expected a keras-hub preset of {KERAS_HUB_NAME}, received "
            f"registered_name={name!r}."
        )
    inner = keras_hub_config.get("config", {})
    return {ours: inner[theirs] for theirs, ours in CONFIG_KEYS.items()
            if theirs in inner}


def _layer_pairs(source, target):
    """(keras-hub layer, our layer) pairs with the same role."""
    pairs = [
        (source.token_embedding, target.embeddings.token_embedding),
        (source.position_embedding, target.embeddings.position_embedding),
        (source.segment_embedding, target.embeddings.segment_embedding),
        (source.embeddings_layer_norm, target.embeddings.layer_norm),
    ]
    if target.embeddings_projection is not None:
        pairs.append(
            (source.embeddings_projection, target.embeddings_projection)
        )
    pairs += list(zip(source.transformer_layers, target.transformer_layers))
    return pairs


def copy_weights(source, target):
    """Copy a keras-hub `ElectraBackbone`'s weights into ours.

    Each layer's weights are matched by their path inside the layer and
    checked for shape before anything is assigned. The keras-hub pooler is
    not copied (our backbone has none).

    Args:
        source: `keras_hub.models.ElectraBackbone`.
        target: `keras_electra.models.ElectraBackbone` of the same sizes.

    Example:
    ```python
    import keras_hub
    from keras_electra.models import ElectraBackbone
    kwargs = dict(num_layers=2, num_heads=2, hidden_dim=32,
                  embedding_dim=16, intermediate_dim=64)
    source = keras_hub.models.ElectraBackbone(vocab_size=100, **kwargs)
    target = ElectraBackbone(vocabulary_size=100, **kwargs)
    copy_weights(source, target)
    ```
    """
    if len(source.transformer_layers) != len(target.transformer_layers):
        raise ValueError(
            f"The keras-hub backbone has {len(source.transformer_layers)} "
            f"transformer layers, ours {len(target.transformer_layers)} "
            "distinct ones (cross-layer sharing cannot take keras-hub "
            "weights)."
        )
    updates = []
    assigned = set()
    for theirs, ours in _layer_pairs(source, target):
        their_weights = {_relative(w.path, theirs): w for w in theirs.weights}
        our_weights = {_relative(w.path, ours): w for w in ours.weights}
        if set(their_weights) != set(our_weights):
            raise ValueError(
                f"keras-hub layer '{theirs.name}' has weights "
                f"{sorted(their_weights)}, ours '{ours.name}' has "
                f"{sorted(our_weights)}."
            )
        for key, their_weight in their_weights.items():
            our_weight = our_weights[key]
            if tuple(their_weight.shape) != tuple(our_weight.shape):
                raise ValueError(
                    f"Shape mismatch: keras-hub weight '{their_weight.path}' "
                    f"has shape {tuple(their_weight.shape)}, our weight "
                    f"'{our_weight.path}' has shape {tuple(our_weight.shape)}."
                )
            updates.append((our_weight, their_weight))
            assigned.add(id(our_weight))
    unassigned = [w.path for w in target.weights if id(w) not in assigned]
    if unassigned or len(assigned) != len(updates):
        raise ValueError(
            f"Weights not assigned exactly once: {unassigned or 'duplicates'}."
        )
    import keras

    for our_weight, their_weight in updates:
        value = keras.ops.convert_to_numpy(their_weight)
        our_weight.assign(value.astype(our_weight.dtype))


def _relative(path, layer):
    # Variable paths look like "transformer_layer_0/.../kernel"; strip the
    # layer's own name so both sides compare by their inner structure.
    prefix = layer.name + "/"
    return path[path.index(prefix) + len(prefix):] if prefix in path else path


def load(cls, path, load_weights=True, **kwargs):
    """Build `cls` from a local keras-hub `ElectraBackbone` preset folder.

    Called by `from_preset()` for folders whose `config.json` is registered
    as `keras_hub>ElectraBackbone`. The folder holds an encoder only: load
    it as `ElectraBackbone` (or a task class taking `backbone=`, whose head
    is freshly initialized). `ElectraDiscriminator` and `ElectraGenerator`
    are refused, since their pre-trained heads are not in the folder.
    LayerNorm epsilon is 1e-12 on both sides.

    Args:
        cls: model class.
        path: str. The preset folder.
        load_weights: bool. Copy the weights. Defaults to `True`.
        **kwargs: backbone config overrides (for example `dropout=0.0`) or
            task arguments.

    Example:
    ```python
    import keras_hub
    from keras_electra.models import ElectraBackbone
    keras_hub.models.ElectraBackbone(
        vocab_size=100, num_layers=2, num_heads=2, hidden_dim=32,
        embedding_dim=16, intermediate_dim=64,
    ).save_to_preset("/tmp/keras_hub_electra")
    backbone = ElectraBackbone.from_preset("/tmp/keras_hub_electra")
    ```
    """

    if issubclass(cls, (ElectraDiscriminator, ElectraGenerator)):
        head = (
            "replaced-token-detection"
            if issubclass(cls, ElectraDiscriminator)
            else "masked-LM"
        )
        raise ValueError(
            f"Cannot load '{path}' as {cls.__name__}: a keras-hub "
            f"ElectraBackbone preset has no {head} head. Load it with "
            f"ElectraBackbone.from_preset() and wrap it: "
            f"{cls.__name__}(backbone) (the head is then untrained)."
        )
    config = backbone_config(preset_loader.read_config(path))
    backbone_kwargs, task_kwargs = preset_loader._split_kwargs(
        kwargs, ElectraBackbone
    )
    config.update(backbone_kwargs)
    backbone = ElectraBackbone(**config)
    if load_weights:
        import keras_hub

        source = keras_hub.models.ElectraBackbone.from_preset(path)
        copy_weights(source, backbone)
    return preset_loader.build_from_backbone(cls, backbone, **task_kwargs)


preset_loader.register_folder_format(
    lambda config: (config.get("registered_name") or "").startswith(
        "keras_hub>"
    ),
    load,
)
