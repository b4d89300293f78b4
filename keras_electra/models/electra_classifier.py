"""Sequence classification and regression on the [CLS] vector."""

import keras
import keras_hub
from keras import ops

from keras_electra.api_export import keras_electra_export
from keras_electra.layers.electra_dropout import ElectraDropout
from keras_electra.layers.electra_embedding import electra_kernel_initializer
from keras_electra.models.electra_model import LazyClass
from keras_electra.models.electra_task import ElectraTask


def _from_logits(activation):
    activation = keras.activations.get(activation)
    return activation in (None, keras.activations.linear)


@keras_electra_export
class ElectraTextClassifier(ElectraTask, keras_hub.models.TextClassifier):
    """Sentence(-pair) classification or regression with ELECTRA.

    A `keras_hub.models.TextClassifier`: `fit()`, `predict()` and
    `evaluate()` take raw strings (or `(first, second)` tuples of string
    lists for pairs), tokenized by its `preprocessor`
    (`keras_electra.data.ElectraClassifierPreprocessor`, attached by
    `from_preset()`), and still take token-id dicts. `ElectraClassifier` is
    the same class under its earlier name.

    As in the original ELECTRA fine-tuning code: dropout, then one dense
    layer on the first token's (`[CLS]`) vector of `sequence_output`. There
    is no pooler (ELECTRA has none; Hugging Face's classification head adds
    a hidden layer, which this class does not).

    With `num_classes >= 2` the model returns class logits and `compile()`
    defaults to sparse categorical cross-entropy from logits and accuracy.
    With `num_classes=1` it is a regressor (STS-B style): one score per
    input, mean squared error, and mean absolute error as a metric.

    `from_preset()` accepts a built-in name, a pre-trained discriminator
    folder (its encoder is reused, the head is new), or a Hugging Face /
    keras-hub ELECTRA folder. Keyword arguments that name backbone
    arguments go to the backbone: `from_preset(..., dropout=0.0)` sets the
    encoder's dropout, not this head's.

    Args:
        backbone: `keras_electra.models.ElectraBackbone`.
        num_classes: int. Number of classes, or `1` for regression.
        preprocessor: `keras_electra.data.ElectraClassifierPreprocessor` or
            `None`. Turns raw strings into token ids in `fit()`,
            `predict()` and `evaluate()`. Defaults to `None` (token-id
            inputs only).
        activation: str or callable. Applied to the outputs; `None` returns
            logits (the loss is then computed from logits). Defaults to
            `None`.
        dropout: float. Dropout on the `[CLS]` vector. Defaults to `0.1`.
        dtype: string or `keras.DTypePolicy`. Defaults to the backbone's.

    Call arguments:
        inputs: dict of int `token_ids`, `segment_ids` and `padding_mask`,
            each `[batch, sequence_length]`.

    Returns:
        float32 `[batch, num_classes]`.

    Example:
    ```python
    import numpy as np
    from keras_electra.models import ElectraTextClassifier
    model = ElectraTextClassifier.from_preset("electra_tiny", num_classes=2)
    model.predict(["a fine film", "a dull film"], verbose=0)  # (2, 2) logits
    model.fit(["a fine film", "a dull film"], [1, 0], verbose=0)
    # Token-id dicts work too (and with `model.preprocessor = None`).
    x = {
        "token_ids": np.array([[2, 100, 200, 3], [2, 300, 3, 0]]),
        "segment_ids": np.zeros((2, 4), "int32"),
        "padding_mask": np.array([[1, 1, 1, 1], [1, 1, 1, 0]]),
    }
    model.compile(learning_rate=3e-4, train_steps=10)
    model.fit(x, np.array([1, 0]), epochs=1, verbose=0)
    assert model.predict(x, verbose=0).shape == (2, 2)
    ```

    Reference:
        Clark et al., ELECTRA, ICLR 2020 (arXiv:2003.10555), Appendix A.
    """

    preprocessor_cls = LazyClass(
        "keras_electra.data.electra_classifier_preprocessor",
        "ElectraClassifierPreprocessor",
    )

    def __init__(
        self,
        backbone,
        num_classes,
        preprocessor=None,
        activation=None,
        dropout=0.1,
        dtype=None,
        **kwargs,
    ):
        if int(num_classes) < 1:
            raise ValueError(
                "`num_classes` must be >= 1 (1 means regression). Received: "
                f"num_classes={num_classes}"
            )
        dtype = dtype or backbone.dtype_policy
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.output_dropout = ElectraDropout(
            dropout, dtype=dtype, name="classifier_dropout"
        )
        self.output_dense = keras.layers.Dense(
            num_classes,
            activation=activation,
            kernel_initializer=electra_kernel_initializer(
                backbone.initializer_range
            ),
            dtype=dtype,
            name="classifier_dense",
        )
        # === Functional model ===
        inputs = backbone.input
        sequence_output = backbone(inputs)["sequence_output"]
        x = self.output_dropout(sequence_output[:, 0, :])
        outputs = ops.cast(self.output_dense(x), "float32")
        # === Config ===
        self.num_classes = int(num_classes)
        self.dropout = dropout
        self.activation = keras.activations.get(activation)
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)

    @property
    def is_regression(self):
        """`True` when `num_classes == 1`."""
        return self.num_classes == 1

    def default_loss(self):
        if self.is_regression:
            return keras.losses.MeanSquaredError()
        return keras.losses.SparseCategoricalCrossentropy(
            from_logits=_from_logits(self.activation)
        )

    def default_metrics(self):
        if self.is_regression:
            return [keras.metrics.MeanAbsoluteError(name="mae")]
        return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "dropout": self.dropout,
                "activation": keras.activations.serialize(self.activation),
            }
        )
        return config


# The earlier name, and the name older saved configs refer to.
ElectraClassifier = ElectraTextClassifier
keras.saving.get_custom_objects()[
    "keras_electra>ElectraClassifier"
] = ElectraTextClassifier
