"""Masked-LM head whose vocabulary projection is optional per position."""

from keras import ops
from keras_hub.layers import MaskedLMHead

from keras_electra.api_export import keras_electra_export
from keras_electra.keras_workarounds import masked_lm_head_parts


@keras_electra_export
class ElectraMaskedLMHead(MaskedLMHead):
    """`keras_hub.layers.MaskedLMHead` that also scores every position.

    Dense (to the embedding width) with the intermediate activation,
    LayerNorm, then the tied projection onto the vocabulary plus a bias.
    With `mask_positions`, only those positions are gathered and projected
    (the cheap path used in pre-training); without, every position is.

    Args: as `keras_hub.layers.MaskedLMHead`.

    Example:
    ```python
    import numpy as np
    from keras_hub.layers import ReversibleEmbedding
    embedding = ReversibleEmbedding(100, 16)
    embedding.build((None, None))
    head = ElectraMaskedLMHead(
        token_embedding=embedding, intermediate_activation="gelu"
    )
    hidden = np.random.rand(2, 5, 16).astype("float32")
    assert head(hidden).shape == (2, 5, 100)
    assert head(hidden, np.array([[1, 2], [0, 4]])).shape == (2, 2, 100)
    ```
    """

    def build(self, inputs_shape, mask_positions_shape=None):
        super().build(inputs_shape, mask_positions_shape)

    def call(self, inputs, mask_positions=None):
        if mask_positions is not None:
            inputs = ops.take_along_axis(
                inputs, ops.expand_dims(mask_positions, axis=-1), axis=1
            )
        return self._project(inputs)

    def _project(self, x):
        parts = masked_lm_head_parts(self)
        x = parts["intermediate_layer_norm"](parts["intermediate_dense"](x))
        if self.token_embedding:
            outputs = self.token_embedding(x, reverse=True)
        else:
            outputs = ops.matmul(x, parts["kernel"])
        # The parent layer turns autocasting off, so inside a mixed-precision
        # model the float32 bias must be cast explicitly.
        outputs = ops.cast(outputs, self.compute_dtype)
        outputs = outputs + ops.cast(parts["bias"], self.compute_dtype)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def compute_output_shape(self, inputs_shape, mask_positions_shape=None):
        if mask_positions_shape is None:
            return tuple(inputs_shape[:-1]) + (self.vocabulary_size,)
        return tuple(mask_positions_shape) + (self.vocabulary_size,)
