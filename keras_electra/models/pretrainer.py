"""Shared plumbing of the pre-training models (not exported)."""

import keras
from keras import ops

from keras_electra.layers.electra_masker import ElectraMasker
from keras_electra.models.electra_model import build_optimizer


class _WeightedMean(keras.losses.Loss):
    """Reduces precomputed per-element losses with Keras' loss machinery.

    Going through a `keras.losses.Loss` keeps tf.distribute scaling right:
    the per-replica mean is divided by the replica count, which a
    hand-written mean would not be.
    """

    def __init__(self, name):
        super().__init__(name=name, reduction="mean_with_sample_weight")

    def call(self, y_true, y_pred):
        return y_pred


# Arguments of `ElectraMasker` that the pre-trainers take and serialize.
_MASKER_ARGS = (
    "mask_token_id",
    "unselectable_token_ids",
    "mask_rate",
    "max_predictions",
    "mask_token_rate",
    "random_token_rate",
    "seed",
)


def _weighted_mean(values, weights):
    weights = ops.cast(weights, values.dtype)
    return ops.divide_no_nan(ops.sum(values * weights), ops.sum(weights))


class Pretrainer(keras.Model):
    """Base of `ReplacedTokenDetector` and `MaskedLMPretrainer`.

    Both compute their own loss in `compute_loss()` and compile to the
    original ELECTRA recipe by default; this class holds that `compile()`
    and its reload.

    Example:
    ```python
    from keras_electra.models import MaskedLMPretrainer
    assert issubclass(MaskedLMPretrainer, Pretrainer)
    ```
    """

    def _init_masker(self, vocabulary_size, **masker_args):
        """Create `self.masker` and keep its arguments for `get_config()`.

        `masker_args` are exactly `_MASKER_ARGS` (`ElectraMasker` arguments).
        """
        self.masker = ElectraMasker(
            vocabulary_size=vocabulary_size, name="masker", **masker_args
        )
        for name in _MASKER_ARGS:
            value = masker_args[name]
            if name == "unselectable_token_ids":
                value = list(value)
            setattr(self, name, value)

    def _masker_config(self):
        """The masking arguments, as `get_config()` entries."""
        return {name: getattr(self, name) for name in _MASKER_ARGS}

    def compile(
        self,
        optimizer="auto",
        learning_rate=5e-4,
        train_steps=1000000,
        warmup_steps=10000,
        weight_decay=0.01,
        clipnorm=1.0,
        **kwargs,
    ):
        """Configure training; defaults to the original ELECTRA recipe.

        With `optimizer="auto"`, AdamW (beta 0.9/0.999, epsilon 1e-6, weight
        decay 0.01 except LayerNorm and biases), global-norm clipping 1.0,
        linear warmup then linear decay to 0 at `train_steps`
        (`keras_electra.training.electra_optimizer`).

        Args:
            optimizer: `"auto"` or a `keras.optimizers.Optimizer`.
            learning_rate: float. Peak rate. Defaults to `5e-4` (Small).
            train_steps: int. Defaults to `1000000`.
            warmup_steps: int. Defaults to `10000`.
            weight_decay: float. Defaults to `0.01`.
            clipnorm: float. Defaults to `1.0`.
            **kwargs: passed to `keras.Model.compile` (for example
                `jit_compile`, `steps_per_execution`).

        Example:
        ```python
        rtd = ReplacedTokenDetector.from_preset("electra_tiny")
        rtd.compile(learning_rate=1e-3, train_steps=1000, warmup_steps=100)
        ```
        """
        if isinstance(optimizer, str) and optimizer == "auto":
            from keras_electra.training.optimizers import electra_optimizer

            optimizer = electra_optimizer(
                learning_rate=learning_rate,
                train_steps=train_steps,
                warmup_steps=warmup_steps,
                weight_decay=weight_decay,
                clipnorm=clipnorm,
            )
        if "loss" in kwargs:
            raise ValueError(
                f"{type(self).__name__} computes its own loss; do not pass "
                f"`loss` to compile(). Received loss={kwargs['loss']!r}"
            )
        super().compile(optimizer=optimizer, **kwargs)
        build_optimizer(self)

    def compile_from_config(self, config):
        # `compile()` is overridden, so Keras skips it on reload; restore the
        # saved optimizer (and its state, loaded next by Keras) here.
        config = keras.saving.deserialize_keras_object(config)
        keras.Model.compile(self, **config)
        build_optimizer(self)

