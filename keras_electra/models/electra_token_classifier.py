"""Per-token classification (NER, POS tagging) with ELECTRA."""

import keras
import keras_hub
from keras import ops

from keras_electra.api_export import keras_electra_export
from keras_electra.layers.electra_dropout import ElectraDropout
from keras_electra.layers.electra_embedding import electra_kernel_initializer
from keras_electra.models.electra_task import ElectraTask
from keras_electra.models.electra_model import LazyClass

IGNORE_INDEX = -100


@keras_electra_export
class ElectraTokenClassifier(ElectraTask, keras_hub.models.Task):
    """Token classification: dropout and a dense layer on every token.

    Returns logits for every word piece. Train with labels on the first
    piece of each word and `-100` elsewhere (later pieces, `[CLS]`, `[SEP]`,
    padding), as `keras_electra.data.ElectraTokenClassifierPreprocessor`
    produces them (it also gives sample weight 0 there). `compile()`
    defaults to sparse categorical cross-entropy from logits that ignores
    label `-100`, and `MaskedSparseCategoricalAccuracy`. Entity-level
    precision/recall/F1 for BIO tags is computed on the host with
    `keras_electra.metrics.word_level_tags` and `entity_scores`.

    Args:
        backbone: `keras_electra.models.ElectraBackbone`.
        num_classes: int. Number of tags.
        dropout: float. Dropout before the output layer. Defaults to `0.1`.
        dtype: string or `keras.DTypePolicy`. Defaults to the backbone's.

    Returns:
        float32 logits `[batch, sequence_length, num_classes]`.

    Example:
    ```python
    import numpy as np
    from keras_electra.models import ElectraTokenClassifier
    model = ElectraTokenClassifier.from_preset("electra_tiny", num_classes=3)
    x = {
        "token_ids": np.array([[2, 100, 200, 3]]),
        "segment_ids": np.zeros((1, 4), "int32"),
        "padding_mask": np.ones((1, 4), "int32"),
    }
    y = np.array([[-100, 1, 2, -100]])
    model.compile(learning_rate=3e-4)
    model.fit(x, y, epochs=1, verbose=0)
    assert model.predict(x, verbose=0).shape == (1, 4, 3)
    ```
    """

    preprocessor_cls = LazyClass(
        "keras_electra.data.electra_token_classifier_preprocessor",
        "ElectraTokenClassifierPreprocessor",
    )

    def __init__(self, backbone, num_classes, preprocessor=None, dropout=0.1,
                 dtype=None, **kwargs):
        if int(num_classes) < 2:
            raise ValueError(
                f"`num_classes` must be >= 2. Received: num_classes={num_classes}"
            )
        dtype = dtype or backbone.dtype_policy
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.output_dropout = ElectraDropout(
            dropout, dtype=dtype, name="token_classifier_dropout"
        )
        self.output_dense = keras.layers.Dense(
            num_classes,
            kernel_initializer=electra_kernel_initializer(
                backbone.initializer_range
            ),
            dtype=dtype,
            name="token_classifier_dense",
        )
        # === Functional model ===
        inputs = backbone.input
        x = backbone(inputs)["sequence_output"]
        logits = ops.cast(self.output_dense(self.output_dropout(x)), "float32")
        # === Config ===
        self.num_classes = int(num_classes)
        self.dropout = dropout
        super().__init__(inputs=inputs, outputs=logits, dtype=dtype, **kwargs)

    def default_loss(self):
        return keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, ignore_class=IGNORE_INDEX
        )

    def default_metrics(self):
        from keras_electra.metrics import MaskedSparseCategoricalAccuracy

        return [MaskedSparseCategoricalAccuracy(ignore_class=IGNORE_INDEX)]

    def get_config(self):
        config = super().get_config()
        config.update(
            {"num_classes": self.num_classes, "dropout": self.dropout}
        )
        return config
