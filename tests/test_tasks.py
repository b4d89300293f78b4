"""Fine-tuning tasks: classifier (and regressor), token classifier, question
answerer, text embedder; layer-wise learning-rate decay. Runs under every
Keras backend (tiny configs)."""

import os
import warnings

import keras
import numpy as np
import pytest

from keras_electra.models import ElectraBackbone
from keras_electra.models import ElectraClassifier
from keras_electra.models import ElectraDiscriminator
from keras_electra.models import ElectraQuestionAnswerer
from keras_electra.models import ElectraTextEmbedder
from keras_electra.models import ElectraTokenClassifier
from keras_electra.models import EmbeddingIndex
from keras_electra.optimizers.layerwise_decay import FINE_TUNING_PRESETS
from keras_electra.optimizers.layerwise_decay import LayerwiseAdamW
from keras_electra.optimizers.layerwise_decay import fine_tuning_optimizer
from keras_electra.optimizers.layerwise_decay import (
    layerwise_learning_rate_multipliers,
)
from test_case import ElectraTestCase
from test_case import tiny_backbone
from test_case import tiny_inputs
from test_case import to_numpy

pytestmark = pytest.mark.multibackend

VOCAB = 50


def _data(batch_size=16, length=8, seed=0):
    return tiny_inputs(batch_size=batch_size, length=length,
                       vocabulary_size=VOCAB, seed=seed)


def _fit_losses(model, x, y, epochs=12, learning_rate=3e-3, **compile_kw):
    model.compile(learning_rate=learning_rate, layerwise_decay=0.8,
                  train_steps=epochs, warmup_fraction=0.1, **compile_kw)
    history = model.fit(x, y, batch_size=len(x["token_ids"]), epochs=epochs,
                        shuffle=False, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)), losses
    return losses, history.history


def _qa_targets(x):
    # A learnable synthetic target: the answer starts at the largest token
    # id among positions 1..5 and ends one token later.
    ids = x["token_ids"][:, 1:6]
    starts = ids.argmax(1) + 1
    return {"start_positions": starts, "end_positions": starts + 1}


class TestClassifier(ElectraTestCase):
    def test_fit_with_default_optimizer(self):
        keras.utils.set_random_seed(0)
        model = ElectraClassifier(tiny_backbone(vocabulary_size=VOCAB),
                                  num_classes=2, dropout=0.0)
        x = _data()
        y = (x["token_ids"][:, 1] % 2).astype("int32")
        losses, history = _fit_losses(model, x, y)
        assert losses[-1] < 0.7 * losses[0], losses
        assert "accuracy" in history
        assert isinstance(model.optimizer, LayerwiseAdamW)

    def test_regression(self):
        keras.utils.set_random_seed(0)
        model = ElectraClassifier(tiny_backbone(vocabulary_size=VOCAB),
                                  num_classes=1, dropout=0.0)
        assert model.is_regression
        x = _data()
        # STS-B style scores in [0, 5].
        y = (x["token_ids"][:, 1] % 6).astype("float32")
        losses, history = _fit_losses(model, x, y, learning_rate=1e-2)
        assert losses[-1] < 0.5 * losses[0], losses
        assert "mae" in history
        assert model.predict(x, verbose=0).shape == (16, 1)

    def test_keras_file_saved_before_training_reloads_quietly(self, tmp_path):
        # Compiled at construction, saved before its first step: the saved
        # optimizer has only its step counter and rate, the reloaded one
        # builds its moments at compile. Keras skipped the state, warning.
        model = ElectraClassifier(tiny_backbone(), num_classes=2)
        # A counter a fresh optimizer does not have: it must come from the file.
        model.optimizer.iterations.assign(5)
        path = os.path.join(str(tmp_path), "untrained.keras")
        model.save(path)
        with warnings.catch_warnings():
            warnings.filterwarnings("error", "Skipping variable loading")
            restored = keras.saving.load_model(path)
        assert restored.optimizer.built
        assert int(to_numpy(restored.optimizer.iterations)) == 5
        np.testing.assert_allclose(
            to_numpy(restored.optimizer.learning_rate), 1e-4)
        # A state that matches neither layout is still refused aloud.
        with pytest.warns(UserWarning, match="Skipping variable loading"):
            restored.optimizer.load_own_variables(
                {"0": np.zeros((), "int64")})
        losses, _ = _fit_losses(restored, _data(), np.array([0, 1] * 8),
                                epochs=3)
        assert losses[-1] < losses[0]

    def test_keras_file_with_optimizer_state(self, tmp_path):
        model = ElectraClassifier(tiny_backbone(), num_classes=3)
        x = tiny_inputs()
        model.compile(learning_rate=1e-3, train_steps=10)
        # One optimizer step (no compiled train step: keeps the test fast).
        model.optimizer.apply(
            [keras.ops.ones(v.shape) for v in model.trainable_variables],
            model.trainable_variables)
        restored = self.run_model_saving_test(model, x, tmp_path)
        assert restored.num_classes == 3
        assert isinstance(restored.optimizer, LayerwiseAdamW)
        assert (restored.optimizer.learning_rate_multipliers
                == model.optimizer.learning_rate_multipliers)
        assert int(to_numpy(restored.optimizer.iterations)) == 1
        np.testing.assert_allclose(
            to_numpy(restored.optimizer.variables[-1]),
            to_numpy(model.optimizer.variables[-1]))

    def test_config_round_trip(self):
        model = ElectraClassifier(tiny_backbone(), num_classes=1,
                                  dropout=0.2, activation="sigmoid")
        restored = self.run_serialization_test(model)
        assert restored.num_classes == 1 and restored.dropout == 0.2
        assert isinstance(restored.backbone, ElectraBackbone)

    def test_head_reads_first_token(self):
        model = ElectraClassifier(tiny_backbone(), num_classes=2)
        x = tiny_inputs()
        hidden = to_numpy(model.backbone(x)["sequence_output"])
        dense = model.output_dense
        expected = hidden[:, 0] @ to_numpy(dense.kernel) + to_numpy(dense.bias)
        np.testing.assert_allclose(to_numpy(model(x)), expected, atol=1e-5)

    def test_invalid_num_classes(self):
        with pytest.raises(ValueError, match="num_classes"):
            ElectraClassifier(tiny_backbone(), num_classes=0)

    def test_mixed_precision_outputs_float32(self):
        previous = keras.config.dtype_policy()
        try:
            keras.config.set_dtype_policy("mixed_bfloat16")
            model = ElectraClassifier(tiny_backbone(), num_classes=2)
            out = model(tiny_inputs())
        finally:
            keras.config.set_dtype_policy(previous)
        assert keras.backend.standardize_dtype(out.dtype) == "float32"
        assert np.all(np.isfinite(to_numpy(out)))


class TestPresets:
    def test_from_builtin_preset_with_kwargs(self):
        model = ElectraClassifier.from_preset(
            "electra_tiny", num_classes=5, activation="softmax",
            num_layers=2, vocabulary_size=1000,
        )
        assert model.num_classes == 5
        assert model.backbone.num_layers == 2
        assert model.backbone.vocabulary_size == 1000
        embedder = ElectraTextEmbedder.from_preset(
            "electra_tiny", pooling="cls", num_layers=1, vocabulary_size=1000)
        assert embedder.pooling == "cls"
        assert embedder.backbone.hidden_dim == 128

    def test_from_discriminator_folder_reuses_encoder(self, tmp_path):
        discriminator = ElectraDiscriminator(tiny_backbone())
        folder = os.path.join(str(tmp_path), "pretrained")
        discriminator.save_to_preset(folder)
        x = tiny_inputs()
        expected = to_numpy(discriminator.backbone(x)["sequence_output"])
        for cls, kwargs in [
            (ElectraClassifier, {"num_classes": 2}),
            (ElectraTokenClassifier, {"num_classes": 4}),
            (ElectraQuestionAnswerer, {}),
            (ElectraTextEmbedder, {"pooling": "mean"}),
        ]:
            task = cls.from_preset(folder, **kwargs)
            assert isinstance(task, cls)
            actual = to_numpy(task.backbone(x)["sequence_output"])
            np.testing.assert_allclose(actual, expected, atol=1e-6)


    def test_from_hugging_face_folder(self, tmp_path):
        torch = pytest.importorskip("torch")
        transformers = pytest.importorskip("transformers")
        torch.manual_seed(0)
        source = transformers.ElectraForPreTraining(transformers.ElectraConfig(
            vocab_size=100, embedding_size=16, hidden_size=32,
            num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
            max_position_embeddings=32,
        ))
        folder = str(tmp_path)
        source.save_pretrained(folder)
        encoder = ElectraBackbone.from_preset(folder)
        task = ElectraClassifier.from_preset(folder, num_classes=3)
        x = tiny_inputs()
        np.testing.assert_allclose(
            to_numpy(task.backbone(x)["sequence_output"]),
            to_numpy(encoder(x)["sequence_output"]), atol=1e-6)
        assert task.num_classes == 3

    def test_from_keras_hub_folder(self, tmp_path):
        import keras_hub

        keras_hub.models.ElectraBackbone(
            vocab_size=100, num_layers=2, num_heads=2, hidden_dim=32,
            embedding_dim=16, intermediate_dim=64, max_sequence_length=32,
        ).save_to_preset(str(tmp_path))
        encoder = ElectraBackbone.from_preset(str(tmp_path))
        task = ElectraTokenClassifier.from_preset(str(tmp_path),
                                                  num_classes=4)
        x = tiny_inputs()
        np.testing.assert_allclose(
            to_numpy(task.backbone(x)["sequence_output"]),
            to_numpy(encoder(x)["sequence_output"]), atol=1e-6)


class TestTokenClassifier(ElectraTestCase):
    def test_fit_ignores_minus_100(self):
        keras.utils.set_random_seed(0)
        model = ElectraTokenClassifier(tiny_backbone(vocabulary_size=VOCAB),
                                       num_classes=3, dropout=0.0)
        x = _data()
        y = (x["token_ids"] % 3).astype("int32")
        y[:, 0] = -100
        y[:, -1] = -100
        y[x["padding_mask"] == 0] = -100
        losses, history = _fit_losses(model, x, y, learning_rate=1e-2)
        assert losses[-1] < 0.8 * losses[0], losses
        assert "accuracy" in history
        # The loss is the mean cross-entropy over labelled tokens only.
        logits = to_numpy(model(x))
        keep = y != -100
        shifted = logits - logits.max(-1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
        picked = np.take_along_axis(log_probs, np.maximum(y, 0)[..., None],
                                    -1)[..., 0]
        expected = -picked[keep].mean()
        actual = float(to_numpy(model.loss(y, logits)))
        np.testing.assert_allclose(actual, expected, rtol=1e-4)

    def test_keras_file_and_config(self, tmp_path):
        model = ElectraTokenClassifier(tiny_backbone(), num_classes=5)
        self.run_serialization_test(model)
        restored = self.run_model_saving_test(model, tiny_inputs(), tmp_path)
        assert restored.num_classes == 5


class TestQuestionAnswerer(ElectraTestCase):
    def test_fit_and_outputs(self):
        keras.utils.set_random_seed(0)
        model = ElectraQuestionAnswerer(tiny_backbone(vocabulary_size=VOCAB))
        x = _data()
        y = _qa_targets(x)
        losses, history = _fit_losses(model, x, y, learning_rate=1e-2)
        assert losses[-1] < 0.75 * losses[0], losses
        assert {"start_accuracy", "end_accuracy"} <= set(history)
        # A [batch, 2] array works as well.
        array_y = np.stack([y["start_positions"], y["end_positions"]], -1)
        model.fit(x, array_y, epochs=1, verbose=0)
        out = model.predict(x, verbose=0)
        assert out["start_logits"].shape == (16, 8)
        # Padding positions can neither start nor end an answer.
        padded = x["padding_mask"] == 0
        assert np.all(out["start_logits"][padded] < -1000)

    def test_loss_is_mean_of_start_and_end(self):
        model = ElectraQuestionAnswerer(tiny_backbone())
        x = tiny_inputs()
        y = {"start_positions": np.array([1, 2]),
             "end_positions": np.array([3, 4])}
        out = model(x)
        loss = float(to_numpy(model.compute_loss(x, y, out)))

        def ce(logits, labels):
            logits = to_numpy(logits).astype("float64")
            logits = logits - logits.max(-1, keepdims=True)
            log_z = np.log(np.exp(logits).sum(-1))
            return np.mean(log_z - logits[np.arange(2), labels])

        expected = 0.5 * (ce(out["start_logits"], y["start_positions"])
                          + ce(out["end_logits"], y["end_positions"]))
        np.testing.assert_allclose(loss, expected, rtol=1e-5)

    def test_keras_file_and_config(self, tmp_path):
        model = ElectraQuestionAnswerer(tiny_backbone(), dropout=0.1)
        restored = self.run_serialization_test(model)
        assert restored.dropout == 0.1
        self.run_model_saving_test(model, tiny_inputs(), tmp_path)

    def test_rejects_custom_loss(self):
        model = ElectraQuestionAnswerer(tiny_backbone())
        with pytest.raises(ValueError, match="span loss"):
            model.compile(loss="mse")


class TestTextEmbedder(ElectraTestCase):
    def test_pooling_ignores_padding_and_normalizes(self):
        backbone = tiny_backbone()
        x = tiny_inputs()
        changed = {k: v.copy() for k, v in x.items()}
        changed["token_ids"][-1, -3:] = 7  # padding positions only
        hidden = to_numpy(backbone(x)["sequence_output"])
        mask = x["padding_mask"][..., None].astype("float32")
        for pooling in ("mean", "cls", "max"):
            model = ElectraTextEmbedder(backbone, pooling=pooling)
            a, b = to_numpy(model(x)), to_numpy(model(changed))
            np.testing.assert_allclose(a, b, atol=1e-5)
            np.testing.assert_allclose(np.linalg.norm(a, axis=-1), 1.0,
                                       atol=1e-5)
        raw = ElectraTextEmbedder(backbone, pooling="mean", normalize=False)
        expected = (hidden * mask).sum(1) / mask.sum(1)
        np.testing.assert_allclose(to_numpy(raw(x)), expected, atol=1e-5)

    def test_keras_file_config_and_index(self, tmp_path):
        model = ElectraTextEmbedder(tiny_backbone(), pooling="max",
                                    normalize=False)
        restored = self.run_serialization_test(model)
        assert restored.pooling == "max" and restored.normalize is False
        self.run_model_saving_test(model, tiny_inputs(), tmp_path)
        vectors = to_numpy(ElectraTextEmbedder(tiny_backbone())(
            tiny_inputs(batch_size=4)))
        index = EmbeddingIndex().add(vectors, texts=["a", "b", "c", "d"])
        hits = index.search(vectors[2], k=2)[0]
        assert hits[0]["text"] == "c"
        np.testing.assert_allclose(hits[0]["score"], 1.0, atol=1e-5)
        assert hits[1]["score"] <= hits[0]["score"]

    def test_index_embeds_texts(self):
        from keras_electra.data import ElectraClassifierPreprocessor
        from keras_electra.data import ElectraTokenizer

        vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "call", "me",
                 "ishmael", "the", "white", "whale", "ship", "sails"]
        preprocessor = ElectraClassifierPreprocessor(
            ElectraTokenizer(vocab), sequence_length=8)
        index = EmbeddingIndex(ElectraTextEmbedder(tiny_backbone()),
                               preprocessor)
        texts = ["call me ishmael", "the white whale", "the ship sails"]
        index.add(texts=texts)
        hits = index.search(["the white whale"], k=3)[0]
        assert hits[0]["text"] == "the white whale"
        assert len(hits) == 3

    def test_bad_pooling(self):
        with pytest.raises(ValueError, match="pooling"):
            ElectraTextEmbedder(tiny_backbone(), pooling="sum")


class TestLayerwiseDecay:
    def test_multipliers_map(self):
        model = ElectraClassifier(tiny_backbone(num_layers=3), num_classes=2)
        m = layerwise_learning_rate_multipliers(model, decay=0.5)
        assert len(m) == len(model.trainable_variables)
        for path, value in m.items():
            if path.startswith(("embeddings/", "embeddings_projection/")):
                assert value == 0.5 ** 4, path
            elif path.startswith("transformer_layer_"):
                i = int(path.split("/")[0].rsplit("_", 1)[1])
                assert value == 0.5 ** (3 - i), path
            else:
                assert path.startswith("classifier_dense/"), path
                assert value == 1.0
        assert m["transformer_layer_2/feedforward_output_dense/kernel"] == 0.5
        assert m["embeddings/token_embedding/embeddings"] == 0.0625

    def test_shared_layers_take_top_rate(self):
        backbone = tiny_backbone(num_layers=4, num_groups=2)
        m = layerwise_learning_rate_multipliers(backbone, decay=0.5)
        assert m["transformer_layer_0/self_attention_layer/query/kernel"] == (
            0.5 ** 3)
        assert m["transformer_layer_1/self_attention_layer/query/kernel"] == (
            0.5 ** 1)

    def test_effective_update_ratio(self):
        # First Adam step: every element moves by ~lr * multiplier (the
        # normalized gradient is 1). Embeddings vs top layer: d**(n+1) / d.
        model = ElectraClassifier(tiny_backbone(num_layers=2), num_classes=2)
        optimizer = fine_tuning_optimizer(
            model, learning_rate=1e-2, layerwise_decay=0.5, clipnorm=None)
        variables = model.trainable_variables
        before = {v.path: to_numpy(v).copy() for v in variables}
        optimizer.apply([keras.ops.ones(v.shape) for v in variables],
                        variables)
        step = {v.path: np.abs(before[v.path] - to_numpy(v)).mean()
                for v in variables}
        top = step["transformer_layer_1/feedforward_output_dense/kernel"]
        embedding = step["embeddings/token_embedding/embeddings"]
        head = step["classifier_dense/kernel"]
        np.testing.assert_allclose(head, 1e-2, rtol=1e-3)
        np.testing.assert_allclose(top, 0.5e-2, rtol=1e-3)
        np.testing.assert_allclose(embedding / top, 0.5 ** 2, rtol=1e-3)

    def test_weight_decay_scaled_and_skips_norms(self):
        layer_model = ElectraClassifier(tiny_backbone(num_layers=1),
                                        num_classes=2)
        optimizer = fine_tuning_optimizer(
            layer_model, learning_rate=0.1, layerwise_decay=0.5,
            weight_decay=0.1, clipnorm=None)
        variables = layer_model.trainable_variables
        before = {v.path: to_numpy(v).copy() for v in variables}
        # Zero gradients: only the decoupled weight decay moves weights.
        optimizer.apply([keras.ops.zeros(v.shape) for v in variables],
                        variables)
        after = {v.path: to_numpy(v) for v in variables}
        path = "transformer_layer_0/feedforward_output_dense/kernel"
        np.testing.assert_allclose(
            after[path], before[path] * (1 - 0.1 * 0.5 * 0.1), rtol=1e-6)
        path = "classifier_dense/kernel"
        np.testing.assert_allclose(
            after[path], before[path] * (1 - 0.1 * 0.1), rtol=1e-6)
        for path in ("embeddings/layer_norm/gamma",
                     "transformer_layer_0/feedforward_output_dense/bias"):
            np.testing.assert_array_equal(after[path], before[path])

    def test_schedule_warmup_and_config(self):
        model = ElectraClassifier(tiny_backbone(), num_classes=2)
        optimizer = fine_tuning_optimizer(model, learning_rate=1e-3,
                                          train_steps=100)
        schedule = optimizer._learning_rate
        assert schedule.warmup_steps == 10 and schedule.decay_steps == 100
        np.testing.assert_allclose(
            float(to_numpy(schedule(5))), 5e-4, rtol=1e-6)
        config = optimizer.get_config()
        restored = LayerwiseAdamW.from_config(config)
        assert (restored.learning_rate_multipliers
                == optimizer.learning_rate_multipliers)
        assert restored.no_decay_names == ["gamma", "beta", "bias"]

    def test_paper_presets(self):
        assert FINE_TUNING_PRESETS["small"]["learning_rate"] == 3e-4
        assert FINE_TUNING_PRESETS["base"]["learning_rate"] == 1e-4
        assert FINE_TUNING_PRESETS["large"]["learning_rate"] == 5e-5
        assert FINE_TUNING_PRESETS["large"]["layerwise_decay"] == 0.9


def test_compiled_classifier_preset_reloads_in_a_fresh_process(tmp_path):
    """The saved config names LayerwiseAdamW; importing models registers it."""
    import subprocess
    import sys

    folder = str(tmp_path / "clf")
    save = (
        "from keras_electra.models import ElectraClassifier\n"
        "m = ElectraClassifier.from_preset('electra_tiny', num_classes=2,"
        " num_layers=1)\n"
        "m.compile(train_steps=10)\n"
        f"m.save_to_preset({folder!r})\n"
    )
    load = (
        "from keras_electra.models import ElectraClassifier\n"
        f"m = ElectraClassifier.from_preset({folder!r})\n"
        "print(type(m.optimizer).__name__)\n"
    )
    for code in (save, load):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True,
            timeout=300,
        )
        assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("LayerwiseAdamW")
