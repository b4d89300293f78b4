"""ELECTRA discriminator: backbone plus replaced-token-detection head."""

import keras
import keras_hub
from keras import ops

from keras_electra.api_export import keras_electra_export
from keras_electra.layers.electra_embedding import electra_kernel_initializer
from keras_electra.models.electra_task import ElectraTask


@keras_electra_export
class ElectraDiscriminator(ElectraTask, keras_hub.models.Task):
    """An ELECTRA backbone with the replaced-token-detection head.

    For every token it returns one logit: positive means "this token was
    replaced by the generator", negative means "original". The head is a
    dense layer of the hidden width with exact GELU followed by a dense layer
    to one unit, as in the original code and Hugging Face's
    `ElectraForPreTraining`.

    After pre-training, the discriminator is the model users fine-tune and
    ship; `backbone` holds the encoder.

    A `keras_hub.models.Task`: `save_to_preset()` writes keras-hub's task
    layout (the backbone in `config.json` / `model.weights.h5`, the head in
    `task.json` / `task.weights.h5`), so `keras_hub.models.Backbone
    .from_preset(folder)` reads its encoder. Unlike keras-hub's tasks it is
    not compiled on construction: it is a part of `ReplacedTokenDetector`,
    whose checkpoints hold no optimizer of their parts. `compile()` gives
    layer-wise-decay AdamW and a per-token binary cross-entropy on the
    logits (labels 1 for replaced tokens).

    Args:
        backbone: `keras_electra.models.ElectraBackbone`.
        preprocessor: `None`. The discriminator takes token ids; accepted
            for keras-hub's `Task` config. Defaults to `None`.
        dtype: string or `keras.DTypePolicy`. Defaults to the backbone's.
        compile: bool. Compile with the defaults on construction.
            Defaults to `False`.

    Call arguments:
        inputs: dict of int arrays `token_ids`, `segment_ids` and
            `padding_mask`, each `[batch, sequence_length]`.

    Returns:
        Logits of shape `[batch, sequence_length]`.

    Example:
    ```python
    import numpy as np
    from keras_electra.models import ElectraDiscriminator
    model = ElectraDiscriminator.from_preset("electra_tiny")
    logits = model.predict({
        "token_ids": np.array([[2, 100, 200, 3]]),
        "segment_ids": np.zeros((1, 4), "int32"),
        "padding_mask": np.ones((1, 4), "int32"),
    }, verbose=0)
    assert logits.shape == (1, 4)
    ```
    """

    preset_role = "discriminator"

    def __init__(self, backbone, preprocessor=None, dtype=None,
                 compile=False, **kwargs):
        dtype = dtype or backbone.dtype_policy
        initializer = electra_kernel_initializer(backbone.initializer_range)
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.head_dense = keras.layers.Dense(
            backbone.hidden_dim,
            activation="gelu",
            kernel_initializer=initializer,
            dtype=dtype,
            name="head_dense",
        )
        self.head_logits = keras.layers.Dense(
            1,
            kernel_initializer=initializer,
            dtype=dtype,
            name="head_logits",
        )
        # === Functional model ===
        inputs = backbone.input
        logits = self.score(backbone(inputs)["sequence_output"])
        super().__init__(inputs=inputs, outputs=logits, dtype=dtype,
                         compile=compile, **kwargs)

    def default_loss(self):
        return keras.losses.BinaryCrossentropy(from_logits=True)

    def score(self, sequence_output):
        """Apply the detection head to encoder outputs.

        Args:
            sequence_output: float tensor `[batch, sequence_length, hidden]`.

        Returns:
            Logits `[batch, sequence_length]`.

        Example:
        ```python
        import numpy as np
        model = ElectraDiscriminator.from_preset("electra_tiny")
        hidden = np.zeros((1, 4, model.backbone.hidden_dim), "float32")
        assert model.score(hidden).shape == (1, 4)
        ```
        """
        x = self.head_logits(self.head_dense(sequence_output))
        return ops.squeeze(x, axis=-1)
