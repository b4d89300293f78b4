"""Base classes of every keras_electra model: presets, saving, input checks."""

import importlib

import keras
import numpy as np

from keras_electra.keras_workarounds import flatten_layers


class ElectraPresetMixin:
    """Presets, saving and input checks shared by all keras_electra models.

    Mixed into `ElectraBackbone` (a `keras_hub.models.Backbone`) and the
    tasks (`keras_hub.models.Task` subclasses, through `ElectraTask`):

    - `from_preset()`: build from a built-in preset name (see
      `keras_electra.models.electra_presets.PRESETS`), or load a local folder
      written by `save_to_preset()`, a Hugging Face ELECTRA or BERT checkpoint
      folder (`config.json` plus `model.safetensors` or `pytorch_model.bin`),
      a keras-hub `ElectraBackbone` preset folder, or an `hf://` /
      `kaggle://` handle.
    - `save_to_preset()`: write a folder `from_preset()` (ours and
      keras-hub's) reads back.
    - Input checks on concrete (NumPy) inputs in `__call__` and `predict()`:
      token ids outside the vocabulary and sequences longer than the position
      table raise a `ValueError` that names the offending value, instead of
      an opaque gather error (or silent garbage on GPU).

    Subclasses set `preset_role` to the part of a built-in preset they are
    built from (`"discriminator"` or `"generator"`).

    Example:
    ```python
    from keras_electra.models import ElectraDiscriminator
    model = ElectraDiscriminator.from_preset("electra_tiny")
    model.save_to_preset("/tmp/my_electra")
    restored = ElectraDiscriminator.from_preset("/tmp/my_electra")
    ```
    """

    preset_role = "discriminator"

    # --- Input checks --------------------------------------------------
    def check_inputs(self, inputs):
        """Validate concrete inputs; see `check_token_inputs`.

        Example:
        ```python
        import numpy as np
        from keras_electra.models import ElectraDiscriminator
        model = ElectraDiscriminator.from_preset("electra_tiny")
        model.check_inputs({"token_ids": np.array([[2, 5, 3]])})
        ```
        """
        check_token_inputs(getattr(self, "backbone", self), inputs)

    def __call__(self, *args, **kwargs):
        if args:
            self.check_inputs(args[0])
        return super().__call__(*args, **kwargs)

    def predict(self, x, *args, **kwargs):
        self.check_inputs(x)
        return super().predict(x, *args, **kwargs)

    # --- Presets -------------------------------------------------------
    @classmethod
    def from_preset(cls, preset, load_weights=True, **kwargs):
        """Build a model from a preset name or load one from a folder.

        Args:
            preset: str. A built-in preset name (`"electra_tiny"`,
                `"electra_small"`, `"electra_base"`, `"electra_large"`, ...),
                or the path of a folder saved by `save_to_preset()`, a local
                Hugging Face ELECTRA checkpoint, or a keras-hub ElectraBackbone
                preset.
            load_weights: bool. Load the folder's weights; when `False` only
                the architecture is built. Built-in presets carry no weights
                (they are random-initialized architectures). Defaults to
                `True`.
            **kwargs: overrides of the backbone config (for example
                `vocabulary_size=8192` for a built-in preset, or
                `dropout=0.0` for any preset or folder) and task arguments
                (`num_classes=2`). A name neither takes raises a
                `ValueError` listing the valid ones; overrides that change
                a weight's shape make loading a folder's weights fail with
                an error naming the file.

        Example:
        ```python
        from keras_electra.models import ElectraDiscriminator
        model = ElectraDiscriminator.from_preset("electra_tiny", dropout=0.0)
        ```
        """
        from keras_electra.models import preset_loader

        return preset_loader.load_preset(
            cls, preset, load_weights=load_weights, **kwargs
        )

    def save_to_preset(self, preset_dir):
        """Save config, weights and metadata to a preset folder.

        Args:
            preset_dir: str. Folder to write; created if missing. Existing
                files of the same names are replaced atomically, others are
                left alone.

        Example:
        ```python
        from keras_electra.models import ElectraDiscriminator
        model = ElectraDiscriminator.from_preset("electra_tiny")
        model.save_to_preset("/tmp/electra_tiny_saved")
        ```
        """
        from keras_electra.models import preset_loader

        preset_loader.save_preset(self, preset_dir)


class PreprocessorBuiltMixin:
    """Builds the preprocessor before `train_on_batch` / `test_on_batch`.

    Keras traces the whole model again at every such call while a layer is
    unbuilt, and a preprocessor is built only on first use (see
    `build_preprocessor`). Mixed into the tasks and the pre-trainers.

    Example:
    ```python
    import keras

    class Model(PreprocessorBuiltMixin, keras.Model):
        preprocessor = None

    Model().test_on_batch  # the mixin's, then Keras'
    ```
    """

    def train_on_batch(self, *args, **kwargs):
        build_preprocessor(self)
        return super().train_on_batch(*args, **kwargs)

    def test_on_batch(self, *args, **kwargs):
        build_preprocessor(self)
        return super().test_on_batch(*args, **kwargs)


class LazyClass:
    """A class attribute that imports its class on first use.

    Tasks name their preprocessor class (`preprocessor_cls`, as keras-hub
    reads it); the preprocessors use TensorFlow, which model code must not
    import, so the class is looked up only when asked for.

    Example:
    ```python
    class Holder:
        cls = LazyClass("collections", "OrderedDict")
    import collections
    assert Holder.cls is collections.OrderedDict
    ```
    """

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __get__(self, obj, owner=None):
        return getattr(importlib.import_module(self.module), self.name)


def deserialize_dtype(config):
    """A copy of a model `config` with its `dtype` policy deserialized.

    Example:
    ```python
    config = deserialize_dtype({"dtype": "float32"})
    ```
    """
    config = dict(config)
    if isinstance(config.get("dtype"), dict):
        config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
    return config


def check_token_inputs(backbone, inputs):
    """Validate concrete inputs against a backbone's vocabulary and positions.

    Only NumPy arrays and Python lists are inspected (tensors inside a
    compiled function cannot be); the preprocessors never produce
    out-of-range ids. Raises `ValueError` naming the key, the bad value and
    its index.

    Args:
        backbone: `ElectraBackbone`.
        inputs: dict with `"token_ids"` (and optionally `"segment_ids"`).

    Example:
    ```python
    import numpy as np
    from keras_electra.models import ElectraBackbone
    backbone = ElectraBackbone.from_preset("electra_tiny")
    check_token_inputs(backbone, {"token_ids": np.array([[2, 5, 3]])})
    ```
    """
    if not isinstance(inputs, dict):
        return
    limits = {
        "token_ids": getattr(backbone, "vocabulary_size", None),
        "segment_ids": getattr(backbone, "num_segments", None),
    }
    max_length = getattr(backbone, "max_sequence_length", None)
    for key, limit in limits.items():
        value = inputs.get(key)
        if limit is None or not isinstance(value, (np.ndarray, list)):
            continue
        value = np.asarray(value)
        if value.size == 0:
            raise ValueError(f"Received an empty `{key}` array.")
        if max_length and value.ndim >= 2 and value.shape[-1] > max_length:
            raise ValueError(
                f"Received `{key}` of length {value.shape[-1]}, longer than "
                f"the position table (max_sequence_length={max_length}). "
                "Truncate the inputs."
            )
        low, high = int(value.min()), int(value.max())
        if low < 0 or high >= limit:
            bad = high if high >= limit else low
            where = np.argwhere((value < 0) | (value >= limit))[0]
            raise ValueError(
                f"`{key}` must lie in [0, {limit}) for this model, but "
                f"received {bad} at index {tuple(int(i) for i in where)}. "
                "Was the data tokenized with a different vocabulary?"
            )


def _weight_layers(model):
    """Sub-layers of `model`, without its preprocessor (built on first use,
    it holds no weights)."""
    import keras_hub

    skip = (keras_hub.models.Preprocessor, keras_hub.tokenizers.Tokenizer)
    stack = list(flatten_layers(model, include_self=False, recursive=False))
    while stack:
        layer = stack.pop()
        if isinstance(layer, skip):
            continue
        yield layer
        stack.extend(flatten_layers(layer, include_self=False,
                                    recursive=False))


def build_preprocessor(model):
    """Build a model's preprocessor and its parts, once its vocabulary is in.

    Keras' `train_on_batch()`, `fit()` and `evaluate()` trace the whole
    model symbolically whenever one of its layers is unbuilt, and a
    keras-hub preprocessor (with its tokenizer and packer) is built only on
    first use, inside `tf.data`: every `train_on_batch()` of a model
    carrying one traced it again (0.9 s of a 4.4 s ELECTRA-Small step on
    JAX). The preprocessor holds no weights; building it makes no change to
    what it computes. Does nothing without a preprocessor, or while its
    tokenizer has no vocabulary yet (a config being restored).

    Example:
    ```python
    from keras_electra.models import ElectraTextClassifier
    model = ElectraTextClassifier.from_preset("electra_tiny", num_classes=2)
    build_preprocessor(model)
    assert model.preprocessor.built
    ```
    """
    preprocessor = getattr(model, "preprocessor", None)
    if preprocessor is None:
        return
    tokenizer = getattr(preprocessor, "tokenizer", None)
    if tokenizer is not None and getattr(tokenizer, "vocabulary", 0) is None:
        return
    if not preprocessor.built:
        preprocessor.build(None)
    for layer in flatten_layers(preprocessor, include_self=False):
        if not layer.built:
            layer.build(None)


def build_optimizer(model):
    """Create a compiled model's optimizer slots now, if the model is built.

    Keras (TensorFlow backend, no distribution strategy) otherwise creates
    them inside the first traced train step, and variables created while
    tracing make `tf.function` trace the whole step a second time:
    ELECTRA-Small's first pre-training step took 70-90 s instead of ~40 s.
    Does nothing when the optimizer is built or a layer is not. Like
    Keras, it expects `compile()` again after `trainable` flags change.
    Builds the preprocessor first (`build_preprocessor`).

    Example:
    ```python
    import keras
    from keras_electra.models.electra_model import build_optimizer
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    build_optimizer(model)
    assert model.optimizer.built
    ```
    """
    build_preprocessor(model)
    if getattr(model, "optimizer", None) is None or model.optimizer.built:
        return
    layers = list(_weight_layers(model))
    if not layers or not all(layer.built for layer in layers):
        return
    strategy = getattr(model, "distribute_strategy", None)
    if strategy is None:
        model.optimizer.build(model.trainable_variables)
        return
    with strategy.scope():
        model.optimizer.build(model.trainable_variables)
