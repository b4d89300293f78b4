"""ELECTRA pre-training: generator + discriminator, one `fit()` call."""

import keras
from keras import ops

from keras_electra.api_export import keras_electra_export
from keras_electra.keras_workarounds import masked_lm_head_parts
from keras_electra.layers.electra_masker import scatter_slots
from keras_electra.layers.sampling import gumbel_max_sample
from keras_electra.layers.sentence_order import swap_segments
from keras_electra.models.electra_backbone import ElectraBackbone
from keras_electra.models.electra_discriminator import ElectraDiscriminator
from keras_electra.models.electra_generator import ElectraGenerator
from keras_electra.models.electra_model import check_token_inputs
from keras_electra.models.electra_presets import PRESETS
from keras_electra.models.pretrainer import Pretrainer
from keras_electra.models.pretrainer import _WeightedMean
from keras_electra.models.pretrainer import _weighted_mean
from keras_electra.models.pretrainer import attach_preprocessor


@keras_electra_export
class ReplacedTokenDetector(Pretrainer):
    """ELECTRA pre-training by replaced-token detection.

    One training step, as in Clark et al. (2020):

    1. `ElectraMasker` chooses ~15% of the real tokens (never special tokens
       or padding) and masks them (85% `[MASK]`, 15% unchanged by default).
    2. The generator (a small masked LM) predicts the masked positions; its
       vocabulary logits are computed at those positions only.
    3. A replacement is drawn at every masked position from the generator's
       softmax (hard Gumbel-max at `temperature`, float32, no gradient).
    4. The discriminator scores every token of the corrupted sequence. Its
       label is 1 only where the token differs from the original: a sample
       that equals the original is labelled original.
    5. Loss = `generator_loss_weight` x masked-LM cross-entropy (mean over
       masked positions) + `discriminator_loss_weight` x binary
       cross-entropy (mean over all non-padding tokens, `[CLS]` and `[SEP]`
       included). The discriminator loss reaches the generator only through
       the shared embeddings.

    Everything happens inside the model with static shapes, so `fit()` works
    unchanged on TensorFlow, JAX and PyTorch, with or without `jit_compile`.
    The losses are computed in `compute_loss()` with metric trackers, the
    hook every backend's trainer calls. Randomness comes from
    `SeedGenerator`s the model owns: fresh at every step, reproducible from
    `seed`.

    With `tie_embeddings=True` (the paper's setting) the generator uses the
    discriminator's `ElectraEmbedding` (token, position and segment tables
    and their LayerNorm); each keeps its own projection to its width. A
    generator built separately is rebuilt around the shared embeddings (its
    other weights are kept). The tie survives `.keras` save and reload.

    Logged metrics: `loss`, `generator_loss`, `generator_accuracy`,
    `discriminator_loss`, `discriminator_accuracy`, `discriminator_precision`,
    `discriminator_recall`, `discriminator_auc` (replaced is the positive
    class), `replaced_fraction`, and `sentence_order_loss` /
    `sentence_order_accuracy` when sentence-order prediction is on.

    Args:
        generator: `ElectraGenerator`.
        discriminator: `ElectraDiscriminator`.
        mask_token_id: int. Id of `[MASK]`. Defaults to `4` (vocabularies
            trained by keras_electra; Hugging Face's uncased vocabulary uses
            103).
        unselectable_token_ids: list of int. Ids never masked. Defaults to
            `(0, 2, 3, 4)` (`[PAD]`, `[CLS]`, `[SEP]`, `[MASK]`).
        mask_rate: float. Defaults to `0.15`.
        max_predictions: int. Prediction slots per sequence. Defaults to
            `int((mask_rate + 0.005) * sequence_length)`: 19 at 128.
        mask_token_rate: float. Defaults to `0.85`.
        random_token_rate: float. Defaults to `0.0` (`0.1` with
            `mask_token_rate=0.8` gives BERT's 80/10/10).
        tie_embeddings: bool. Share the embedding block. Defaults to `True`.
        generator_loss_weight: float. Defaults to `1.0`.
        discriminator_loss_weight: float. Defaults to `50.0`.
        temperature: float. Sampling temperature. Defaults to `1.0`.
        disallow_correct: bool. Never sample the original token (an option of
            the original code). Defaults to `False`.
        sentence_order_loss_weight: float. When > 0, ALBERT's
            sentence-order prediction is added: half of the two-segment
            examples get their segments swapped and a head on the
            discriminator's `[CLS]` vector predicts whether they were.
            Defaults to `0.0`.
        seed: int. Seed of masking and sampling. Defaults to `None`.
        preprocessor: `ElectraPretrainingPreprocessor` or `None`. Packs raw
            text for `fit(texts)`; `from_preset` attaches one. Defaults to
            `None`.

    Example:
    ```python
    import numpy as np
    from keras_electra.models import ReplacedTokenDetector
    rtd = ReplacedTokenDetector.from_preset("electra_tiny", seed=0)
    rtd.compile(learning_rate=1e-3, warmup_steps=10, train_steps=100)
    rtd.fit(["The cat sat on the mat.", "A dog barked twice."] * 4,
            batch_size=4, verbose=0)
    # Or packed token ids:
    ids = np.random.randint(5, 8192, size=(8, 32))
    ids[:, 0], ids[:, -1] = 2, 3
    x = {"token_ids": ids, "segment_ids": np.zeros_like(ids),
         "padding_mask": np.ones_like(ids)}
    rtd.fit(x, batch_size=4, epochs=1, verbose=0)
    rtd.discriminator.save_to_preset("/tmp/electra_tiny_discriminator")
    ```

    Reference:
        Clark et al., ELECTRA: Pre-training Text Encoders as Discriminators
        Rather Than Generators, ICLR 2020 (arXiv:2003.10555).
    """

    preset_parts = (
        ("", "discriminator", ElectraDiscriminator),
        ("generator", "generator", ElectraGenerator),
    )

    def __init__(
        self,
        generator,
        discriminator,
        mask_token_id=4,
        unselectable_token_ids=(0, 2, 3, 4),
        mask_rate=0.15,
        max_predictions=None,
        mask_token_rate=0.85,
        random_token_rate=0.0,
        tie_embeddings=True,
        generator_loss_weight=1.0,
        discriminator_loss_weight=50.0,
        temperature=1.0,
        disallow_correct=False,
        sentence_order_loss_weight=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        generator_vocab = generator.backbone.vocabulary_size
        discriminator_vocab = discriminator.backbone.vocabulary_size
        if generator_vocab != discriminator_vocab:
            raise ValueError(
                "Generator and discriminator must share a vocabulary. "
                f"Received generator vocabulary_size={generator_vocab}, "
                f"discriminator vocabulary_size={discriminator_vocab}."
            )
        if tie_embeddings:
            generator = tie_generator_embeddings(generator, discriminator)
        # === Layers ===
        self.generator = generator
        self.discriminator = discriminator
        self._init_masker(
            vocabulary_size=discriminator_vocab,
            mask_token_id=mask_token_id,
            unselectable_token_ids=unselectable_token_ids,
            mask_rate=mask_rate,
            max_predictions=max_predictions,
            mask_token_rate=mask_token_rate,
            random_token_rate=random_token_rate,
            seed=seed,
        )
        self.sampler_seed = keras.random.SeedGenerator(
            None if seed is None else seed + 1, name="sampler_seed"
        )
        self.sentence_order_head = None
        if sentence_order_loss_weight:
            hidden_dim = discriminator.backbone.hidden_dim
            self.sentence_order_head = keras.Sequential(
                [
                    keras.layers.Dense(hidden_dim, activation="tanh"),
                    keras.layers.Dense(2),
                ],
                name="sentence_order_head",
            )
            self.sentence_order_head.build((None, hidden_dim))
        # === Losses and metrics ===
        self._generator_loss_fn = _WeightedMean("generator_loss")
        self._discriminator_loss_fn = _WeightedMean("discriminator_loss")
        self._sentence_order_loss_fn = keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, name="sentence_order_loss"
        )
        self.generator_loss_tracker = keras.metrics.Mean(name="generator_loss")
        self.generator_accuracy = keras.metrics.SparseCategoricalAccuracy(
            name="generator_accuracy"
        )
        self.discriminator_loss_tracker = keras.metrics.Mean(
            name="discriminator_loss"
        )
        self.discriminator_accuracy = keras.metrics.BinaryAccuracy(
            name="discriminator_accuracy"
        )
        self.discriminator_precision = keras.metrics.Precision(
            name="discriminator_precision"
        )
        self.discriminator_recall = keras.metrics.Recall(
            name="discriminator_recall"
        )
        self.discriminator_auc = keras.metrics.AUC(name="discriminator_auc")
        self.replaced_fraction = keras.metrics.Mean(name="replaced_fraction")
        if sentence_order_loss_weight:
            self.sentence_order_loss_tracker = keras.metrics.Mean(
                name="sentence_order_loss"
            )
            self.sentence_order_accuracy = (
                keras.metrics.SparseCategoricalAccuracy(
                    name="sentence_order_accuracy"
                )
            )
        # === Config ===
        self.tie_embeddings = tie_embeddings
        self.generator_loss_weight = generator_loss_weight
        self.discriminator_loss_weight = discriminator_loss_weight
        self.temperature = temperature
        self.disallow_correct = disallow_correct
        self.sentence_order_loss_weight = sentence_order_loss_weight

    @classmethod
    def from_preset(
        cls, preset, load_weights=True, generator=None, **kwargs
    ):
        """Build a detector from a built-in preset or saved folders.

        With a built-in name, the discriminator and generator take the
        preset's two configs; backbone arguments in `kwargs` (for example
        `vocabulary_size`, `dropout`, `max_sequence_length`) apply to both.
        A folder written by `save_to_preset()` (or its `hf://` /
        `kaggle://` handle) restores the whole detector: both parts, the
        masking and loss settings, and the preprocessor. Any other folder is
        a discriminator (keras_electra, Hugging Face or keras-hub format),
        and `generator` names the generator folder or built-in preset name
        to go with it.

        Args:
            preset: str. A built-in preset name, a folder saved by
                `save_to_preset()`, or a discriminator folder.
            load_weights: bool. Defaults to `True`.
            generator: str. The generator folder or built-in preset name for
                a discriminator folder `preset`. Defaults to `None`.
            **kwargs: backbone overrides (built-in presets; for folders,
                only those that keep the weight shapes, such as `dropout`),
                `ReplacedTokenDetector` arguments (they replace the saved
                ones), `preprocessor` (default `"auto"`: the saved one, else
                the folder's or the bundled vocabulary, whose `[MASK]` and
                special ids the masking then uses) and `sequence_length`
                (of the preprocessor).

        Example:
        ```python
        rtd = ReplacedTokenDetector.from_preset(
            "electra_tiny", vocabulary_size=1000, mask_token_id=4
        )
        ```
        """
        import inspect

        if generator is None:
            saved = cls._from_saved_preset(preset, load_weights, kwargs)
            if saved is not None:
                return saved
        backbone_names = set(inspect.signature(ElectraBackbone).parameters)
        backbone_kwargs = {
            k: kwargs.pop(k) for k in list(kwargs) if k in backbone_names
        }
        if preset in PRESETS:
            discriminator = ElectraDiscriminator.from_preset(
                preset, **backbone_kwargs
            )
            generator = ElectraGenerator.from_preset(
                generator or preset, **backbone_kwargs
            )
        else:
            if generator is None:
                raise ValueError(
                    "Loading a ReplacedTokenDetector from the folder "
                    f"'{preset}' also needs `generator=` (a generator folder "
                    "or a built-in preset name)."
                )
            discriminator = ElectraDiscriminator.from_preset(
                preset, load_weights=load_weights, **backbone_kwargs
            )
            generator = ElectraGenerator.from_preset(
                generator, load_weights=load_weights, **backbone_kwargs
            )
        preprocessor = attach_preprocessor(
            cls, preset, discriminator.backbone, kwargs
        )
        return cls(generator=generator, discriminator=discriminator,
                   preprocessor=preprocessor, **kwargs)

    def __call__(self, *args, **kwargs):
        if args:
            check_token_inputs(self.discriminator.backbone, args[0])
        return super().__call__(*args, **kwargs)

    def call(self, inputs, training=None):
        token_ids = ops.cast(inputs["token_ids"], "int32")
        segment_ids = ops.cast(inputs["segment_ids"], "int32")
        padding_mask = ops.cast(inputs["padding_mask"], "int32")
        outputs = {}
        if self.sentence_order_head is not None:
            swap = (
                keras.random.uniform(
                    ops.shape(token_ids)[:1], seed=self.sampler_seed
                )
                < 0.5
            )
            token_ids, segment_ids, outputs["sentence_order_labels"] = (
                swap_segments(token_ids, segment_ids, padding_mask, swap)
            )

        masked = self.masker(token_ids, padding_mask)
        generator_logits = self.generator(
            {
                "token_ids": masked["token_ids"],
                "segment_ids": segment_ids,
                "padding_mask": padding_mask,
                "mask_positions": masked["mask_positions"],
            },
            training=training,
        )
        generator_logits = ops.cast(generator_logits, "float32")
        samples = gumbel_max_sample(
            generator_logits,
            self.sampler_seed,
            temperature=self.temperature,
            disallowed_ids=masked["mask_ids"] if self.disallow_correct else None,
        )
        corrupted = scatter_slots(
            token_ids,
            masked["mask_positions"],
            samples,
            masked["mask_weights"] > 0,
        )
        corrupted = ops.stop_gradient(corrupted)
        replaced = ops.cast(ops.not_equal(corrupted, token_ids), "int32")
        replaced = replaced * padding_mask
        sequence_output = self.discriminator.backbone(
            {
                "token_ids": corrupted,
                "segment_ids": segment_ids,
                "padding_mask": padding_mask,
            },
            training=training,
        )["sequence_output"]
        discriminator_logits = self.discriminator.score(sequence_output)
        outputs.update(
            {
                "generator_logits": generator_logits,
                "mask_ids": masked["mask_ids"],
                "mask_positions": masked["mask_positions"],
                "mask_weights": masked["mask_weights"],
                "sampled_ids": samples,
                "corrupted_token_ids": corrupted,
                "replaced_labels": replaced,
                "padding_mask": padding_mask,
                "discriminator_logits": ops.cast(
                    discriminator_logits, "float32"
                ),
            }
        )
        if self.sentence_order_head is not None:
            outputs["sentence_order_logits"] = ops.cast(
                self.sentence_order_head(sequence_output[:, 0, :]), "float32"
            )
        return outputs

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        if y_pred is None:
            y_pred = self(x, training=training)
        mask_weights = y_pred["mask_weights"]
        token_weights = ops.cast(y_pred["padding_mask"], "float32")
        labels = y_pred["replaced_labels"]
        disc_logits = y_pred["discriminator_logits"]

        generator_values = keras.losses.sparse_categorical_crossentropy(
            y_pred["mask_ids"], y_pred["generator_logits"], from_logits=True
        )
        discriminator_values = keras.losses.binary_crossentropy(
            ops.expand_dims(ops.cast(labels, "float32"), -1),
            ops.expand_dims(disc_logits, -1),
            from_logits=True,
        )
        generator_loss = self._generator_loss_fn(
            generator_values, generator_values, sample_weight=mask_weights
        )
        discriminator_loss = self._discriminator_loss_fn(
            discriminator_values,
            discriminator_values,
            sample_weight=token_weights,
        )
        loss = (
            self.generator_loss_weight * generator_loss
            + self.discriminator_loss_weight * discriminator_loss
        )

        # Metrics (unscaled values: the losses above are divided by the
        # replica count under tf.distribute).
        self.generator_loss_tracker.update_state(
            _weighted_mean(generator_values, mask_weights)
        )
        self.discriminator_loss_tracker.update_state(
            _weighted_mean(discriminator_values, token_weights)
        )
        self.generator_accuracy.update_state(
            y_pred["mask_ids"], y_pred["generator_logits"], mask_weights
        )
        probabilities = ops.sigmoid(disc_logits)
        for metric in (
            self.discriminator_accuracy,
            self.discriminator_precision,
            self.discriminator_recall,
            self.discriminator_auc,
        ):
            metric.update_state(labels, probabilities, token_weights)
        self.replaced_fraction.update_state(
            ops.cast(labels, "float32"), token_weights
        )
        if self.sentence_order_head is not None:
            sop_labels = y_pred["sentence_order_labels"]
            sop_logits = y_pred["sentence_order_logits"]
            sop_loss = self._sentence_order_loss_fn(sop_labels, sop_logits)
            loss = loss + self.sentence_order_loss_weight * sop_loss
            self.sentence_order_loss_tracker.update_state(
                ops.mean(
                    keras.losses.sparse_categorical_crossentropy(
                        sop_labels, sop_logits, from_logits=True
                    )
                )
            )
            self.sentence_order_accuracy.update_state(sop_labels, sop_logits)
        if self.losses:
            loss = loss + ops.sum(self.losses)
        return loss

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        config.update(
            {
                "generator": keras.layers.serialize(self.generator),
                "discriminator": keras.layers.serialize(self.discriminator),
                "tie_embeddings": self.tie_embeddings,
                "generator_loss_weight": self.generator_loss_weight,
                "discriminator_loss_weight": self.discriminator_loss_weight,
                "temperature": self.temperature,
                "disallow_correct": self.disallow_correct,
                "sentence_order_loss_weight": self.sentence_order_loss_weight,
            }
        )
        config.update(self._masker_config())
        config.update(self._preprocessor_config())
        return config

    @classmethod
    def from_config(cls, config):
        config = cls._deserialize_preprocessor(dict(config))
        for key in ("generator", "discriminator"):
            if isinstance(config.get(key), dict):
                config[key] = keras.layers.deserialize(config[key])
        return cls(**config)


def tie_generator_embeddings(generator, discriminator):
    """Return `generator` rebuilt around the discriminator's embeddings.

    If the two already share an `ElectraEmbedding`, `generator` is returned
    as is. Otherwise a new generator with the same config is built on
    `discriminator.backbone.embeddings`; the generator's own embedding
    projection, transformer layers and masked-LM head weights are copied
    over, and its embedding tables are dropped in favour of the
    discriminator's (as in the paper, where the generator uses the
    discriminator's embeddings).

    Example:
    ```python
    from keras_electra.models import ElectraDiscriminator, ElectraGenerator
    discriminator = ElectraDiscriminator.from_preset("electra_tiny")
    generator = tie_generator_embeddings(
        ElectraGenerator.from_preset("electra_tiny"), discriminator
    )
    assert generator.backbone.embeddings is discriminator.backbone.embeddings
    ```
    """
    shared = discriminator.backbone.embeddings
    old = generator.backbone
    if old.embeddings is shared:
        return generator
    if old.embedding_dim != discriminator.backbone.embedding_dim:
        raise ValueError(
            "Tied embeddings need equal embedding widths. Received generator "
            f"embedding_dim={old.embedding_dim}, discriminator "
            f"embedding_dim={discriminator.backbone.embedding_dim}. Build the "
            "generator with the discriminator's embedding_dim or pass "
            "tie_embeddings=False."
        )
    config = old.get_config()
    config.pop("trainable", None)
    dtype = config.pop("dtype", None)
    if isinstance(dtype, dict):
        dtype = keras.dtype_policies.deserialize(dtype)
    backbone = ElectraBackbone(**config, embedding_layer=shared, dtype=dtype)
    tied = ElectraGenerator(backbone=backbone, name=generator.name)
    pairs = [(old.embeddings_projection, backbone.embeddings_projection)]
    pairs += list(zip(old.transformer_layers, backbone.transformer_layers))
    for source, target in pairs:
        if source is not None:
            target.set_weights(source.get_weights())
    source = masked_lm_head_parts(generator.lm_head)
    target = masked_lm_head_parts(tied.lm_head)
    for name in ("intermediate_dense", "intermediate_layer_norm"):
        target[name].set_weights(source[name].get_weights())
    target["bias"].assign(source["bias"])
    return tied
