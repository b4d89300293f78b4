"""Core model tests: config and `.keras` round trips, training, precision,
parameter sharing, parameter counts against transformers, input checks and
preset folders. Runs under every Keras backend."""

import json
import os

import keras
import keras_hub
import numpy as np
import pytest

from keras_electra.models import ElectraBackbone
from keras_electra.models import ElectraClassifier
from keras_electra.models import ElectraDiscriminator
from keras_electra.models import ElectraGenerator
from keras_electra.models.electra_classifier import ElectraTask
from keras_electra.models import PRESETS
from test_case import ElectraTestCase
from test_case import tiny_backbone
from test_case import tiny_inputs
from test_case import to_numpy

pytestmark = pytest.mark.multibackend


class TestSerialization(ElectraTestCase):
    def test_backbone_config_round_trip(self):
        backbone = tiny_backbone(num_groups=1, layer_norm_epsilon=1e-6)
        restored = self.run_serialization_test(backbone)
        assert restored.num_groups == 1
        assert restored.layer_norm_epsilon == 1e-6
        assert restored.count_params() == backbone.count_params()

    def test_task_config_round_trip(self):
        for cls in (ElectraDiscriminator, ElectraGenerator):
            restored = self.run_serialization_test(cls(tiny_backbone()))
            assert isinstance(restored.backbone, ElectraBackbone)
            assert restored.backbone.embedding_dim == 16

    def test_discriminator_keras_file(self, tmp_path):
        model = ElectraDiscriminator(tiny_backbone())
        restored = self.run_model_saving_test(model, tiny_inputs(), tmp_path)
        assert restored.count_params() == model.count_params()

    def test_generator_keras_file_keeps_tied_embeddings(self, tmp_path):
        model = ElectraGenerator(tiny_backbone())
        restored = self.run_model_saving_test(model, tiny_inputs(), tmp_path)
        # The projection onto the vocabulary reuses the token table.
        token_table = restored.backbone.token_embedding.embeddings
        assert restored.lm_head.token_embedding.embeddings is token_table
        assert restored.count_params() == model.count_params()


class TestTraining(ElectraTestCase):
    def test_fit_discriminator_on_arrays_and_dataset(self):
        keras.utils.set_random_seed(0)
        model = ElectraDiscriminator(tiny_backbone(vocabulary_size=50))
        x = tiny_inputs(batch_size=16, length=8, vocabulary_size=50,
                        pad=False)
        # A learnable synthetic objective: "replaced" iff the id is odd.
        y = (x["token_ids"] % 2).astype("float32")
        array_losses, _ = self.run_fit_test(
            model, x, y, keras.losses.BinaryCrossentropy(from_logits=True)
        )
        # Starting near chance (log 2) is what an untrained head gives.
        assert abs(array_losses[0] - np.log(2.0)) < 0.1

    @pytest.mark.parametrize(
        "policy, atol",
        # bfloat16 keeps 8 mantissa bits (relative step 2**-8 ~ 4e-3);
        # float16 keeps 11 (~5e-4). Logits are O(1) after the random head.
        [("mixed_bfloat16", 1e-1), ("mixed_float16", 2e-2)],
    )
    def test_mixed_precision_forward(self, policy, atol):
        inputs = tiny_inputs()

        def build_discriminator():
            keras.utils.set_random_seed(1)
            return ElectraDiscriminator(tiny_backbone())

        def build_generator():
            keras.utils.set_random_seed(1)
            return ElectraGenerator(tiny_backbone())

        before = keras.config.dtype_policy().name
        self.run_precision_test(build_discriminator, inputs, policy, atol)
        self.run_precision_test(build_generator, inputs, policy, atol)
        assert keras.config.dtype_policy().name == before


class TestArchitecture:
    def test_generator_mask_positions_equal_gathered_full_output(self):
        model = ElectraGenerator(tiny_backbone())
        inputs = tiny_inputs()
        full = to_numpy(model(inputs))
        assert full.shape == (2, 10, 100)
        positions = np.array([[1, 4, 9], [0, 2, 5]], "int32")
        partial = to_numpy(model({**inputs, "mask_positions": positions}))
        assert partial.shape == (2, 3, 100)
        gathered = np.take_along_axis(full, positions[..., None], axis=1)
        np.testing.assert_allclose(partial, gathered, atol=1e-5)

    def test_albert_sharing(self):
        one_layer = tiny_backbone(num_layers=1)
        shared = tiny_backbone(num_layers=4, num_groups=1)
        two_groups = tiny_backbone(num_layers=4, num_groups=2)
        unshared = tiny_backbone(num_layers=4, num_groups=4)
        assert len(shared.transformer_layers) == 1
        assert shared.count_params() == one_layer.count_params()
        layer_params = sum(
            int(np.prod(w.shape))
            for w in unshared.transformer_layers[0].weights
        )
        # 4 * 32 * 32 + 4 * 32 attention, 2 * 32 * 64 + 64 + 32 feed-forward
        # and 4 * 32 LayerNorm.
        assert layer_params == 8544
        assert unshared.count_params() == shared.count_params() + 3 * 8544
        assert two_groups.count_params() == shared.count_params() + 8544
        # Applying the single shared layer four times is not one layer.
        shared.set_weights(one_layer.get_weights())
        inputs = tiny_inputs()
        out_one = to_numpy(one_layer(inputs)["sequence_output"])
        out_shared = to_numpy(shared(inputs)["sequence_output"])
        assert np.abs(out_one - out_shared).max() > 1e-3

    def test_attention_dropout_is_its_own_rate(self):
        inputs = tiny_inputs()
        # Only the attention probabilities drop: training differs from
        # inference; with both rates 0 it does not (and attention runs
        # through keras.ops.dot_product_attention).
        for rate, differs in ((0.5, True), (0.0, False)):
            keras.utils.set_random_seed(1)
            backbone = tiny_backbone(dropout=0.0, attention_dropout=rate)
            layer = backbone.transformer_layers[0]._self_attention_layer
            assert layer.dropout == rate
            train = to_numpy(backbone(inputs, training=True)["sequence_output"])
            infer = to_numpy(backbone(inputs)["sequence_output"])
            assert (np.abs(train - infer).max() > 1e-3) == differs, rate
        # None follows `dropout`, and is saved as None so that a `dropout=`
        # override on reload reaches the attention probabilities too.
        backbone = tiny_backbone(dropout=0.1)
        assert backbone.attention_dropout == 0.1
        assert backbone.get_config()["attention_dropout"] is None
        apart = tiny_backbone(dropout=0.1, attention_dropout=0.0)
        restored = ElectraBackbone.from_config(apart.get_config())
        assert restored.attention_dropout == 0.0 and restored.dropout == 0.1
        assert restored.count_params() == backbone.count_params()

    def test_num_groups_must_divide_num_layers(self):
        with pytest.raises(ValueError, match="num_layers=4, num_groups=3"):
            tiny_backbone(num_layers=4, num_groups=3)


def _hf_count(model_cls, backbone):
    transformers = pytest.importorskip("transformers")
    from keras_electra.convert.huggingface import huggingface_config

    config = huggingface_config(backbone)
    config.pop("architectures")
    config.pop("model_type")
    model_class = getattr(transformers, model_cls)
    model = model_class(transformers.ElectraConfig(**config))
    # `parameters()` yields the tied output projection once.
    return sum(p.numel() for p in model.parameters())


class TestParameterCounts:
    def test_electra_small_discriminator(self):
        transformers = pytest.importorskip("transformers")
        model = ElectraDiscriminator.from_preset("electra_small")
        assert model.count_params() == 13_549_057
        reference = transformers.ElectraForPreTraining(
            transformers.ElectraConfig(
                vocab_size=30522, embedding_size=128, hidden_size=256,
                num_hidden_layers=12, num_attention_heads=4,
                intermediate_size=1024, max_position_embeddings=512,
                type_vocab_size=2,
            )
        )
        assert sum(p.numel() for p in reference.parameters()) == 13_549_057

    @pytest.mark.parametrize(
        "preset, expected",
        [("electra_small", 4_620_026), ("electra_small_full_generator",
                                        13_546_682)],
    )
    def test_small_generators(self, preset, expected):
        model = ElectraGenerator.from_preset(preset)
        assert model.count_params() == expected
        assert _hf_count("ElectraForMaskedLM", model.backbone) == expected


class TestInputChecks:
    def test_out_of_vocabulary_ids(self):
        model = ElectraDiscriminator(tiny_backbone())
        inputs = tiny_inputs()
        inputs["token_ids"][1, 2] = 100
        with pytest.raises(ValueError, match=r"\[0, 100\).*received 100 at "
                           r"index \(1, 2\)"):
            model(inputs)
        inputs["token_ids"][1, 2] = -1
        with pytest.raises(ValueError, match="received -1"):
            model.predict(inputs, verbose=0)

    def test_out_of_range_segment_ids(self):
        model = ElectraDiscriminator(tiny_backbone())
        inputs = tiny_inputs()
        inputs["segment_ids"][0, 0] = 2
        with pytest.raises(ValueError, match="segment_ids"):
            model(inputs)

    def test_too_long_sequence(self):
        model = ElectraDiscriminator(tiny_backbone())
        inputs = tiny_inputs(length=33)
        with pytest.raises(ValueError, match="length 33.*max_sequence_length"
                           "=32"):
            model(inputs)
        # 32 tokens, the table's size, is fine.
        assert to_numpy(model(tiny_inputs(length=32))).shape == (2, 32)


class TestPresets:
    def test_unknown_preset_lists_valid_names(self):
        with pytest.raises(ValueError) as info:
            ElectraDiscriminator.from_preset("electra_huge")
        message = str(info.value)
        assert "electra_huge" in message
        for name in PRESETS:
            assert name in message

    def test_builtin_preset_overrides(self):
        model = ElectraGenerator.from_preset(
            "electra_tiny", vocabulary_size=500, dropout=0.0
        )
        assert model.backbone.vocabulary_size == 500
        assert model.backbone.dropout == 0.0
        assert model.backbone.hidden_dim == (
            PRESETS["electra_tiny"]["generator"]["hidden_dim"]
        )

    def test_misspelled_override_is_an_error_not_ignored(self, tmp_path):
        # keras.Model accepts unknown keywords silently; a typo such as
        # `hiden_dim` used to build the preset's default size.
        with pytest.raises(ValueError, match="hiden_dim.*hidden_dim"):
            ElectraGenerator.from_preset("electra_tiny", hiden_dim=64)
        folder = str(tmp_path / "discriminator")
        ElectraDiscriminator.from_preset("electra_tiny").save_to_preset(folder)
        with pytest.raises(ValueError, match="num_clases"):
            ElectraClassifier.from_preset(folder, num_clases=2)
        with pytest.raises(ValueError, match="hiden_dim"):
            ElectraDiscriminator.from_preset(folder, hiden_dim=64)
        with pytest.raises(ValueError, match="num_classes"):
            ElectraBackbone.from_preset(folder, num_classes=2)
        classifier = ElectraClassifier.from_preset(
            folder, num_classes=3, name="sentiment"
        )
        assert classifier.name == "sentiment"
        assert classifier.output_dense.units == 3

    def test_saved_folder_overrides_reach_the_backbone(self, tmp_path):
        # As for built-in presets and Hugging Face / keras-hub folders:
        # backbone arguments go to the encoder, others to the task.
        saved = ElectraDiscriminator.from_preset("electra_tiny")
        folder = str(tmp_path / "discriminator")
        saved.save_to_preset(folder)
        loaded = ElectraDiscriminator.from_preset(folder, dropout=0.0)
        assert loaded.backbone.dropout == 0.0
        for a, b in zip(saved.get_weights(), loaded.get_weights()):
            np.testing.assert_array_equal(a, b)
        assert ElectraBackbone.from_preset(folder, dropout=0.0).dropout == 0.0
        classifier = ElectraClassifier.from_preset(
            folder, num_classes=2, dropout=0.0
        )
        assert classifier.backbone.dropout == 0.0
        assert classifier.output_dropout.rate == 0.1  # the head's default
        classifier_folder = str(tmp_path / "classifier")
        classifier.save_to_preset(classifier_folder)
        again = ElectraClassifier.from_preset(
            classifier_folder, dropout=0.2, activation="softmax"
        )
        assert again.backbone.dropout == 0.2
        # Asked for as a base class (ours, or keras-hub's), the saved
        # classifier keeps its type and still takes the task arguments.
        for base in (ElectraTask, keras_hub.models.TextClassifier):
            renamed = base.from_preset(classifier_folder, name="renamed")
            assert isinstance(renamed, ElectraClassifier)
            assert renamed.name == "renamed"
        probabilities = again.predict(tiny_inputs(2, 8), verbose=0)
        np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)
        # Another `num_classes` is a new head on the saved encoder, as in
        # keras-hub (the folder used to refuse it).
        five = ElectraClassifier.from_preset(classifier_folder, num_classes=5)
        assert tuple(five.output_dense.kernel.shape) == (128, 5)
        for a, b in zip(classifier.backbone.get_weights(),
                        five.backbone.get_weights()):
            np.testing.assert_array_equal(a, b)

    def test_save_to_preset_round_trip(self, tmp_path):
        keras.utils.set_random_seed(2)
        model = ElectraDiscriminator(tiny_backbone())
        inputs = tiny_inputs()
        expected = to_numpy(model(inputs))
        folder = os.path.join(str(tmp_path), "discriminator")
        model.save_to_preset(folder)
        # keras-hub's task layout: the backbone, then the head beside it.
        assert sorted(os.listdir(folder)) == [
            "config.json", "metadata.json", "model.weights.h5", "task.json",
            "task.weights.h5",
        ]
        with open(os.path.join(folder, "metadata.json")) as f:
            assert (json.load(f)["parameter_count"]
                    == model.backbone.count_params())
        import keras_hub

        assert isinstance(model, keras_hub.models.Task)
        hub_backbone = keras_hub.models.Backbone.from_preset(folder)
        assert type(hub_backbone) is ElectraBackbone

        restored = ElectraDiscriminator.from_preset(folder)
        np.testing.assert_allclose(to_numpy(restored(inputs)), expected,
                                   atol=1e-6)

        backbone = ElectraBackbone.from_preset(folder)
        assert type(backbone) is ElectraBackbone
        np.testing.assert_allclose(
            to_numpy(backbone(inputs)["sequence_output"]),
            to_numpy(model.backbone(inputs)["sequence_output"]),
            atol=1e-6,
        )
        for a, b in zip(backbone.weights, model.backbone.weights):
            np.testing.assert_array_equal(to_numpy(a), to_numpy(b))

        unloaded = ElectraDiscriminator.from_preset(folder, load_weights=False)
        assert unloaded.count_params() == model.count_params()
        assert not np.allclose(to_numpy(unloaded(inputs)), expected)

    def test_discriminator_and_generator_are_keras_hub_tasks(self):
        import keras_hub

        discriminator = ElectraDiscriminator(tiny_backbone())
        generator = ElectraGenerator(tiny_backbone())
        for model in (discriminator, generator):
            assert isinstance(model, keras_hub.models.Task)
            # Parts of a pre-trainer: no optimizer until compiled.
            assert getattr(model, "optimizer", None) is None
        # compile() defaults to a loss that trains the detection head.
        keras.utils.set_random_seed(4)
        inputs = {k: np.repeat(v, 4, axis=0) for k, v in tiny_inputs().items()}
        labels = (inputs["token_ids"] % 2).astype("float32")
        discriminator.compile(learning_rate=1e-3)
        history = discriminator.fit(inputs, labels, epochs=4, batch_size=8,
                                    verbose=0)
        losses = history.history["loss"]
        assert losses[-1] < losses[0], losses

    def test_folder_of_earlier_versions_loads(self, tmp_path):
        # Before the discriminator was a keras-hub Task, its folder held the
        # whole model in config.json and model.weights.h5.
        keras.utils.set_random_seed(3)
        model = ElectraDiscriminator(tiny_backbone())
        inputs = tiny_inputs()
        expected = to_numpy(model(inputs))
        folder = tmp_path / "old"
        folder.mkdir()
        config = keras.saving.serialize_keras_object(model)
        config["config"].pop("preprocessor")
        (folder / "config.json").write_text(json.dumps(config))
        model.save_weights(str(folder / "model.weights.h5"))
        restored = ElectraDiscriminator.from_preset(str(folder))
        np.testing.assert_allclose(to_numpy(restored(inputs)), expected,
                                   atol=1e-6)
        backbone = ElectraBackbone.from_preset(str(folder))
        np.testing.assert_allclose(
            to_numpy(backbone(inputs)["sequence_output"]),
            to_numpy(model.backbone(inputs)["sequence_output"]), atol=1e-6)

    def test_backbone_preset_folder_as_generator(self, tmp_path):
        backbone = tiny_backbone()
        folder = os.path.join(str(tmp_path), "backbone")
        backbone.save_to_preset(folder)
        generator = ElectraGenerator.from_preset(folder)
        assert generator.backbone.count_params() == backbone.count_params()
        inputs = tiny_inputs()
        np.testing.assert_allclose(
            to_numpy(generator.backbone(inputs)["sequence_output"]),
            to_numpy(backbone(inputs)["sequence_output"]),
            atol=1e-6,
        )

    def test_missing_weights_file(self, tmp_path):
        folder = os.path.join(str(tmp_path), "p")
        tiny_backbone().save_to_preset(folder)
        os.remove(os.path.join(folder, "model.weights.h5"))
        with pytest.raises(FileNotFoundError, match="model.weights.h5"):
            ElectraBackbone.from_preset(folder)


@pytest.mark.parametrize("kind", ["pretrainer", "classifier"])
def test_train_on_batch_traces_the_model_once(kind):
    # An unbuilt preprocessor (built on first use, in tf.data) made Keras
    # trace the whole model again at every train_on_batch() (0.9 s of a
    # 4.4 s ELECTRA-Small step on JAX).
    from keras_electra.models import ReplacedTokenDetector

    if kind == "pretrainer":
        model = ReplacedTokenDetector.from_preset(
            "electra_tiny", num_layers=1, seed=0)
        model.compile(learning_rate=1e-3)
        batch = (tiny_inputs(vocabulary_size=1000),)
    else:
        model = ElectraClassifier.from_preset(
            "electra_tiny", num_classes=2, num_layers=1)
        batch = (tiny_inputs(vocabulary_size=1000), np.array([0, 1]))
    assert model.preprocessor is not None
    calls = []
    call = model.call
    model.call = lambda *args, **kwargs: calls.append(1) or call(*args,
                                                                 **kwargs)
    counts = []
    for _ in range(3):
        before = len(calls)
        model.train_on_batch(*batch)
        counts.append(len(calls) - before)
    # Compiled backends trace once, then run the compiled step; torch runs
    # `call` eagerly, once a step. A symbolic re-build adds one per step.
    per_step = 1 if keras.config.backend() == "torch" else 0
    assert counts[1:] == [per_step, per_step], counts
    assert model.preprocessor.built
