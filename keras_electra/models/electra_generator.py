"""ELECTRA generator: backbone plus tied masked-language-model head."""

import keras
import keras_hub
import numpy as np
from keras import ops

from keras_electra.api_export import keras_electra_export
from keras_electra.keras_workarounds import masked_lm_head_parts
from keras_electra.layers.electra_embedding import electra_kernel_initializer
from keras_electra.layers.electra_masked_lm_head import ElectraMaskedLMHead
from keras_electra.models.electra_task import ElectraTask


@keras_electra_export
class ElectraGenerator(ElectraTask, keras_hub.models.Task):
    """An ELECTRA backbone with a masked-language-model head.

    The head is a dense layer to the embedding width with exact GELU,
    LayerNorm (epsilon 1e-12), then a projection onto the vocabulary that
    reuses the token embedding table (tied weights) plus a bias, as in the
    original code and Hugging Face's `ElectraForMaskedLM`.

    When the inputs carry `mask_positions`, vocabulary logits are computed at
    those positions only: projecting every position onto a 30,522-word
    vocabulary is the largest waste of a naive implementation.

    A `keras_hub.models.Task`, saved in keras-hub's task layout and not
    compiled on construction, as `ElectraDiscriminator`. `compile()` gives
    layer-wise-decay AdamW and a sparse cross-entropy on the vocabulary
    logits.

    Args:
        backbone: `keras_electra.models.ElectraBackbone`.
        preprocessor: `None`. The generator takes token ids; accepted for
            keras-hub's `Task` config. Defaults to `None`.
        dtype: string or `keras.DTypePolicy`. Defaults to the backbone's.
        compile: bool. Compile with the defaults on construction.
            Defaults to `False`.

    Call arguments:
        inputs: dict of int arrays `token_ids`, `segment_ids` and
            `padding_mask` (`[batch, sequence_length]`), and optionally
            `mask_positions` (`[batch, num_predictions]`).

    Returns:
        Logits `[batch, sequence_length, vocabulary_size]`, or
        `[batch, num_predictions, vocabulary_size]` with `mask_positions`.

    Example:
    ```python
    import numpy as np
    from keras_electra.models import ElectraGenerator
    model = ElectraGenerator.from_preset("electra_tiny")
    inputs = {
        "token_ids": np.array([[2, 4, 200, 3]]),
        "segment_ids": np.zeros((1, 4), "int32"),
        "padding_mask": np.ones((1, 4), "int32"),
        "mask_positions": np.array([[1]]),
    }
    assert model(inputs).shape == (1, 1, 8192)
    ```
    """

    preset_role = "generator"

    def __init__(self, backbone, preprocessor=None, dtype=None,
                 compile=False, **kwargs):
        dtype = dtype or backbone.dtype_policy
        initializer = electra_kernel_initializer(backbone.initializer_range)
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.lm_head = ElectraMaskedLMHead(
            token_embedding=backbone.token_embedding,
            intermediate_activation="gelu",
            layer_norm_epsilon=backbone.layer_norm_epsilon,
            kernel_initializer=initializer,
            dtype=dtype,
            name="lm_head",
        )
        # === Functional model (every position) ===
        inputs = backbone.input
        x = backbone(inputs)["sequence_output"]
        logits = self.lm_head(x)
        super().__init__(inputs=inputs, outputs=logits, dtype=dtype,
                         compile=compile, **kwargs)

    def default_loss(self):
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def initialize_output_bias(self, log_prior):
        """Set the vocabulary bias, e.g. to unigram log-frequencies.

        Call it before pre-training from scratch with
        `keras_electra.data.unigram_log_prior` (the original code starts
        the bias at zero; `keras_electra.workflows.run_pretraining` uses
        the prior by default).

        Example:
        ```python
        import numpy as np
        generator = ElectraGenerator.from_preset("electra_tiny")
        generator.initialize_output_bias(np.full(8192, -np.log(8192)))
        ```
        """
        log_prior = np.asarray(log_prior, "float32")
        expected = (self.backbone.vocabulary_size,)
        if log_prior.shape != expected:
            raise ValueError(
                f"`log_prior` must have shape {expected} (the vocabulary "
                f"size). Received shape {log_prior.shape}."
            )
        if not np.all(np.isfinite(log_prior)):
            raise ValueError("`log_prior` holds NaN or infinite values.")
        masked_lm_head_parts(self.lm_head)["bias"].assign(log_prior)

    def call(self, inputs, training=None, mask=None):
        if isinstance(inputs, dict) and "mask_positions" in inputs:
            inputs = dict(inputs)
            mask_positions = inputs.pop("mask_positions")
            x = self.backbone(inputs, training=training)["sequence_output"]
            return self.lm_head(x, ops.cast(mask_positions, "int32"))
        return super().call(inputs, training=training, mask=mask)
