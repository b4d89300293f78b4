"""Attention-probability dropout apart from dropout, on keras-hub's layer.

keras-hub's `TransformerEncoder` applies one `dropout` rate to the attention
probabilities and to the residual branches. Hugging Face and the original
code keep two (`attention_probs_dropout_prob`, `hidden_dropout_prob`), and
the split matters for speed: with no dropout on the probabilities, Keras'
`MultiHeadAttention` computes attention with `keras.ops.dot_product_attention`
(PyTorch's SDPA, JAX/XLA and cuDNN fused attention) instead of an explicit
softmax.

The layers stay `keras_hub.layers.TransformerEncoder` instances: Keras names
a layer's weights in `.weights.h5` files after its class, so a subclass would
make every earlier checkpoint unreadable.
"""

from keras_hub.layers import TransformerEncoder

from keras_electra.keras_workarounds import set_transformer_dropouts
from keras_electra.keras_workarounds import transformer_sublayers  # noqa: F401


def transformer_layer(dropout, attention_dropout, **kwargs):
    """A `TransformerEncoder` whose dropout layers can take both rates.

    It is built with the larger rate (a Keras `Dropout` made with rate 0 has
    no seed generator, so it could not be raised later); call
    `set_dropout_rates` once it is built.

    Example:
    ```python
    import numpy as np
    layer = transformer_layer(0.1, 0.0, intermediate_dim=64, num_heads=2)
    layer(np.zeros((1, 5, 32), "float32"))
    set_dropout_rates(layer, 0.1, 0.0)
    ```
    """
    return TransformerEncoder(
        dropout=max(dropout, attention_dropout), **kwargs
    )


def set_dropout_rates(layer, dropout, attention_dropout):
    """Give a built `TransformerEncoder` its residual and attention rates.

    Keras' `MultiHeadAttention` reads its rate at call time (0 selects
    `ops.dot_product_attention`); the private attributes it takes are set
    by `keras_electra.keras_workarounds.set_transformer_dropouts`.

    Example:
    ```python
    import numpy as np
    layer = transformer_layer(0.1, 0.0, intermediate_dim=64, num_heads=2)
    layer(np.zeros((1, 5, 32), "float32"))
    set_dropout_rates(layer, 0.1, 0.0)
    parts = transformer_sublayers(layer)
    assert parts["self_attention_layer"].dropout == 0.0
    ```
    """
    set_transformer_dropouts(layer, dropout, attention_dropout)
