"""The ELECTRA encoder: embeddings, optional projection, transformer stack."""

import keras
import keras_hub

from keras_electra.api_export import keras_electra_export
from keras_electra.layers.electra_embedding import ElectraEmbedding
from keras_electra.layers.electra_embedding import electra_kernel_initializer
from keras_electra.layers.electra_transformer_encoder import (
    ElectraTransformerEncoder,
)
from keras_electra.models.electra_model import ElectraPresetMixin


@keras_electra_export
class ElectraBackbone(ElectraPresetMixin, keras_hub.models.Backbone):
    """ELECTRA encoder network, as in the original code and Hugging Face.

    A `keras_hub.models.Backbone`: after `import keras_electra`, a folder
    written by `save_to_preset()` also loads with
    `keras_hub.models.Backbone.from_preset(folder)`.

    Token, position and segment embeddings of width `embedding_dim` are
    summed and normalized (LayerNorm epsilon 1e-12); when `embedding_dim`
    differs from `hidden_dim` they are projected to `hidden_dim` (factorized
    embeddings, as in ELECTRA-Small and ALBERT). A stack of post-LayerNorm
    transformer encoder layers with the exact (erf) GELU follows; attention
    ignores positions where `padding_mask` is 0. There is no pooler: the
    original ELECTRA has none.

    ALBERT-style cross-layer parameter sharing is available through
    `num_groups`: the `num_layers` layers are split into `num_groups`
    consecutive groups and each group reuses one set of weights.

    Args:
        vocabulary_size: int. Size of the token vocabulary.
        num_layers: int. Number of transformer layers applied.
        num_heads: int. Attention heads per layer.
        hidden_dim: int. Width of the transformer layers.
        intermediate_dim: int. Width of the feed-forward layers.
        embedding_dim: int. Width of the embedding tables. Defaults to
            `hidden_dim`.
        max_sequence_length: int. Longest sequence the position table holds.
            Defaults to `512`.
        num_segments: int. Number of segment ids. Defaults to `2`.
        dropout: float. Dropout for embeddings, attention and feed-forward.
            Defaults to `0.1`.
        attention_dropout: float or None. Dropout on the attention
            probabilities (Hugging Face's `attention_probs_dropout_prob`).
            Defaults to `None`: `dropout`, as in the paper. Inference always
            runs attention through `keras.ops.dot_product_attention` (fused
            kernels: PyTorch SDPA, XLA, cuDNN); `0.0` lets training use it
            too.
        num_groups: int. Number of distinct layer weight sets (ALBERT
            cross-layer sharing). `num_layers` must be divisible by it.
            Defaults to `num_layers` (no sharing).
        layer_norm_epsilon: float. Defaults to `1e-12`.
        initializer_range: float. Standard deviation of the truncated-normal
            initializer. Defaults to `0.02`.
        embedding_layer: `ElectraEmbedding`. An existing embedding block to
            use instead of creating one, to share the tables with another
            backbone (generator and discriminator). It is not part of the
            config; the owner of both models re-ties it on reload. Defaults to
            `None`.
        dtype: string or `keras.DTypePolicy`. Dtype policy of the layers.

    Example:
    ```python
    import numpy as np
    backbone = ElectraBackbone(
        vocabulary_size=100, num_layers=2, num_heads=2, hidden_dim=32,
        intermediate_dim=64, embedding_dim=16,
    )
    outputs = backbone({
        "token_ids": np.array([[2, 10, 11, 3, 0]]),
        "segment_ids": np.zeros((1, 5), "int32"),
        "padding_mask": np.array([[1, 1, 1, 1, 0]]),
    })
    assert outputs["sequence_output"].shape == (1, 5, 32)
    ```

    Reference:
        Clark et al., ELECTRA: Pre-training Text Encoders as Discriminators
        Rather Than Generators, ICLR 2020 (arXiv:2003.10555).
    """

    def __init__(
        self,
        vocabulary_size,
        num_layers,
        num_heads,
        hidden_dim,
        intermediate_dim,
        embedding_dim=None,
        max_sequence_length=512,
        num_segments=2,
        dropout=0.1,
        attention_dropout=None,
        num_groups=None,
        layer_norm_epsilon=1e-12,
        initializer_range=0.02,
        embedding_layer=None,
        dtype=None,
        **kwargs,
    ):
        embedding_dim = embedding_dim or hidden_dim
        num_groups = num_groups or num_layers
        if attention_dropout is None:
            attention_dropout = dropout
        if num_layers % num_groups:
            raise ValueError(
                "`num_layers` must be divisible by `num_groups`. Received: "
                f"num_layers={num_layers}, num_groups={num_groups}"
            )
        if hidden_dim % num_heads:
            raise ValueError(
                "`hidden_dim` must be divisible by `num_heads`. Received: "
                f"hidden_dim={hidden_dim}, num_heads={num_heads}"
            )
        # === Layers ===
        if embedding_layer is None:
            embedding_layer = ElectraEmbedding(
                vocabulary_size=vocabulary_size,
                embedding_dim=embedding_dim,
                max_sequence_length=max_sequence_length,
                num_segments=num_segments,
                dropout=dropout,
                layer_norm_epsilon=layer_norm_epsilon,
                initializer_range=initializer_range,
                dtype=dtype,
                name="embeddings",
            )
        else:
            _check_shared_embedding(
                embedding_layer,
                vocabulary_size=vocabulary_size,
                embedding_dim=embedding_dim,
                max_sequence_length=max_sequence_length,
                num_segments=num_segments,
            )
        self.embeddings = embedding_layer
        self.embeddings_projection = None
        if embedding_dim != hidden_dim:
            self.embeddings_projection = keras.layers.Dense(
                hidden_dim,
                kernel_initializer=electra_kernel_initializer(
                    initializer_range
                ),
                dtype=dtype,
                name="embeddings_projection",
            )
        self.transformer_layers = [
            ElectraTransformerEncoder(
                dropout=dropout,
                attention_dropout=attention_dropout,
                num_heads=num_heads,
                intermediate_dim=intermediate_dim,
                activation="gelu",
                layer_norm_epsilon=layer_norm_epsilon,
                kernel_initializer=electra_kernel_initializer(
                    initializer_range
                ),
                dtype=dtype,
                name=f"transformer_layer_{i}",
            )
            for i in range(num_groups)
        ]

        # === Functional model ===
        token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        segment_ids = keras.Input(
            shape=(None,), dtype="int32", name="segment_ids"
        )
        padding_mask = keras.Input(
            shape=(None,), dtype="int32", name="padding_mask"
        )
        x = self.embeddings(token_ids, segment_ids)
        if self.embeddings_projection is not None:
            x = self.embeddings_projection(x)
        layers_per_group = num_layers // num_groups
        for i in range(num_layers):
            layer = self.transformer_layers[i // layers_per_group]
            x = layer(x, padding_mask=padding_mask)
        super().__init__(
            inputs={
                "token_ids": token_ids,
                "segment_ids": segment_ids,
                "padding_mask": padding_mask,
            },
            outputs={"sequence_output": x},
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.embedding_dim = embedding_dim
        self.max_sequence_length = max_sequence_length
        self.num_segments = num_segments
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.num_groups = num_groups
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_range = initializer_range

    @property
    def token_embedding(self):
        """The `ReversibleEmbedding` holding the token table."""
        return self.embeddings.token_embedding

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "num_layers": self.num_layers,
                "num_heads": self.num_heads,
                "hidden_dim": self.hidden_dim,
                "intermediate_dim": self.intermediate_dim,
                "embedding_dim": self.embedding_dim,
                "max_sequence_length": self.max_sequence_length,
                "num_segments": self.num_segments,
                "dropout": self.dropout,
                # None: "as `dropout`", so a `dropout=` override on reload
                # still reaches the attention probabilities.
                "attention_dropout": (
                    None if self.attention_dropout == self.dropout
                    else self.attention_dropout
                ),
                "num_groups": self.num_groups,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "initializer_range": self.initializer_range,
            }
        )
        return config


def _check_shared_embedding(layer, **expected):
    for name, value in expected.items():
        if getattr(layer, name) != value:
            raise ValueError(
                f"The shared embedding layer has {name}={getattr(layer, name)}"
                f", but this backbone was configured with {name}={value}. "
                "Generator and discriminator can share embeddings only when "
                "vocabulary, embedding width, position table and segment "
                "count agree."
            )
