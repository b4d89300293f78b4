"""The base of every keras_electra task: presets, raw inputs, compilation."""

import keras
import keras_hub

from keras_electra.models.electra_backbone import ElectraBackbone
from keras_electra.models.electra_model import ElectraPresetMixin
from keras_electra.models.electra_model import PreprocessorBuiltMixin
from keras_electra.models.electra_model import build_optimizer
from keras_electra.models.electra_model import build_preprocessor
from keras_electra.models.electra_model import deserialize_dtype
from keras_electra.models.raw_inputs import check_examples
from keras_electra.models.raw_inputs import has_strings
from keras_electra.models.raw_inputs import is_dataset


class ElectraTask(PreprocessorBuiltMixin, ElectraPresetMixin):
    """Shared plumbing of the fine-tuning tasks (not exported).

    Mixed into `keras_hub.models.Task` subclasses (a plain mixin: Keras
    rewrites the bases of functional models once, which a second path to
    `Task` would break). A task: it holds `backbone` and `preprocessor`, and
    `fit()`, `predict()` and `evaluate()` take raw inputs (strings, pairs,
    words) that the preprocessor turns into token ids, or token-id dicts
    (`{"token_ids", "segment_ids", "padding_mask"}`) that go straight to the
    model. `task.preprocessor = None` turns raw-input handling off, as in
    keras-hub. Raw in-memory inputs are shuffled each epoch when `fit(...,
    shuffle=True)` (the default), as Keras shuffles arrays.

    `compile()` defaults to the ELECTRA fine-tuning optimizer
    (`keras_electra.optimizers.layerwise_decay.fine_tuning_optimizer`), with
    the loss and metrics each task names in `default_loss()` and
    `default_metrics()`; a new task is compiled with those defaults, its
    optimizer slots created at the first `fit()`.

    Example:
    ```python
    model = ElectraClassifier.from_preset("electra_tiny", num_classes=2)
    assert isinstance(model, ElectraTask)
    model.compile(learning_rate=3e-4, train_steps=100)  # LLRD AdamW
    ```
    """

    preset_role = "discriminator"
    backbone_cls = ElectraBackbone
    preprocessor_cls = None

    def __init__(self, *args, dtype=None, compile=True, **kwargs):
        self._compiling_in_init = True
        super().__init__(*args, compile=compile, **kwargs)
        self._compiling_in_init = False
        if dtype is not None:
            self.dtype_policy = keras.dtype_policies.get(dtype)

    # --- Configuration -------------------------------------------------
    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "trainable": self.trainable,
                "dtype": keras.dtype_policies.serialize(self.dtype_policy),
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        return super().from_config(deserialize_dtype(config))

    # --- Raw inputs ----------------------------------------------------
    def preprocess_samples(self, x, y=None, sample_weight=None):
        if isinstance(x, dict) and "token_ids" in x:
            return keras.utils.pack_x_y_sample_weight(x, y, sample_weight)
        if self.preprocessor is None:
            raise ValueError(
                f"{type(self).__name__} received raw inputs, but its "
                "`preprocessor` is None. Pass token-id dicts "
                "(`token_ids`, `segment_ids`, `padding_mask`), or set a "
                "preprocessor (`from_preset()` attaches one)."
            )
        return super().preprocess_samples(x, y, sample_weight)

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto",
            callbacks=None, validation_split=0.0, validation_data=None,
            shuffle=True, sample_weight=None, **kwargs):
        check_examples(self, "fit", x, y)
        build_optimizer(self)
        if not has_strings(x):
            return keras.Model.fit(
                self, x, y, batch_size=batch_size, epochs=epochs,
                verbose=verbose, callbacks=callbacks,
                validation_split=validation_split,
                validation_data=validation_data, shuffle=shuffle,
                sample_weight=sample_weight, **kwargs,
            )
        if not is_dataset(x):
            from keras_electra.data.raw_inputs import raw_dataset

            x = raw_dataset(x, y, sample_weight, batch_size, shuffle,
                            validation_split)
            if validation_split and validation_data is None:
                x, validation_data = x
            y = sample_weight = batch_size = None
        return keras_hub.models.Task.fit(
            self, x, y, batch_size=batch_size, epochs=epochs,
            verbose=verbose, callbacks=callbacks,
            validation_data=validation_data, sample_weight=sample_weight,
            shuffle=False,  # shuffled above; a dataset is the caller's
            **kwargs,
        )

    def evaluate(self, x=None, y=None, batch_size=None, sample_weight=None,
                 **kwargs):
        build_preprocessor(self)
        check_examples(self, "evaluate", x, y)
        if not has_strings(x):
            return keras.Model.evaluate(
                self, x, y, batch_size=batch_size,
                sample_weight=sample_weight, **kwargs
            )
        if not is_dataset(x):
            from keras_electra.data.raw_inputs import raw_dataset

            x = raw_dataset(x, y, sample_weight, batch_size, shuffle=False)
            y = sample_weight = batch_size = None
        return keras_hub.models.Task.evaluate(
            self, x, y, batch_size=batch_size, sample_weight=sample_weight,
            **kwargs
        )

    def predict(self, x, batch_size=None, **kwargs):
        check_examples(self, "predict", x)
        if not has_strings(x):
            self.check_inputs(x)
            return keras.Model.predict(self, x, batch_size=batch_size,
                                       **kwargs)
        if not is_dataset(x):
            from keras_electra.data.raw_inputs import raw_dataset

            x = raw_dataset(x, batch_size=batch_size, shuffle=False)
            batch_size = None
        return keras_hub.models.Task.predict(
            self, x, batch_size=batch_size, **kwargs
        )

    # --- Compilation ---------------------------------------------------
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
            from keras_electra.optimizers.layerwise_decay import (
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
        if not getattr(self, "_compiling_in_init", False):
            build_optimizer(self)

    def compile_from_config(self, config):
        # `compile()` is overridden, so Keras skips it on reload; restore the
        # saved optimizer, loss and metrics (optimizer state loads next).
        config = keras.saving.deserialize_keras_object(config)
        keras.Model.compile(self, **config)
        build_optimizer(self)
