"""Multi-head self-attention of the ELECTRA encoder block."""

import contextlib
import math

import keras
from keras import ops

from keras_electra.api_export import keras_electra_export
from keras_electra.layers.electra_dropout import ElectraDropout

# "abc,cde->abde": [batch, length, hidden] x [hidden, heads, head_dim].
_PROJECTION_EQUATION = "abc,cde->abde"


def clone_initializer(initializer):
    """A fresh copy of a Keras initializer (each layer gets its own).

    Example:
    ```python
    import keras
    init = keras.initializers.TruncatedNormal(stddev=0.02)
    assert clone_initializer(init) is not init
    ```
    """
    initializer = keras.initializers.get(initializer)
    return initializer.__class__.from_config(initializer.get_config())


def _mask_fill(dtype):
    # As Keras' masked softmax: exp() of it is exactly 0 in the dtype.
    return -3e4 if keras.backend.standardize_dtype(dtype) == "float16" else -1e9


@keras_electra_export
class ElectraSelfAttention(keras.layers.Layer):
    """Multi-head self-attention with a padding mask, as in BERT and ELECTRA.

    Queries, keys and values are projected from the same sequence with
    `keras.layers.EinsumDense` kernels `[hidden_dim, num_heads, key_dim]`
    (the layout of `keras.layers.MultiHeadAttention`, whose weights this
    layer reads and writes under the same names), scaled by
    `1 / sqrt(key_dim)`, and padded keys are ignored.

    How the attention is computed depends on what is needed:

    - in inference, or in training with `dropout=0`: through
      `keras.ops.dot_product_attention`, the backends' fused kernels
      (PyTorch `scaled_dot_product_attention`, XLA and cuDNN fused
      attention);
    - in training with `dropout > 0`: explicit scores, a softmax and
      dropout on the probabilities (the paper's 0.1), which no fused
      kernel of Keras takes;
    - for export (set for the time of a trace by `attention_for_export`):
      with `fuse_projections`, one matrix product against the three
      kernels side by side instead of three and the mask added to the
      scores (LiteRT gets fewer and larger ops); with a `mask_fill` alone,
      explicit scores whose masked entries get that fill instead of -1e9
      (as `keras.layers.Softmax` masks).

    All three give the same outputs (float32: ~1e-7).

    Args:
        num_heads: int. Number of attention heads.
        key_dim: int. Width of each head.
        dropout: float. Dropout on the attention probabilities (Hugging
            Face's `attention_probs_dropout_prob`). Defaults to `0.0`.
        kernel_initializer: initializer of the four projections. Defaults
            to `"glorot_uniform"`.
        bias_initializer: Defaults to `"zeros"`.
        **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`).

    Example:
    ```python
    import numpy as np
    layer = ElectraSelfAttention(num_heads=2, key_dim=8)
    x = np.random.rand(1, 4, 16).astype("float32")
    y = layer(x, padding_mask=np.array([[1, 1, 1, 0]]))
    assert y.shape == (1, 4, 16)
    ```
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        dropout=0.0,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.dropout = float(dropout)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        # Export options, not part of the config (`attention_for_export`).
        self.fuse_projections = False
        self.mask_fill = None
        self.supports_masking = True
        self._dropout_layer = ElectraDropout(
            rate=self.dropout, dtype=self.dtype_policy, name="dropout"
        )
        self._softmax = keras.layers.Softmax(
            axis=-1, dtype=self.dtype_policy, name="softmax"
        )

    def _projection(self, name, equation, output_shape, bias_axes):
        return keras.layers.EinsumDense(
            equation,
            output_shape=output_shape,
            bias_axes=bias_axes,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            bias_initializer=clone_initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, inputs_shape):
        hidden_dim = inputs_shape[-1]
        head_shape = (None, self.num_heads, self.key_dim)
        self.query_dense = self._projection(
            "query", _PROJECTION_EQUATION, head_shape, "de"
        )
        self.key_dense = self._projection(
            "key", _PROJECTION_EQUATION, head_shape, "de"
        )
        self.value_dense = self._projection(
            "value", _PROJECTION_EQUATION, head_shape, "de"
        )
        for dense in (self.query_dense, self.key_dense, self.value_dense):
            dense.build(inputs_shape)
        self.output_dense = self._projection(
            "attention_output", "abcd,cde->abe", (None, hidden_dim), "e"
        )
        self.output_dense.build(
            tuple(inputs_shape[:-1]) + (self.num_heads, self.key_dim)
        )

    def call(self, inputs, padding_mask=None, training=None):
        scale = 1.0 / math.sqrt(self.key_dim)
        # [batch, 1, 1, keys]: one row for every head and query.
        mask = None
        if padding_mask is not None:
            mask = ops.expand_dims(ops.expand_dims(padding_mask, 1), 1)
        if self.fuse_projections:
            return self.output_dense(self._fused_attention(inputs, mask, scale))
        query = self.query_dense(inputs)
        key = self.key_dense(inputs)
        value = self.value_dense(inputs)
        if self.mask_fill is not None or (training and self.dropout > 0):
            output = self._explicit_attention(
                query, key, value, mask, scale, training
            )
        else:
            if mask is not None:
                mask = ops.cast(mask, "bool")
            output = ops.dot_product_attention(
                query, key, value, mask=mask, scale=scale
            )
        return self.output_dense(output)

    def _fused_attention(self, inputs, mask, scale):
        """One product for query, key and value; additive mask (export)."""
        dense = (self.query_dense, self.key_dense, self.value_dense)
        dtype = inputs.dtype
        # [hidden, 3 x heads, head_dim]: one matrix product for the three.
        kernel = ops.concatenate(
            [ops.cast(d.kernel, dtype) for d in dense], axis=1
        )
        qkv = ops.einsum(_PROJECTION_EQUATION, inputs, kernel)
        qkv = qkv + ops.concatenate(
            [ops.cast(d.bias, dtype) for d in dense], axis=0
        )
        # [batch, 3 x heads, length, head_dim], split into query, key, value.
        qkv = ops.transpose(qkv, (0, 2, 1, 3))
        query, key, value = ops.split(qkv, 3, axis=1)
        query = query * ops.cast(scale, dtype)
        scores = ops.einsum("bnth,bnsh->bnts", query, key)
        if mask is not None:
            fill = self.mask_fill
            if fill is None:
                fill = _mask_fill(dtype)
            keep = ops.cast(mask, dtype)
            scores = scores + (1.0 - keep) * ops.cast(fill, dtype)
        probabilities = ops.softmax(scores, axis=-1)
        output = ops.matmul(probabilities, value)
        return ops.transpose(output, (0, 2, 1, 3))

    def _explicit_attention(self, query, key, value, mask, scale, training):
        query = query * ops.cast(scale, query.dtype)
        # [batch, heads, queries, keys]
        scores = ops.einsum("aecd,abcd->acbe", key, query)
        if mask is not None:
            mask = ops.cast(mask, "bool")
        if self.mask_fill is None:
            probabilities = self._softmax(scores, mask=mask)
        else:
            # Keras' masked softmax (`keras.layers.Softmax`), other fill.
            if mask is not None:
                fill = ops.cast(self.mask_fill, scores.dtype)
                scores = ops.where(mask, scores, fill)
            probabilities = ops.softmax(scores, axis=-1)
            if mask is not None:
                probabilities = ops.where(mask, probabilities, 0.0)
        probabilities = self._dropout_layer(probabilities, training=training)
        return ops.einsum("acbe,aecd->abcd", probabilities, value)

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "key_dim": self.key_dim,
                "dropout": self.dropout,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(
                    self.bias_initializer
                ),
            }
        )
        return config


@contextlib.contextmanager
def attention_for_export(model, fuse_projections=True, mask_fill=None):
    """Trace `model`'s self-attention layers the way an export wants them.

    Inside the context, every `ElectraSelfAttention` in `model` computes
    explicit scores. With `fuse_projections` it projects query, key and
    value with one matrix product and adds `mask_fill` (`None`: -1e9) to
    the scores of masked keys (LiteRT: one fully connected op instead of
    three per block, no `SELECT_V2`); without, masked scores are replaced
    by `mask_fill` as `keras.layers.Softmax` replaces them by -1e9 (with
    neither option the layers run as outside the context). The outputs
    are the same; a finite fill keeps full-int8 calibration ranges tight.
    On exit the layers are as before. Yields the names of the layers
    found.

    Args:
        model: a Keras model or layer holding `ElectraSelfAttention` layers.
        fuse_projections: bool. Defaults to `True`.
        mask_fill: float or None. Defaults to `None`.

    Example:
    ```python
    import numpy as np
    import keras
    layer = ElectraSelfAttention(num_heads=2, key_dim=8)
    x = np.random.rand(1, 4, 16).astype("float32")
    mask = np.array([[1, 1, 1, 0]])
    expected = keras.ops.convert_to_numpy(layer(x, padding_mask=mask))
    with attention_for_export(layer) as names:
        fused = keras.ops.convert_to_numpy(layer(x, padding_mask=mask))
    np.testing.assert_allclose(fused, expected, atol=1e-6)
    assert names == [layer.name] and not layer.fuse_projections
    ```
    """
    from keras_electra.keras_workarounds import flatten_layers

    layers = [
        layer for layer in flatten_layers(model, include_self=True)
        if isinstance(layer, ElectraSelfAttention)
    ]
    saved = [(layer.fuse_projections, layer.mask_fill) for layer in layers]
    for layer in layers:
        layer.fuse_projections = bool(fuse_projections)
        layer.mask_fill = mask_fill
    try:
        yield [layer.name for layer in layers]
    finally:
        for layer, (fuse, fill) in zip(layers, saved):
            layer.fuse_projections, layer.mask_fill = fuse, fill
