"""keras-hub's `TransformerEncoder` with attention-probability dropout apart."""

import keras
from keras_hub.layers import TransformerEncoder

from keras_electra.api_export import keras_electra_export


@keras_electra_export
class ElectraTransformerLayer(TransformerEncoder):
    """One ELECTRA (BERT) encoder layer, attention dropout set on its own.

    keras-hub's `TransformerEncoder` applies one `dropout` rate to the
    attention probabilities and to the residual branches. Hugging Face and
    the original code keep two (`attention_probs_dropout_prob`,
    `hidden_dropout_prob`), and the split matters for speed: with no dropout
    on the probabilities, Keras' `MultiHeadAttention` computes attention with
    `keras.ops.dot_product_attention` (PyTorch's SDPA, JAX/XLA and cuDNN
    fused attention) instead of an explicit softmax. Weights and their names
    are those of `TransformerEncoder`.

    Args:
        attention_dropout: float or None. Dropout on the attention
            probabilities. Defaults to `None`: the layer's `dropout`.
        **kwargs: passed to `keras_hub.layers.TransformerEncoder`.

    Example:
    ```python
    import numpy as np
    layer = ElectraTransformerLayer(
        intermediate_dim=64, num_heads=2, dropout=0.1, attention_dropout=0.0)
    out = layer(np.zeros((1, 5, 32), "float32"))
    assert out.shape == (1, 5, 32)
    ```
    """

    def __init__(self, attention_dropout=None, **kwargs):
        super().__init__(**kwargs)
        self.attention_dropout = (
            self.dropout if attention_dropout is None else attention_dropout
        )

    def build(self, inputs_shape):
        rate = float(self.attention_dropout)
        probabilities_dropout = None
        if rate != self.dropout:
            # Owned (and its seed state tracked) by this layer; created here
            # because a Dropout built with rate 0 has no seed generator.
            probabilities_dropout = keras.layers.Dropout(
                rate=rate, dtype=self.dtype_policy,
                name="attention_probabilities_dropout",
            )
        super().build(inputs_shape)
        if probabilities_dropout is None:
            return
        self._attention_probabilities_dropout = probabilities_dropout
        attention = self._self_attention_layer
        # Keras 3.15's MultiHeadAttention reads its rate from `_dropout` at
        # call time (0 selects ops.dot_product_attention) and applies it with
        # `_dropout_layer`; keras-hub 0.32 builds it with the layer's one
        # `dropout`. Only this module touches those attributes.
        if not hasattr(attention, "_dropout") or not hasattr(
            attention, "_dropout_layer"
        ):
            raise RuntimeError(
                "ElectraTransformerLayer: this Keras version's "
                "MultiHeadAttention has no `_dropout` / `_dropout_layer` "
                f"(keras {keras.__version__}); attention_dropout cannot be set."
            )
        attention._dropout = rate
        # The built layer's tracker is locked; the Dropout's state is
        # tracked through this layer instead.
        object.__setattr__(attention, "_dropout_layer", probabilities_dropout)

    def get_config(self):
        config = super().get_config()
        config["attention_dropout"] = self.attention_dropout
        return config
