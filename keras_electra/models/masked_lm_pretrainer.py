"""BERT-style masked-language-model pre-training (the baseline ELECTRA beats)."""

import keras
from keras import ops

from keras_electra.api_export import keras_electra_export
from keras_electra.models.electra_backbone import ElectraBackbone
from keras_electra.models.electra_generator import ElectraGenerator
from keras_electra.models.electra_model import check_token_inputs
from keras_electra.models.electra_presets import PRESETS
from keras_electra.models.preset_loader import _split_kwargs
from keras_electra.models.preset_loader import preset_config
from keras_electra.models.pretrainer import Pretrainer
from keras_electra.models.pretrainer import _WeightedMean
from keras_electra.models.pretrainer import attach_preprocessor


@keras_electra_export
class MaskedLMPretrainer(Pretrainer):
    """Masked-language-model pre-training of an ELECTRA encoder.

    The baseline of the ELECTRA paper ("BERT" in its tables): the same
    encoder, trained to recover ~15% masked tokens with a masked-LM head
    tied to the token embeddings. It shares `ElectraMasker` and the input
    format of `ReplacedTokenDetector`, so one `tf.data` pipeline feeds
    both, and `compile()` takes the same arguments (the original recipe).

    Masking defaults to BERT's: 15% of the real tokens (never special tokens
    or padding), of which 80% become `[MASK]`, 10% a random token and 10%
    stay unchanged. The loss is the cross-entropy over the masked positions.
    Logged metrics: `loss`, `accuracy` (at masked positions).

    The encoder to fine-tune is `pretrainer.generator.backbone`: save
    `pretrainer.generator` with `save_to_preset()` and load the folder with
    any task's `from_preset()` (`ElectraClassifier.from_preset(folder,
    num_classes=2)`); the masked-LM head is dropped there.

    Args:
        generator: `ElectraGenerator`. Usually built with the
            discriminator's config: `ElectraGenerator(ElectraBackbone(...))`
            or `MaskedLMPretrainer.from_preset("electra_small")`.
        mask_token_id: int. Defaults to `4`.
        unselectable_token_ids: list of int. Defaults to `(0, 2, 3, 4)`.
        mask_rate: float. Defaults to `0.15`.
        max_predictions: int. Defaults to `int((mask_rate + 0.005) *
            sequence_length)`: 19 at 128.
        mask_token_rate: float. Defaults to `0.8`.
        random_token_rate: float. Defaults to `0.1`.
        seed: int. Seed of masking. Defaults to `None`.
        preprocessor: `ElectraPretrainingPreprocessor` or `None`. Packs raw
            text for `fit(texts)`; `from_preset` attaches one. Defaults to
            `None`.

    Example:
    ```python
    import numpy as np
    from keras_electra.models import MaskedLMPretrainer
    mlm = MaskedLMPretrainer.from_preset("electra_tiny", seed=0)
    mlm.compile(learning_rate=1e-3, warmup_steps=10, train_steps=100)
    ids = np.random.randint(5, 8192, size=(8, 32))
    ids[:, 0], ids[:, -1] = 2, 3
    x = {"token_ids": ids, "segment_ids": np.zeros_like(ids),
         "padding_mask": np.ones_like(ids)}
    mlm.fit(x, batch_size=4, epochs=1, verbose=0)
    mlm.fit(["The cat sat on the mat.", "A dog barked."], verbose=0)
    mlm.generator.save_to_preset("/tmp/electra_tiny_mlm_encoder")
    ```

    Reference:
        Devlin et al., BERT, NAACL 2019 (arXiv:1810.04805); Clark et al.,
        ELECTRA, ICLR 2020 (arXiv:2003.10555), the "BERT" baselines.
    """

    preset_parts = (("", "generator", ElectraGenerator),)

    def __init__(
        self,
        generator,
        mask_token_id=4,
        unselectable_token_ids=(0, 2, 3, 4),
        mask_rate=0.15,
        max_predictions=None,
        mask_token_rate=0.8,
        random_token_rate=0.1,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        # === Layers ===
        self.generator = generator
        self._init_masker(
            vocabulary_size=generator.backbone.vocabulary_size,
            mask_token_id=mask_token_id,
            unselectable_token_ids=unselectable_token_ids,
            mask_rate=mask_rate,
            max_predictions=max_predictions,
            mask_token_rate=mask_token_rate,
            random_token_rate=random_token_rate,
            seed=seed,
        )
        # === Losses and metrics ===
        self._loss_fn = _WeightedMean("masked_lm_loss")
        self.accuracy_metric = keras.metrics.SparseCategoricalAccuracy(
            name="accuracy"
        )

    @classmethod
    def from_preset(cls, preset, load_weights=True, **kwargs):
        """Build the baseline for the discriminator of a preset, or a folder.

        With a built-in name, the masked LM gets the preset's
        *discriminator* config (the encoder that is compared with ELECTRA's
        discriminator); backbone arguments in `kwargs` override it. With a
        folder, the encoder is loaded from it (keras_electra, Hugging Face or
        keras-hub format); a folder saved from a `MaskedLMPretrainer`'s
        generator keeps its masked-LM head.

        Example:
        ```python
        mlm = MaskedLMPretrainer.from_preset("electra_tiny", vocabulary_size=1000)
        assert mlm.generator.backbone.hidden_dim == 128
        ```
        """
        saved = cls._from_saved_preset(preset, load_weights, kwargs)
        if saved is not None:
            return saved
        backbone_kwargs, kwargs = _split_kwargs(kwargs, ElectraBackbone)
        if preset in PRESETS:
            config = preset_config(preset, "discriminator")
            config.update(backbone_kwargs)
            generator = ElectraGenerator(ElectraBackbone(**config))
        else:
            generator = ElectraGenerator.from_preset(
                preset, load_weights=load_weights, **backbone_kwargs
            )
        preprocessor = attach_preprocessor(
            cls, preset, generator.backbone, kwargs
        )
        return cls(generator=generator, preprocessor=preprocessor, **kwargs)

    def __call__(self, *args, **kwargs):
        if args:
            check_token_inputs(self.generator.backbone, args[0])
        return super().__call__(*args, **kwargs)

    def call(self, inputs, training=None):
        token_ids = ops.cast(inputs["token_ids"], "int32")
        padding_mask = ops.cast(inputs["padding_mask"], "int32")
        masked = self.masker(token_ids, padding_mask)
        logits = self.generator(
            {
                "token_ids": masked["token_ids"],
                "segment_ids": ops.cast(inputs["segment_ids"], "int32"),
                "padding_mask": padding_mask,
                "mask_positions": masked["mask_positions"],
            },
            training=training,
        )
        return {
            "logits": ops.cast(logits, "float32"),
            "mask_ids": masked["mask_ids"],
            "mask_positions": masked["mask_positions"],
            "mask_weights": masked["mask_weights"],
            "masked_token_ids": masked["token_ids"],
        }

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        if y_pred is None:
            y_pred = self(x, training=training)
        weights = y_pred["mask_weights"]
        values = keras.losses.sparse_categorical_crossentropy(
            y_pred["mask_ids"], y_pred["logits"], from_logits=True
        )
        loss = self._loss_fn(values, values, sample_weight=weights)
        self.accuracy_metric.update_state(
            y_pred["mask_ids"], y_pred["logits"], weights
        )
        if self.losses:
            loss = loss + ops.sum(self.losses)
        return loss

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        config["generator"] = keras.layers.serialize(self.generator)
        config.update(self._masker_config())
        config.update(self._preprocessor_config())
        return config

    @classmethod
    def from_config(cls, config):
        config = cls._deserialize_preprocessor(dict(config))
        if isinstance(config.get("generator"), dict):
            config["generator"] = keras.layers.deserialize(config["generator"])
        return cls(**config)
