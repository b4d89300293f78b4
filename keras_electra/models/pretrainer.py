"""Shared plumbing of the pre-training models (not exported)."""

import keras
from keras import ops

from keras_electra.layers.electra_masker import ElectraMasker
from keras_electra.models.electra_model import LazyClass
from keras_electra.models.electra_model import PreprocessorBuiltMixin
from keras_electra.models.electra_model import build_optimizer
from keras_electra.models.electra_model import build_preprocessor
from keras_electra.models.electra_presets import PRESETS
from keras_electra.models.preset_loader import default_preprocessor
from keras_electra.models.preset_loader import load_pretrainer_preset
from keras_electra.models.preset_loader import resolve_handle
from keras_electra.models.preset_loader import save_pretrainer_preset
from keras_electra.models.raw_inputs import has_strings


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


def attach_preprocessor(cls, preset, backbone, kwargs):
    """The preprocessor `from_preset` gives a pre-trainer, and its mask ids.

    Pops `preprocessor` and `sequence_length` from `kwargs`. With
    `preprocessor="auto"` (the default) it is an
    `ElectraPretrainingPreprocessor` over the folder's (or the bundled)
    vocabulary, or `None` when there is none. The masking ids
    (`mask_token_id`, `unselectable_token_ids`) default to the tokenizer's.

    Example:
    ```python
    from keras_electra.models import ElectraDiscriminator
    from keras_electra.models import ReplacedTokenDetector
    backbone = ElectraDiscriminator.from_preset("electra_tiny").backbone
    kwargs = {}
    pre = attach_preprocessor(ReplacedTokenDetector, "electra_tiny",
                              backbone, kwargs)
    assert kwargs["mask_token_id"] == pre.tokenizer.mask_token_id
    ```
    """
    preprocessor = kwargs.pop("preprocessor", "auto")
    sequence_length = kwargs.pop("sequence_length", None)
    if isinstance(preprocessor, str) and preprocessor == "auto":
        folder = None if preset in PRESETS else resolve_handle(preset)
        preprocessor = default_preprocessor(
            cls.preprocessor_cls, backbone, folder, sequence_length
        )
    if preprocessor is not None:
        tokenizer = preprocessor.tokenizer
        kwargs.setdefault("mask_token_id", tokenizer.mask_token_id)
        kwargs.setdefault(
            "unselectable_token_ids",
            sorted({tokenizer.pad_token_id, tokenizer.cls_token_id,
                    tokenizer.sep_token_id, tokenizer.mask_token_id}),
        )
    return preprocessor


class Pretrainer(PreprocessorBuiltMixin, keras.Model):
    """Base of `ReplacedTokenDetector` and `MaskedLMPretrainer`.

    Both compute their own loss in `compute_loss()` and compile to the
    original ELECTRA recipe by default; this class holds that `compile()`
    and its reload, and raw-text training: with a `preprocessor` (which
    `from_preset` attaches), `fit(texts)` and `evaluate(texts)` take a list
    of strings (or `(first, second)` pairs, for sentence-order prediction)
    or a `tf.data.Dataset` of them, packed by
    `ElectraPretrainingPreprocessor` and shuffled each epoch; token-id
    dicts still go straight to the model.

    Example:
    ```python
    from keras_electra.models import MaskedLMPretrainer
    assert issubclass(MaskedLMPretrainer, Pretrainer)
    mlm = MaskedLMPretrainer.from_preset("electra_tiny", seed=0)
    mlm.compile(learning_rate=1e-3, warmup_steps=2, train_steps=10)
    mlm.fit(["the cat sat on the mat", "a dog barked"], verbose=0)
    ```
    """

    preprocessor_cls = LazyClass(
        "keras_electra.data.electra_pretraining_preprocessor",
        "ElectraPretrainingPreprocessor",
    )

    # `(subfolder, attribute, class)` of each part `save_to_preset` writes,
    # the first in the preset folder itself.
    preset_parts = ()

    def __init__(self, preprocessor=None, **kwargs):
        super().__init__(**kwargs)
        self.preprocessor = preprocessor

    # --- Presets -------------------------------------------------------
    def save_to_preset(self, preset_dir):
        """Save the pre-trainer as a preset folder.

        The folder is the main part's preset (the discriminator of a
        `ReplacedTokenDetector`, the masked LM of a `MaskedLMPretrainer`),
        so fine-tuning tasks and `keras_hub.models.Backbone.from_preset`
        read it as they read any preset; a detector's generator is the
        preset in `generator/`. The vocabulary and preprocessor files go
        beside them, and `pretrainer.json` holds the masking and loss
        settings. `from_preset(preset_dir)` of the same class restores it
        all (weights, not optimizer state: a training checkpoint is
        `model.save()` or `keras_electra.training.pretrain`'s backups).

        Args:
            preset_dir: str. Folder to write; created if missing.

        Example:
        ```python
        from keras_electra.models import ReplacedTokenDetector
        rtd = ReplacedTokenDetector.from_preset("electra_tiny", seed=0)
        rtd.save_to_preset("/tmp/electra_tiny_pretrainer")
        again = ReplacedTokenDetector.from_preset("/tmp/electra_tiny_pretrainer")
        assert again.seed == 0
        ```
        """
        save_pretrainer_preset(self, preset_dir)

    @classmethod
    def _from_saved_preset(cls, preset, load_weights, kwargs):
        """The pre-trainer saved in folder or handle `preset`, or `None`."""
        preset = str(preset)
        if preset in PRESETS:
            return None
        return load_pretrainer_preset(
            cls, resolve_handle(preset), load_weights, **kwargs
        )

    # --- Raw text ------------------------------------------------------
    def _raw_text(self, x, y, batch_size, shuffle, validation_split=0.0):
        """`x` as batches of packed token ids (and a validation split)."""
        from keras_electra.data.raw_inputs import packed_text_batches

        if y is not None:
            raise ValueError(
                f"{type(self).__name__} pre-trains on texts alone; received "
                "`y` as well (pre-training is self-supervised)."
            )
        if self.preprocessor is None:
            raise ValueError(
                f"{type(self).__name__} received raw text, but its "
                "`preprocessor` is None. Pass token-id dicts (`token_ids`, "
                "`segment_ids`, `padding_mask`), or set a preprocessor "
                "(`from_preset()` attaches one when the preset has a "
                "vocabulary)."
            )
        return packed_text_batches(x, self.preprocessor, batch_size, shuffle,
                                   validation_split)

    def fit(self, x=None, y=None, batch_size=None, validation_split=0.0,
            validation_data=None, shuffle=True, **kwargs):
        build_optimizer(self)
        if has_strings(x):
            x, split = self._raw_text(x, y, batch_size, shuffle,
                                      validation_split)
            if has_strings(validation_data):
                validation_data, _ = self._raw_text(
                    validation_data, None, batch_size, shuffle=False
                )
            validation_data = validation_data or split
            y, batch_size, validation_split, shuffle = None, None, 0.0, False
        return super().fit(
            x, y, batch_size=batch_size, validation_split=validation_split,
            validation_data=validation_data, shuffle=shuffle, **kwargs
        )

    def evaluate(self, x=None, y=None, batch_size=None, **kwargs):
        build_preprocessor(self)
        if has_strings(x):
            x, _ = self._raw_text(x, y, batch_size, shuffle=False)
            y, batch_size = None, None
        return super().evaluate(x, y, batch_size=batch_size, **kwargs)

    def _preprocessor_config(self):
        if self.preprocessor is None:
            return {}
        return {"preprocessor": keras.layers.serialize(self.preprocessor)}

    @staticmethod
    def _deserialize_preprocessor(config):
        if isinstance(config.get("preprocessor"), dict):
            config["preprocessor"] = keras.layers.deserialize(
                config["preprocessor"]
            )
        return config

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
        (`keras_electra.optimizers.electra_optimizer`).

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
            from keras_electra.optimizers.electra_optimizer import electra_optimizer

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

