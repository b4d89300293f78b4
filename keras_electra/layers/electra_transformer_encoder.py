"""The post-LayerNorm transformer encoder block of ELECTRA (and BERT)."""

import keras

from keras_electra.api_export import keras_electra_export
from keras_electra.layers.electra_dropout import ElectraDropout
from keras_electra.layers.electra_self_attention import ElectraSelfAttention
from keras_electra.layers.electra_self_attention import clone_initializer


@keras_electra_export
class ElectraTransformerEncoder(keras.layers.Layer):
    """One transformer encoder block with two dropout rates.

    Self-attention (`ElectraSelfAttention`), dropout, residual sum and
    LayerNorm, then a feed-forward network (`intermediate_dim`, exact GELU
    by default), dropout, residual sum and LayerNorm: the post-LayerNorm
    block of BERT and ELECTRA. Unlike `keras_hub.layers.TransformerEncoder`
    it keeps the attention-probability dropout (`attention_dropout`) apart
    from the residual one (`dropout`), as Hugging Face and the original
    code do; with `attention_dropout=0` training runs attention through
    `keras.ops.dot_product_attention` as well (inference always does).

    Its weights are laid out, named and saved as keras-hub's
    `TransformerEncoder` and Keras' `MultiHeadAttention` save theirs, so
    the converters read both alike.

    Args:
        intermediate_dim: int. Width of the feed-forward layer.
        num_heads: int. Attention heads; the input width must divide by it.
        dropout: float. Dropout on the two residual branches. Defaults to
            `0.0`.
        attention_dropout: float or None. Dropout on the attention
            probabilities. Defaults to `None`: `dropout`.
        activation: Activation of the feed-forward layer. Defaults to
            `"gelu"` (the exact erf form).
        layer_norm_epsilon: float. Defaults to `1e-12`.
        kernel_initializer: Defaults to `"glorot_uniform"`.
        bias_initializer: Defaults to `"zeros"`.
        **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`).

    Example:
    ```python
    import numpy as np
    block = ElectraTransformerEncoder(
        intermediate_dim=64, num_heads=2, dropout=0.1, attention_dropout=0.0)
    x = np.random.rand(2, 5, 32).astype("float32")
    y = block(x, padding_mask=np.array([[1, 1, 1, 0, 0]] * 2))
    assert y.shape == (2, 5, 32)
    ```
    """

    def __init__(
        self,
        intermediate_dim,
        num_heads,
        dropout=0.0,
        attention_dropout=None,
        activation="gelu",
        layer_norm_epsilon=1e-12,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.intermediate_dim = intermediate_dim
        self.num_heads = num_heads
        self.dropout = float(dropout)
        self.attention_dropout = float(
            dropout if attention_dropout is None else attention_dropout
        )
        self.activation = keras.activations.get(activation)
        self.layer_norm_epsilon = layer_norm_epsilon
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.supports_masking = True

    def _sublayer(self, cls, name, *args, **kwargs):
        return cls(*args, dtype=self.dtype_policy, name=name, **kwargs)

    def _dense(self, units, name, activation=None):
        return self._sublayer(
            keras.layers.Dense, name, units,
            activation=activation,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            bias_initializer=clone_initializer(self.bias_initializer),
        )

    def build(self, inputs_shape):
        hidden_dim = inputs_shape[-1]
        if hidden_dim % self.num_heads:
            raise ValueError(
                f"The input width ({hidden_dim}) must be divisible by "
                f"`num_heads` ({self.num_heads})."
            )
        # Attribute and layer names are keras-hub's TransformerEncoder's:
        # they name the weights in `.weights.h5` files and variable paths.
        self._self_attention_layer = self._sublayer(
            ElectraSelfAttention, "self_attention_layer",
            num_heads=self.num_heads,
            key_dim=hidden_dim // self.num_heads,
            dropout=self.attention_dropout,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            bias_initializer=clone_initializer(self.bias_initializer),
        )
        self._self_attention_layer.build(inputs_shape)
        self._self_attention_layer_norm = self._sublayer(
            keras.layers.LayerNormalization, "self_attention_layer_norm",
            epsilon=self.layer_norm_epsilon,
        )
        self._self_attention_layer_norm.build(inputs_shape)
        self._self_attention_dropout = self._sublayer(
            ElectraDropout, "self_attention_dropout", rate=self.dropout
        )
        self._feedforward_layer_norm = self._sublayer(
            keras.layers.LayerNormalization, "feedforward_layer_norm",
            epsilon=self.layer_norm_epsilon,
        )
        self._feedforward_layer_norm.build(inputs_shape)
        self._feedforward_intermediate_dense = self._dense(
            self.intermediate_dim, "feedforward_intermediate_dense",
            activation=self.activation,
        )
        self._feedforward_intermediate_dense.build(inputs_shape)
        self._feedforward_output_dense = self._dense(
            hidden_dim, "feedforward_output_dense"
        )
        self._feedforward_output_dense.build(
            tuple(inputs_shape[:-1]) + (self.intermediate_dim,)
        )
        self._feedforward_dropout = self._sublayer(
            ElectraDropout, "feedforward_dropout", rate=self.dropout
        )

    def parts(self):
        """The block's layers by role (for weight maps), once built.

        A method, not a property: Keras would save a dict attribute's
        layers a second time under other names. Keys: `self_attention`,
        `self_attention_layer_norm`,
        `feedforward_intermediate_dense`, `feedforward_output_dense`,
        `feedforward_layer_norm`.
        """
        return {
            "self_attention": self._self_attention_layer,
            "self_attention_layer_norm": self._self_attention_layer_norm,
            "feedforward_intermediate_dense": (
                self._feedforward_intermediate_dense
            ),
            "feedforward_output_dense": self._feedforward_output_dense,
            "feedforward_layer_norm": self._feedforward_layer_norm,
        }

    def call(self, inputs, padding_mask=None, training=None):
        x = self._self_attention_layer(
            inputs, padding_mask=padding_mask, training=training
        )
        x = self._self_attention_dropout(x, training=training)
        x = self._self_attention_layer_norm(x + inputs)
        residual = x
        x = self._feedforward_intermediate_dense(x)
        x = self._feedforward_output_dense(x)
        x = self._feedforward_dropout(x, training=training)
        return self._feedforward_layer_norm(x + residual)

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "intermediate_dim": self.intermediate_dim,
                "num_heads": self.num_heads,
                "dropout": self.dropout,
                "attention_dropout": self.attention_dropout,
                "activation": keras.activations.serialize(self.activation),
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(
                    self.bias_initializer
                ),
            }
        )
        return config
