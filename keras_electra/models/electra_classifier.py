"""Sequence classification and regression on the [CLS] vector."""

import keras
from keras import ops

from keras_electra.api_export import keras_electra_export
from keras_electra.layers.electra_embedding import electra_kernel_initializer
from keras_electra.models.electra_model import ElectraModel
from keras_electra.models.electra_model import build_optimizer


class ElectraTask(ElectraModel):
    """Shared plumbing of the fine-tuning tasks (not exported).

    A task holds `backbone` (serialized with it by `ElectraModel`).
    `compile()` defaults to the ELECTRA fine-tuning optimizer
    (`keras_electra.training.layerwise_decay.fine_tuning_optimizer`), with
    the loss and metrics each task names in `default_loss()` and
    `default_metrics()`.

    Example:
    ```python
    model = ElectraClassifier.from_preset("electra_tiny", num_classes=2)
    assert isinstance(model, ElectraTask)
    model.compile(learning_rate=3e-4, train_steps=100)  # LLRD AdamW
    ```
    """

    preset_role = "discriminator"

    def default_loss(self):
        return None

    def default_metrics(self):
        return None

    def compile(
        self,
        optimizer="auto",
        loss="auto",
        metrics="auto",
        learning_rate=1e-4,
        train_steps=None,
        warmup_fraction=0.1,
        layerwise_decay=0.8,
        weight_decay=0.0,
        clipnorm=1.0,
        **kwargs,
    ):
        """Configure fine-tuning; defaults follow the ELECTRA paper.

        With `optimizer="auto"`: AdamW (epsilon 1e-6) with layer-wise
        learning-rate decay (top layer `layerwise_decay ** 1`, embeddings
        `layerwise_decay ** (num_layers + 1)`, head 1.0), weight decay
        except LayerNorm and biases, global-norm clipping, and a linear
        warmup over `warmup_fraction * train_steps` then linear decay to 0
        (a constant rate when `train_steps` is `None`). `loss="auto"` and
        `metrics="auto"` pick the task's loss and metrics.

        Args:
            optimizer: `"auto"` or a `keras.optimizers.Optimizer`.
            loss: `"auto"` or a Keras loss.
            metrics: `"auto"` or a list of Keras metrics.
            learning_rate: float. Peak rate (paper: 3e-4 small, 1e-4 base,
                5e-5 large). Defaults to `1e-4`.
            train_steps: int or None. Total optimizer steps. Defaults to
                `None`.
            warmup_fraction: float. Defaults to `0.1`.
            layerwise_decay: float. Defaults to `0.8`.
            weight_decay: float. Defaults to `0.0`.
            clipnorm: float or None. Defaults to `1.0`.
            **kwargs: passed to `keras.Model.compile` (`jit_compile`, ...).

        Example:
        ```python
        from keras_electra.models import ElectraClassifier
        model = ElectraClassifier.from_preset("electra_tiny", num_classes=2)
        model.compile(learning_rate=3e-4, train_steps=1000)
        ```
        """
        if isinstance(optimizer, str) and optimizer == "auto":
            from keras_electra.training.layerwise_decay import (
                fine_tuning_optimizer,
            )

            optimizer = fine_tuning_optimizer(
                self,
                learning_rate=learning_rate,
                train_steps=train_steps,
                warmup_fraction=warmup_fraction,
                layerwise_decay=layerwise_decay,
                weight_decay=weight_decay,
                clipnorm=clipnorm,
            )
        if isinstance(loss, str) and loss == "auto":
            loss = self.default_loss()
        if isinstance(metrics, str) and metrics == "auto":
            metrics = self.default_metrics()
        keras.Model.compile(
            self, optimizer=optimizer, loss=loss, metrics=metrics, **kwargs
        )
        build_optimizer(self)

    def compile_from_config(self, config):
        # `compile()` is overridden, so Keras skips it on reload; restore the
        # saved optimizer, loss and metrics (optimizer state loads next).
        config = keras.saving.deserialize_keras_object(config)
        keras.Model.compile(self, **config)
        build_optimizer(self)


def _from_logits(activation):
    activation = keras.activations.get(activation)
    return activation in (None, keras.activations.linear)


@keras_electra_export
class ElectraClassifier(ElectraTask):
    """Sentence(-pair) classification or regression with ELECTRA.

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
        dropout: float. Dropout on the `[CLS]` vector. Defaults to `0.1`.
        activation: str or callable. Applied to the outputs; `None` returns
            logits (the loss is then computed from logits). Defaults to
            `None`.
        dtype: string or `keras.DTypePolicy`. Defaults to the backbone's.

    Call arguments:
        inputs: dict of int `token_ids`, `segment_ids` and `padding_mask`,
            each `[batch, sequence_length]`.

    Returns:
        float32 `[batch, num_classes]`.

    Example:
    ```python
    import numpy as np
    from keras_electra.models import ElectraClassifier
    model = ElectraClassifier.from_preset("electra_tiny", num_classes=2)
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

    def __init__(
        self,
        backbone,
        num_classes,
        dropout=0.1,
        activation=None,
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
        self.output_dropout = keras.layers.Dropout(
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
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)
        # === Config ===
        self.num_classes = int(num_classes)
        self.dropout = dropout
        self.activation = keras.activations.get(activation)

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
