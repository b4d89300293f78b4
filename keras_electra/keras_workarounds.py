"""Every use of Keras' and keras-hub's private code, in one place.

Written for Keras 3.10-3.15 and keras-hub 0.21-0.32 (checked: Keras 3.15,
keras-hub 0.32). The rest of keras_electra calls the functions here and
never reaches into `keras.src`, `keras_hub.src` or another library's
underscore attributes itself. `verify()` checks that everything used here
still exists and `tests/test_keras_workarounds.py` calls it, so a new Keras
that moves one of them fails that test by name instead of failing somewhere
deep inside training or export.

What is used, and why:

- `Layer._flatten_layers`: the nested sub-layers of a model, to build
  optimizer slots before the first traced step and to set dtype policies
  per layer (Keras has no public recursive walk).
- keras-hub's `preprocessing_function` decorator: converts inputs to and
  from `tf` tensors around a preprocessing layer's `call`, as keras-hub's
  own preprocessors do. Lists of strings are made string tensors first
  (`string_lists_as_tensors`): keras-hub passes a list through
  `np.array`, which pads every string to the longest one (20k texts with a
  few long ones: seconds and gigabytes).
- `serialization_lib.in_safe_mode()`: whether a `.keras` file is being
  loaded in safe mode (a tokenizer config must not then read files).
- `WordPieceTokenizer._add_special_token` (how keras-hub's tokenizers
  declare `[PAD]`, `[CLS]`, ...) and the optimizer's
  `_get_variable_index` / `_use_weight_decay` (for the per-variable
  rates and decay of `LayerwiseAdamW`): protected hooks for subclasses.
- `MaskedLMHead`'s `_intermediate_dense`, `_intermediate_layer_norm` and
  `_bias`: the generator head's weights for the Hugging Face map, for
  copying a head, and for the unigram start of the vocabulary bias.
- TensorFlow `fit()` under `MultiWorkerMirroredStrategy` (Keras 3.15):
  `_maybe_symbolic_build` reduces a dict batch, which the strategy rejects;
  the per-replica logs are reduced along an axis scalars do not have
  (tensorflow/tensorflow#72388).
- `Optimizer._clip_gradients` / `_all_reduce_sum_gradients` (TensorFlow):
  global-norm clipping of the all-reduced gradients across replicas, as
  one device would clip them.

Attention is computed by keras_electra's own `ElectraSelfAttention`
(`keras_electra.layers`), whose export options replaced the patches of
`MultiHeadAttention.call` and of Keras' mask fill that used to live here.
"""

import types

import keras

KERAS_VERSIONS = ("3.10", "3.15")
KERAS_HUB_VERSIONS = ("0.21", "0.32")


def flatten_layers(layer, include_self=True, recursive=True):
    """All sub-layers of `layer` (Keras' own walk, `Layer._flatten_layers`).

    Example:
    ```python
    import keras
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    assert len(list(flatten_layers(model, include_self=False))) == 1
    ```
    """
    return layer._flatten_layers(include_self=include_self,
                                 recursive=recursive)


def preprocessing_function(fn):
    """keras-hub's decorator for a preprocessing layer's `call`.

    Example:
    ```python
    import keras_hub

    class Identity(keras_hub.layers.PreprocessingLayer):
        @preprocessing_function
        def call(self, x):
            return x
    ```
    """
    import functools

    from keras_hub.src.utils.tensor_utils import (
        preprocessing_function as keras_hub_preprocessing_function,
    )

    converted = keras_hub_preprocessing_function(fn)

    @functools.wraps(fn)
    def call(self, *args, **kwargs):
        return converted(self, *string_lists_as_tensors(args),
                         **string_lists_as_tensors(kwargs))

    return call


def string_lists_as_tensors(x):
    """`x` with every list of Python strings made a `tf.string` tensor.

    Goes through dicts and tuples (keras-hub's "separate inputs"); anything
    else is returned as it is. keras-hub would pass such a list through
    `np.array`, which pads every string to the longest one.

    Example:
    ```python
    texts = string_lists_as_tensors((["a fine film", "dull"], ["yes"]))
    assert texts[0].shape == (2,)
    ```
    """
    if isinstance(x, dict):
        return {k: string_lists_as_tensors(v) for k, v in x.items()}
    if isinstance(x, tuple):
        return tuple(string_lists_as_tensors(v) for v in x)
    if (
        isinstance(x, list)
        and x
        and all(isinstance(v, (str, bytes)) for v in x)
    ):
        import tensorflow as tf

        return tf.constant(x)
    return x


def in_safe_mode():
    """Whether Keras is deserializing in safe mode right now.

    Example:
    ```python
    assert in_safe_mode() in (None, True, False)
    ```
    """
    from keras.src.saving import serialization_lib

    return serialization_lib.in_safe_mode()


def _private_parts(owner, names, where):
    """`{name without "_": attribute}`, or a `RuntimeError` naming the
    missing ones and the installed versions."""
    import keras_hub

    missing = [n for n in names if getattr(owner, n, None) is None]
    if missing:
        raise RuntimeError(
            f"{where} has no {missing} (Keras {keras.__version__}, keras-hub "
            f"{keras_hub.__version__}); keras_electra was written for Keras "
            f"{'-'.join(KERAS_VERSIONS)}, keras-hub "
            f"{'-'.join(KERAS_HUB_VERSIONS)}."
        )
    return {n[1:]: getattr(owner, n) for n in names}


def masked_lm_head_parts(head):
    """The sub-layers and bias of a built `keras_hub.layers.MaskedLMHead`.

    Returns `intermediate_dense`, `intermediate_layer_norm`, `bias` (a
    variable) and `kernel` (the output projection of an untied head, else
    `None`); keras-hub keeps them private. Used by the forward pass of
    `ElectraMaskedLMHead` (which scores every position), the Hugging Face
    weight map, copying a head and starting its bias from a unigram prior;
    raises a `RuntimeError` naming the keras-hub version when one is gone.

    Example:
    ```python
    import keras_hub
    import numpy as np
    embedding = keras_hub.layers.ReversibleEmbedding(10, 4)
    head = keras_hub.layers.MaskedLMHead(token_embedding=embedding,
                                         activation="softmax")
    head(np.zeros((1, 3, 4), "float32"), mask_positions=np.zeros((1, 2)))
    assert tuple(masked_lm_head_parts(head)["bias"].shape) == (10,)
    ```
    """
    names = ("_intermediate_dense", "_intermediate_layer_norm", "_bias")
    parts = _private_parts(head, names, "keras_hub.layers.MaskedLMHead")
    # The output kernel, when the head is not tied to an embedding.
    parts["kernel"] = getattr(head, "_kernel", None)
    return parts


def register_special_token(tokenizer, token, name):
    """Declare `token` as the tokenizer's `name` (`"pad_token"`, ...).

    keras-hub tokenizers do it with their protected `_add_special_token`
    (its own `BertTokenizer` does too); this keeps the call in one place.

    Example:
    ```python
    import keras_hub
    tokenizer = keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=["[PAD]", "[UNK]", "a"], oov_token="[UNK]")
    register_special_token(tokenizer, "[PAD]", "pad_token")
    ```
    """
    tokenizer._add_special_token(token, name)


def optimizer_variable_index(optimizer, variable):
    """The index of `variable` in a built Keras optimizer's slot lists.

    Example:
    ```python
    optimizer = keras.optimizers.Adam()
    variable = keras.Variable([1.0])
    optimizer.build([variable])
    assert optimizer_variable_index(optimizer, variable) == 0
    ```
    """
    return optimizer._get_variable_index(variable)


def uses_weight_decay(optimizer, variable):
    """Whether a Keras optimizer decays `variable` (not excluded by
    `exclude_from_weight_decay`).

    Example:
    ```python
    optimizer = keras.optimizers.AdamW()
    optimizer.exclude_from_weight_decay(var_names=["bias"])
    assert uses_weight_decay(optimizer, keras.Variable([1.0], name="kernel"))
    ```
    """
    return optimizer._use_weight_decay(variable)


def multi_worker_fit(model, dataset):
    """Let TensorFlow `fit()` run `model` under MultiWorkerMirroredStrategy.

    Keras 3.15's `fit()` first calls `strategy.reduce("MEAN", batch)` on a
    distributed batch to build the model (`_maybe_symbolic_build`), which
    `MultiWorkerMirroredStrategy` refuses for dict inputs: the model is
    built here from the dataset's `element_spec` and Keras' build skipped.
    The per-replica logs are then reduced along axis 0, which scalars lack
    (tensorflow/tensorflow#72388): the train step gives them an axis of 1.
    Does nothing on other backends and strategies.

    Example:
    ```python
    import keras
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    multi_worker_fit(model, None)  # not under MultiWorkerMirroredStrategy
    ```
    """
    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    strategy = getattr(model, "_distribute_strategy", None)
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return
    with strategy.scope():
        model._symbolic_build(data_batch=dataset.element_spec)
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None
    train_step = model.train_step

    def train_step_with_vector_logs(data):
        logs = train_step(data)
        return {
            key: keras.ops.reshape(value, (1,))
            if len(keras.ops.shape(value)) == 0
            else value
            for key, value in logs.items()
        }

    model.train_step = train_step_with_vector_logs


def clip_after_all_reduce(optimizer):
    """Clip the all-reduced gradients, as one device would (TensorFlow).

    Under a multi-replica strategy, Keras clips each replica's gradients
    by global norm before summing them; this optimizer sums first, then
    clips, and skips its own second sum. Elsewhere it is unchanged.

    Example:
    ```python
    import keras
    optimizer = clip_after_all_reduce(keras.optimizers.AdamW(global_clipnorm=1.0))
    ```
    """
    if keras.backend.backend() != "tensorflow" or getattr(
        optimizer, "_keras_electra_clip_after_all_reduce", False
    ):
        return optimizer
    import tensorflow as tf

    clip_gradients = optimizer._clip_gradients
    all_reduce_sum_gradients = optimizer._all_reduce_sum_gradients

    def distributed():
        context = tf.distribute.get_replica_context()
        return context is not None and context.num_replicas_in_sync > 1

    def _clip_gradients(self, grads):
        if distributed():
            dummy = [None] * len(grads)
            grads = [g for g, _ in all_reduce_sum_gradients(zip(grads, dummy))]
        return clip_gradients(grads)

    def _all_reduce_sum_gradients(self, grads_and_vars):
        if distributed():
            return list(grads_and_vars)  # already summed before clipping
        return all_reduce_sum_gradients(grads_and_vars)

    optimizer._clip_gradients = types.MethodType(_clip_gradients, optimizer)
    optimizer._all_reduce_sum_gradients = types.MethodType(
        _all_reduce_sum_gradients, optimizer
    )
    optimizer._keras_electra_clip_after_all_reduce = True
    return optimizer


def verify():
    """Check that every private piece used here is still where it was.

    Returns the list of problems (empty when all is well); each names the
    piece and the installed versions.

    Example:
    ```python
    assert verify() == []
    ```
    """
    import keras_hub

    problems = []
    versions = (f"(Keras {keras.__version__}, keras-hub "
                f"{keras_hub.__version__}; written for Keras "
                f"{'-'.join(KERAS_VERSIONS)}, keras-hub "
                f"{'-'.join(KERAS_HUB_VERSIONS)})")
    for owner, names in (
        (keras.layers.Layer, ("_flatten_layers",)),
        (keras.Model, ("_symbolic_build",)),
    ):
        for name in names:
            if not hasattr(owner, name):
                problems.append(f"{owner.__name__}.{name} is gone {versions}")
    try:
        preprocessing_function(lambda self, x: x)
        in_safe_mode()
    except (ImportError, AttributeError) as e:
        problems.append(f"{e} {versions}")
    try:
        embedding = keras_hub.layers.ReversibleEmbedding(10, 8)
        head = keras_hub.layers.MaskedLMHead(token_embedding=embedding)
        head(keras.ops.zeros((1, 4, 8)),
             mask_positions=keras.ops.zeros((1, 2), "int32"))
        masked_lm_head_parts(head)
    except RuntimeError as e:
        problems.append(str(e))
    for owner, name in (
        (keras_hub.tokenizers.WordPieceTokenizer, "_add_special_token"),
        (keras.optimizers.Optimizer, "_get_variable_index"),
        (keras.optimizers.Optimizer, "_use_weight_decay"),
    ):
        if not hasattr(owner, name):
            problems.append(f"{owner.__name__}.{name} is gone {versions}")
    if keras.backend.backend() == "tensorflow":
        optimizer = keras.optimizers.AdamW()
        for name in ("_clip_gradients", "_all_reduce_sum_gradients"):
            if not hasattr(optimizer, name):
                problems.append(f"Optimizer.{name} is gone {versions}")
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        if not hasattr(model, "_maybe_symbolic_build"):
            problems.append(
                f"Model._maybe_symbolic_build is gone {versions}"
            )
    return problems
