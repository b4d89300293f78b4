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
  own preprocessors do.
- `serialization_lib.in_safe_mode()`: whether a `.keras` file is being
  loaded in safe mode (a tokenizer config must not then read files).
- `TransformerEncoder` sub-layers (`_self_attention_layer`, its
  `_dropout`, `_self_attention_dropout`, `_feedforward_*`) and the
  projections of `MultiHeadAttention` (`_query_dense`, ...): keras-hub's
  encoder block has one dropout rate for attention probabilities and
  residual branches; ELECTRA needs them apart, and the Hugging Face weight
  map needs the sub-layers.
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

- LiteRT export (`keras_electra.export.tflite`): while a model is traced
  for conversion, `fused_self_attention` replaces `MultiHeadAttention.call`
  (one fused query/key/value product, additive mask: fewer ops for
  XNNPACK), and `bounded_attention_mask_fill` the two private helpers
  that give masked attention scores their fill (a finite fill keeps full
  int8 calibration ranges tight). Both undo themselves on exit.
"""

import contextlib
import types

import keras

KERAS_VERSIONS = ("3.10", "3.15")
KERAS_HUB_VERSIONS = ("0.21", "0.32")

# Private attributes of a built keras_hub TransformerEncoder used here.
TRANSFORMER_ATTRIBUTES = (
    "_self_attention_layer",
    "_self_attention_layer_norm",
    "_self_attention_dropout",
    "_feedforward_intermediate_dense",
    "_feedforward_output_dense",
    "_feedforward_layer_norm",
    "_feedforward_dropout",
)


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
    from keras_hub.src.utils.tensor_utils import (
        preprocessing_function as keras_hub_preprocessing_function,
    )

    return keras_hub_preprocessing_function(fn)


def in_safe_mode():
    """Whether Keras is deserializing in safe mode right now.

    Example:
    ```python
    assert in_safe_mode() in (None, True, False)
    ```
    """
    from keras.src.saving import serialization_lib

    return serialization_lib.in_safe_mode()


def transformer_sublayers(layer):
    """The sub-layers of a built keras-hub `TransformerEncoder`, by name.

    Returns a dict from the names in `TRANSFORMER_ATTRIBUTES` without their
    leading underscore (`"self_attention_layer"`, ...). Raises a
    `RuntimeError` naming the Keras and keras-hub versions when one is
    missing.

    Example:
    ```python
    import keras_hub
    layer = keras_hub.layers.TransformerEncoder(64, 2)
    layer.build((None, 8, 32))
    parts = transformer_sublayers(layer)
    assert parts["feedforward_output_dense"].units == 32
    ```
    """
    missing = [name for name in TRANSFORMER_ATTRIBUTES
               if getattr(layer, name, None) is None]
    if missing:
        import keras_hub

        raise RuntimeError(
            f"keras-hub's TransformerEncoder has no {missing} (keras-hub "
            f"{keras_hub.__version__}, Keras {keras.__version__}); "
            "keras_electra was written for keras-hub "
            f"{'-'.join(KERAS_HUB_VERSIONS)}."
        )
    return {name[1:]: getattr(layer, name) for name in TRANSFORMER_ATTRIBUTES}


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


def attention_sublayers(attention):
    """The projections of a built `keras.layers.MultiHeadAttention`.

    Returns `query_dense`, `key_dense`, `value_dense` and `output_dense`
    (Keras keeps them private); raises a `RuntimeError` naming the Keras
    version when one is missing.

    Example:
    ```python
    import numpy as np
    attention = keras.layers.MultiHeadAttention(2, 4)
    x = np.zeros((1, 3, 8), "float32")
    attention(x, x)
    assert attention_sublayers(attention)["output_dense"] is not None
    ```
    """
    names = ("_query_dense", "_key_dense", "_value_dense", "_output_dense")
    return _private_parts(attention, names, "keras.layers.MultiHeadAttention")


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


def set_transformer_dropouts(layer, dropout, attention_dropout):
    """Give a built `TransformerEncoder` two dropout rates.

    `attention_dropout` goes to the attention probabilities, `dropout` to
    the residual branches (the block was built with the larger one).

    Example:
    ```python
    import keras_hub
    layer = keras_hub.layers.TransformerEncoder(64, 2, dropout=0.1)
    layer.build((None, 8, 32))
    set_transformer_dropouts(layer, 0.1, 0.0)
    assert transformer_sublayers(layer)["self_attention_layer"].dropout == 0
    ```
    """
    parts = transformer_sublayers(layer)
    attention = parts["self_attention_layer"]
    if getattr(attention, "_dropout_layer", None) is None:
        raise RuntimeError(
            "keras.layers.MultiHeadAttention has no `_dropout_layer` (Keras "
            f"{keras.__version__}); attention_dropout cannot be set."
        )
    attention._dropout = float(attention_dropout)
    attention._dropout_layer.rate = float(attention_dropout)
    parts["self_attention_dropout"].rate = float(dropout)
    parts["feedforward_dropout"].rate = float(dropout)


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


@contextlib.contextmanager
def bounded_attention_mask_fill(fill=-50.0):
    """Trace Keras attention with a finite fill for masked scores.

    Inside the context, Keras' attention masking (`keras.layers.Softmax`,
    used by attention layers with dropout, and the TensorFlow backend's
    `ops.dot_product_attention`, used without) fills masked scores with
    `fill` instead of -1e9 or -0.7 x the float32 maximum. Only graphs traced
    inside the context are affected.

    Example:
    ```python
    import numpy as np
    import keras
    softmax = keras.layers.Softmax()
    x, mask = np.zeros((1, 3), "float32"), np.array([[1, 1, 0]], bool)
    with bounded_attention_mask_fill(-50.0):
        y = softmax(x, mask=mask)
    assert float(y[0, 2]) < 1e-20
    ```
    """
    import tensorflow as tf
    from keras.src.backend.tensorflow import nn as tf_nn_module
    from keras.src.layers.activations import softmax as softmax_module

    # Attention layers with dropout mask through `keras.layers.Softmax`;
    # without dropout, through the TensorFlow backend's
    # `ops.dot_product_attention` (fill -0.7 x float32 max).
    patches = [
        (softmax_module, "_large_negative_number", lambda dtype: fill),
        (
            tf_nn_module,
            "_get_large_negative",
            lambda dtype: tf.constant(fill, dtype=dtype),
        ),
    ]
    originals = []
    for module, name, _ in patches:
        if not hasattr(module, name):
            raise RuntimeError(
                f"This Keras version has no `{module.__name__}.{name}`; "
                "full-int8 export needs it to bound the attention mask "
                "fill. Use quantization='dynamic_int8' or a tested Keras "
                f"version (installed: {_keras_version()}; tested: 3.15)."
            )
        originals.append(getattr(module, name))
    for module, name, replacement in patches:
        setattr(module, name, replacement)
    try:
        yield
    finally:
        for (module, name, _), original in zip(patches, originals):
            setattr(module, name, original)


# Masked attention scores get this added in the fused graph: exp() of it
# underflows to exactly 0 in float32, as Keras' own -1e9 fill does.
FUSED_ATTENTION_MASK_FILL = -1e9


@contextlib.contextmanager
def fused_self_attention(mask_fill=FUSED_ATTENTION_MASK_FILL):
    """Trace Keras self-attention with one fused query/key/value projection.

    Inside the context, every `keras.layers.MultiHeadAttention` that runs
    plain self-attention in inference (the same tensor object as query and
    value, no gate, no causal or sliding-window mask, no returned scores,
    no dropout at work) computes its query, key and value with ONE matrix
    product against the three kernels concatenated, splits the result,
    and applies the padding mask by adding `mask_fill` to the scores of
    masked keys instead of selecting. The arithmetic is the same (float32
    outputs agree with Keras to ~1e-7); what changes is the traced graph:
    for a LiteRT file, 3 fully connected ops become 1 per block and the
    `SELECT_V2` ops that split XNNPACK into many partitions disappear, so
    dynamic-int8 inference runs faster (ELECTRA-Small, 2 threads: see
    benchmarks/RESULTS_export.md). Any other use of the layer is traced
    by Keras' own code. Only graphs traced inside the context are
    affected; nothing is changed in the model or its weights. The context
    yields a list that receives the layer name of each call it fused (one
    entry per attention block traced).

    Args:
        mask_fill: float. Added to the attention scores of masked keys.
            Defaults to `-1e9`.

    Example:
    ```python
    import numpy as np
    import keras
    layer = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    x = keras.ops.convert_to_tensor(np.random.rand(1, 3, 8), "float32")
    mask = np.array([[[1, 1, 0]] * 3], bool)
    expected = layer(x, x, attention_mask=mask)
    with fused_self_attention() as fused_layers:
        fused = layer(x, x, attention_mask=mask)
    np.testing.assert_allclose(fused, expected, atol=1e-6)
    assert fused_layers == [layer.name]
    ```
    """
    from keras.src.layers.attention import multi_head_attention

    layer_class = multi_head_attention.MultiHeadAttention
    original = layer_class.call
    for name in ("_compute_attention", "_compute_attention_mask"):
        if not hasattr(layer_class, name):
            raise RuntimeError(
                f"This Keras version's MultiHeadAttention has no `{name}`; "
                "the fused attention export needs it. Export with "
                f"fuse_attention=False (installed Keras: {_keras_version()}; "
                "tested: 3.15)."
            )
    fused_layers = []

    def call(self, query, value, key=None, query_mask=None,
             value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores=False, training=None,
             use_causal_mask=False):
        if not _fusable(self, query, value, key, query_mask, value_mask,
                        key_mask, return_attention_scores, training,
                        use_causal_mask):
            return original(
                self, query, value, key=key, query_mask=query_mask,
                value_mask=value_mask, key_mask=key_mask,
                attention_mask=attention_mask,
                return_attention_scores=return_attention_scores,
                training=training, use_causal_mask=use_causal_mask,
            )
        fused_layers.append(self.name)
        return _fused_attention(self, query, attention_mask, mask_fill)

    layer_class.call = call
    try:
        yield fused_layers
    finally:
        layer_class.call = original


# Set by `MultiHeadAttention.__init__` and `build()`.
_MHA_INSTANCE_ATTRIBUTES = (
    "_query_dense", "_key_dense", "_value_dense", "_output_dense",
    "_inverse_sqrt_key_dim", "_attention_axes",
)
_PROJECTION_EQUATION = "abc,cde->abde"


def _fusable(layer, query, value, key, query_mask, value_mask, key_mask,
             return_attention_scores, training, use_causal_mask):
    from keras.src import backend
    from keras.src.layers.attention import multi_head_attention

    if query is not value or (key is not None and key is not value):
        return False
    if not all(hasattr(layer, name) for name in _MHA_INSTANCE_ATTRIBUTES):
        return False
    if (return_attention_scores or use_causal_mask
            or getattr(layer, "_use_gate", False)
            or getattr(layer, "_sliding_window", None) is not None):
        return False
    if training and getattr(layer, "_dropout", 0.0) > 0:
        return False
    if any(m is not None for m in (query_mask, value_mask, key_mask)):
        return False
    if backend.get_keras_mask(query) is not None:
        return False
    if (type(layer)._compute_attention
            is not multi_head_attention.MultiHeadAttention._compute_attention):
        return False
    if len(query.shape) != 3 or tuple(layer._attention_axes) != (1,):
        return False
    projections = (layer._query_dense, layer._key_dense, layer._value_dense)
    if any(getattr(p, "equation", None) != _PROJECTION_EQUATION
           for p in projections):
        return False
    shapes = {tuple(p.kernel.shape) for p in projections}
    with_bias = {p.bias is not None for p in projections}
    return len(shapes) == 1 and len(with_bias) == 1


def _fused_attention(layer, x, attention_mask, mask_fill):
    from keras import ops

    projections = (layer._query_dense, layer._key_dense, layer._value_dense)
    dtype = x.dtype
    # [hidden, 3 x heads, head_dim]: one matrix product for the three.
    kernel = ops.concatenate(
        [ops.cast(p.kernel, dtype) for p in projections], axis=1
    )
    qkv = ops.einsum(_PROJECTION_EQUATION, x, kernel)
    if projections[0].bias is not None:
        qkv = qkv + ops.concatenate(
            [ops.cast(p.bias, dtype) for p in projections], axis=0
        )
    # [batch, 3 x heads, length, head_dim], split into query, key, value.
    qkv = ops.transpose(qkv, (0, 2, 1, 3))
    query, key, value = ops.split(qkv, 3, axis=1)
    query = query * ops.cast(layer._inverse_sqrt_key_dim, dtype)
    scores = ops.einsum("bnth,bnsh->bnts", query, key)
    attention_mask = layer._compute_attention_mask(
        x, x, attention_mask=attention_mask
    )
    if attention_mask is not None:
        keep = ops.cast(ops.expand_dims(attention_mask, 1), scores.dtype)
        scores = scores + (1.0 - keep) * ops.cast(mask_fill, scores.dtype)
    probabilities = ops.softmax(scores, axis=-1)
    output = ops.matmul(probabilities, value)
    output = ops.transpose(output, (0, 2, 1, 3))
    return layer._output_dense(output)


def _keras_version():
    return keras.__version__


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
    layer = keras_hub.layers.TransformerEncoder(8, 2, dropout=0.1)
    layer.build((None, 4, 8))
    try:
        set_transformer_dropouts(layer, 0.1, 0.0)
        layer(keras.ops.zeros((1, 4, 8)))
        attention_sublayers(transformer_sublayers(layer)["self_attention_layer"])
    except RuntimeError as e:
        problems.append(str(e))
    try:
        embedding = keras_hub.layers.ReversibleEmbedding(10, 8)
        head = keras_hub.layers.MaskedLMHead(token_embedding=embedding)
        head(keras.ops.zeros((1, 4, 8)),
             mask_positions=keras.ops.zeros((1, 2), "int32"))
        masked_lm_head_parts(head)
    except RuntimeError as e:
        problems.append(str(e))
    try:
        with bounded_attention_mask_fill(-50.0), fused_self_attention():
            pass
    except (ImportError, RuntimeError) as e:
        problems.append(f"{e} {versions}")
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
