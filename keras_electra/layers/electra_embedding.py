"""Token, position and segment embeddings of ELECTRA."""

import keras
from keras_hub.layers import PositionEmbedding
from keras_hub.layers import ReversibleEmbedding

from keras_electra.api_export import keras_electra_export
from keras_electra.layers.electra_dropout import ElectraDropout


def electra_kernel_initializer(stddev=0.02):
    """The truncated-normal initializer of the original ELECTRA code.

    Example:
    ```python
    init = electra_kernel_initializer()
    weights = init((4, 4))
    ```
    """
    return keras.initializers.TruncatedNormal(stddev=stddev)


@keras_electra_export
class ElectraEmbedding(keras.layers.Layer):
    """Sum of token, position and segment embeddings, normalized.

    The embedding block of ELECTRA (and BERT): three lookup tables of width
    `embedding_dim` are added, then LayerNorm (epsilon 1e-12) and dropout are
    applied. The projection to the encoder width lives in the backbone, so one
    `ElectraEmbedding` can be shared by a generator and a discriminator of
    different widths, as in the paper.

    The token table is a `keras_hub.layers.ReversibleEmbedding`, so a masked-LM
    head can reuse it as its output projection (tied weights).

    Args:
        vocabulary_size: int. Number of token ids.
        embedding_dim: int. Width of the embedding vectors.
        max_sequence_length: int. Size of the position table; longer inputs
            are rejected. Defaults to `512`.
        num_segments: int. Number of segment (token type) ids. Defaults to `2`.
        dropout: float. Dropout rate after normalization. Defaults to `0.1`.
        layer_norm_epsilon: float. Defaults to `1e-12`.
        initializer_range: float. Standard deviation of the truncated-normal
            initializer. Defaults to `0.02`.

    Example:
    ```python
    import numpy as np
    layer = ElectraEmbedding(vocabulary_size=100, embedding_dim=16)
    x = layer(np.array([[2, 7, 3]]), np.array([[0, 0, 0]]))
    assert x.shape == (1, 3, 16)
    ```
    """

    def __init__(
        self,
        vocabulary_size,
        embedding_dim,
        max_sequence_length=512,
        num_segments=2,
        dropout=0.1,
        layer_norm_epsilon=1e-12,
        initializer_range=0.02,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.embedding_dim = embedding_dim
        self.max_sequence_length = max_sequence_length
        self.num_segments = num_segments
        self.dropout = dropout
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_range = initializer_range

        initializer = electra_kernel_initializer(initializer_range)
        self.token_embedding = ReversibleEmbedding(
            input_dim=vocabulary_size,
            output_dim=embedding_dim,
            embeddings_initializer=initializer,
            dtype=self.dtype_policy,
            name="token_embedding",
        )
        self.position_embedding = PositionEmbedding(
            sequence_length=max_sequence_length,
            initializer=initializer,
            dtype=self.dtype_policy,
            name="position_embedding",
        )
        self.segment_embedding = keras.layers.Embedding(
            input_dim=num_segments,
            output_dim=embedding_dim,
            embeddings_initializer=initializer,
            dtype=self.dtype_policy,
            name="segment_embedding",
        )
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon,
            dtype=self.dtype_policy,
            name="layer_norm",
        )
        self.dropout_layer = ElectraDropout(
            dropout, dtype=self.dtype_policy, name="dropout"
        )

    def build(self, token_ids_shape, segment_ids_shape=None):
        self.check_sequence_length(token_ids_shape[-1])
        self.token_embedding.build(token_ids_shape)
        embedded_shape = tuple(token_ids_shape) + (self.embedding_dim,)
        self.position_embedding.build(embedded_shape)
        self.segment_embedding.build(token_ids_shape)
        self.layer_norm.build(embedded_shape)
        self.built = True

    def check_sequence_length(self, length):
        """Raise a clear error if a static `length` exceeds the table."""
        if length is not None and length > self.max_sequence_length:
            raise ValueError(
                f"Received sequences of length {length}, but this model's "
                "position table holds "
                f"max_sequence_length={self.max_sequence_length} positions. "
                "Truncate the inputs (the preprocessors do this) or build a "
                "model with a larger `max_sequence_length`."
            )

    def call(self, token_ids, segment_ids=None, training=None):
        self.check_sequence_length(token_ids.shape[-1])
        tokens = self.token_embedding(token_ids)
        x = tokens + self.position_embedding(tokens)
        if segment_ids is not None:
            x = x + self.segment_embedding(segment_ids)
        x = self.layer_norm(x)
        return self.dropout_layer(x, training=training)

    def compute_output_shape(self, token_ids_shape, segment_ids_shape=None):
        return tuple(token_ids_shape) + (self.embedding_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "embedding_dim": self.embedding_dim,
                "max_sequence_length": self.max_sequence_length,
                "num_segments": self.num_segments,
                "dropout": self.dropout,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "initializer_range": self.initializer_range,
            }
        )
        return config
