"""keras_electra as a keras-hub model family: raw text in, presets by handle."""

import gzip
import os
import pathlib
import shutil

import keras
import keras_hub
import numpy as np
import pytest

from keras_electra.convert.huggingface import export_to_huggingface
from keras_electra.data import bundled_corpus_files
from keras_electra.data import bundled_vocabulary_file
from keras_electra.models import ElectraBackbone
from keras_electra.models import ElectraClassifier
from keras_electra.models import ElectraQuestionAnswerer
from keras_electra.models import MaskedLMPretrainer
from keras_electra.models import ReplacedTokenDetector
from keras_electra.models import ElectraTextClassifier
from keras_electra.models import ElectraTextEmbedder
from keras_electra.models import ElectraTokenClassifier

pytestmark = pytest.mark.multibackend

TEXTS = ["a fine film", "A dull, tired film...", "Café society, 1999!"]


def _tiny_classifier(**kwargs):
    keras.utils.set_random_seed(0)
    return ElectraTextClassifier.from_preset(
        "electra_tiny", num_classes=2, dropout=0.0, sequence_length=24,
        **kwargs,
    )


def test_classifier_predicts_raw_strings_and_pairs():
    model = _tiny_classifier(activation="softmax")
    assert isinstance(model, keras_hub.models.TextClassifier)
    assert isinstance(model.backbone, keras_hub.models.Backbone)
    probabilities = model.predict(TEXTS, verbose=0)
    assert probabilities.shape == (3, 2)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-6)
    # The same numbers as the token-id path.
    ids = {k: np.asarray(v) for k, v in model.preprocessor(TEXTS).items()}
    assert ids["token_ids"].shape == (3, 24)
    np.testing.assert_allclose(
        model.predict(ids, verbose=0), probabilities, atol=1e-6
    )
    # Pairs are a tuple of two string lists.
    pairs = (TEXTS, ["the plot", "the cast", "the end"])
    pair_ids = model.preprocessor(x=pairs)
    assert int(np.asarray(pair_ids["segment_ids"]).max()) == 1
    np.testing.assert_allclose(
        model.predict(pairs, verbose=0),
        model.predict({k: np.asarray(v) for k, v in pair_ids.items()},
                      verbose=0),
        atol=1e-6,
    )
    # As in keras-hub, `preprocessor = None` leaves token ids only.
    model.preprocessor = None
    np.testing.assert_allclose(
        model.predict(ids, verbose=0), probabilities, atol=1e-6
    )
    with pytest.raises(ValueError, match="preprocessor"):
        model.predict(TEXTS, verbose=0)


def test_classifier_fits_raw_strings():
    model = _tiny_classifier()
    good = [f"a good {w} film" for w in ("fine", "long", "new", "old")]
    bad = [f"a bad {w} film" for w in ("fine", "long", "new", "old")]
    texts, labels = good + bad, [1] * 4 + [0] * 4
    model.compile(learning_rate=3e-3, layerwise_decay=1.0)
    before = model.evaluate(texts, labels, verbose=0, return_dict=True)
    history = model.fit(texts, labels, batch_size=4, epochs=8, verbose=0,
                        validation_data=(texts, labels))
    after = model.evaluate(texts, labels, verbose=0, return_dict=True)
    assert after["loss"] < 0.5 * before["loss"], (before, after)
    assert after["accuracy"] == 1.0
    assert len(history.history["val_loss"]) == 8


def test_token_classifier_and_embedder_take_raw_inputs():
    keras.utils.set_random_seed(0)
    tagger = ElectraTokenClassifier.from_preset(
        "electra_tiny", num_classes=3, dropout=0.0, sequence_length=16
    )
    words = [["Call", "me", "Ishmael", "."], ["Whales", "!"]]
    logits = tagger.predict(words, verbose=0)
    assert logits.shape == (2, 16, 3)
    ids = {k: np.asarray(v) for k, v in tagger.preprocessor(words).items()}
    np.testing.assert_allclose(tagger.predict(ids, verbose=0), logits,
                               atol=1e-5)
    # Words and tags train together: labels on each word's first piece.
    history = tagger.fit(words, [[1, 0, 2, 0], [2, 0]], epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()

    embedder = ElectraTextEmbedder.from_preset(
        "electra_tiny", dropout=0.0, sequence_length=16
    )
    vectors = embedder.predict(TEXTS, verbose=0)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=-1), 1.0,
                               rtol=1e-5)
    ids = {k: np.asarray(v) for k, v in embedder.preprocessor(TEXTS).items()}
    np.testing.assert_allclose(embedder.predict(ids, verbose=0), vectors,
                               atol=1e-5)


def test_question_answerer_takes_questions_and_contexts(tmp_path):
    keras.utils.set_random_seed(0)
    model = ElectraQuestionAnswerer.from_preset("electra_tiny")
    assert model.preprocessor.sequence_length == 128  # capped to the model
    # A length asked for is checked, not cut.
    for cls in (ElectraQuestionAnswerer, ReplacedTokenDetector):
        with pytest.raises(ValueError, match="sequence_length=256 exceeds "
                           r".*\(max_sequence_length=128\)"):
            cls.from_preset("electra_tiny", sequence_length=256)
        with pytest.raises(ValueError, match=r"must be an int >= 2.*"
                           "Received: sequence_length=-5"):
            cls.from_preset("electra_tiny", sequence_length=-5)
    context = "The book was written by Herman Melville in 1851."
    questions, contexts = ["Who wrote the book?"] * 8, [context] * 8
    answers = [{"text": "Herman Melville", "answer_start": 24}] * 8
    model.compile(learning_rate=1e-3)
    history = model.fit((questions, contexts), answers, epochs=12,
                        batch_size=8, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    [answer] = model.predict(("Who wrote the book?", context), verbose=0)
    assert answer["text"] == "Herman Melville"
    assert context[answer["start_char"]:answer["end_char"]] == answer["text"]
    metrics = model.evaluate((questions, contexts), answers, verbose=0,
                             return_dict=True)
    assert metrics["start_accuracy"] == 1.0
    # The raw path is the token-id path plus span picking.
    features = model.preprocessor.features([questions[0]], [context])
    ids = {k: features[k] for k in ("token_ids", "segment_ids",
                                    "padding_mask")}
    logits = model.predict(ids, verbose=0)
    best = features["offsets"][0, int(np.argmax(logits["start_logits"][0]))]
    assert int(best[0]) == answer["start_char"]
    # A long context is cut into windows and the answer still found.
    long_context = "Filler words go here. " * 40 + context
    [far] = model.predict(("Who wrote the book?", long_context), verbose=0)
    assert far["text"] == "Herman Melville"
    # The preprocessor saves with the task and comes back.
    model.save_to_preset(tmp_path)
    restored = ElectraQuestionAnswerer.from_preset(str(tmp_path))
    assert restored.preprocessor.doc_stride == model.preprocessor.doc_stride
    [again] = restored.predict(("Who wrote the book?", context), verbose=0)
    assert again["text"] == "Herman Melville"
    np.testing.assert_allclose(again["score"], answer["score"], rtol=1e-5)
    with pytest.raises(ValueError, match="needs `y`"):
        model.fit((questions, contexts), verbose=0)
    model.preprocessor = None
    with pytest.raises(ValueError, match="preprocessor` is None"):
        model.predict(("Who?", context), verbose=0)


def _corpus_lines(count):
    with gzip.open(bundled_corpus_files()[0], "rt", encoding="utf-8") as f:
        lines = [line.strip() for line in f if len(line.split()) > 4]
    return lines[:count]


@pytest.mark.slow
def test_pretrainers_fit_raw_text(tmp_path):
    lines = _corpus_lines(160)
    keras.utils.set_random_seed(0)
    rtd = ReplacedTokenDetector.from_preset("electra_tiny", seed=0,
                                            sequence_length=48)
    tokenizer = rtd.preprocessor.tokenizer
    assert rtd.mask_token_id == tokenizer.mask_token_id
    rtd.compile(learning_rate=2e-3, warmup_steps=2, train_steps=40)
    history = rtd.fit(lines[:128], batch_size=32, epochs=4, verbose=0,
                      validation_data=lines[128:]).history
    assert history["generator_loss"][-1] < history["generator_loss"][0] - 0.5
    assert "val_discriminator_loss" in history
    # Packed as `[CLS] text [SEP]`, as the token-id path expects.
    ids = rtd.preprocessor(lines[:2])
    token_ids = np.asarray(ids["token_ids"])
    assert token_ids.shape == (2, 48)
    assert token_ids[0, 0] == tokenizer.cls_token_id
    metrics = rtd.evaluate(lines[:64], batch_size=32, verbose=0,
                           return_dict=True)
    assert np.isfinite(metrics["loss"])
    # Pairs pack as two segments (sentence-order prediction's input).
    pairs = (lines[:32], lines[32:64])
    assert int(np.asarray(rtd.preprocessor(x=pairs)["segment_ids"]).max()) == 1
    pair_history = rtd.fit(pairs, batch_size=32, verbose=0).history
    assert np.isfinite(pair_history["loss"][-1])
    # The preprocessor survives a `.keras` round trip.
    path = os.path.join(tmp_path, "rtd.keras")
    rtd.save(path)
    restored = keras.saving.load_model(path)
    assert restored.preprocessor.sequence_length == 48
    np.testing.assert_array_equal(
        np.asarray(restored.preprocessor(lines[:2])["token_ids"]), token_ids
    )
    with pytest.raises(ValueError, match="self-supervised"):
        rtd.fit(lines, np.zeros(len(lines)), verbose=0)
    mlm = MaskedLMPretrainer.from_preset("electra_tiny", seed=0,
                                         sequence_length=48)
    # The same `Pretrainer.fit` path; its preprocessor comes from the preset.
    assert mlm.preprocessor.sequence_length == 48
    assert mlm.mask_token_id == tokenizer.mask_token_id
    mlm.preprocessor = None
    with pytest.raises(ValueError, match="preprocessor` is None"):
        mlm.fit(lines, verbose=0)


def _assert_same_weights(a, b):
    assert len(a.weights) == len(b.weights)
    for x, y in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(x, y)


@pytest.mark.slow
def test_pretrainers_round_trip_through_save_to_preset(tmp_path):
    from keras_electra.data import tokenizer_from_vocabulary
    from keras_electra.jobs.pretrain import PretrainConfig
    from keras_electra.jobs.pretrain import build_pretrainer
    from keras_electra.models import ElectraDiscriminator
    from keras_electra.models import ElectraGenerator

    lines = _corpus_lines(64)
    tokenizer = tokenizer_from_vocabulary(bundled_vocabulary_file())
    keras.utils.set_random_seed(0)
    rtd = ReplacedTokenDetector.from_preset(
        "electra_tiny", seed=3, sequence_length=32,
        discriminator_loss_weight=40.0,
        vocabulary_size=tokenizer.vocabulary_size(),  # as the job checks
    )
    rtd.compile(learning_rate=2e-3, warmup_steps=2, train_steps=8)
    rtd.fit(lines, batch_size=16, verbose=0)
    folder = str(tmp_path / "rtd")
    rtd.save_to_preset(folder)
    for name in ("pretrainer.json", "task.json", "model.weights.h5",
                 "vocab.txt", "preprocessor.json", "generator/task.json",
                 "generator/model.weights.h5", "generator/vocab.txt"):
        assert os.path.exists(os.path.join(folder, name)), name
    # One call restores both parts, the settings and the preprocessor.
    restored = ReplacedTokenDetector.from_preset(folder)
    _assert_same_weights(restored, rtd)
    assert (restored.seed, restored.discriminator_loss_weight) == (3, 40.0)
    assert restored.preprocessor.sequence_length == 32
    batch = rtd.preprocessor(lines[:4])
    np.testing.assert_array_equal(
        restored.discriminator.predict(batch, verbose=0),
        rtd.discriminator.predict(batch, verbose=0),
    )
    # ... also in a fresh process, where nothing has imported the
    # preprocessor classes yet.
    import subprocess
    import sys

    fresh = subprocess.run(
        [sys.executable, "-c",
         "from keras_electra.models import ReplacedTokenDetector\n"
         f"rtd = ReplacedTokenDetector.from_preset({folder!r})\n"
         "print('sequence_length', rtd.preprocessor.sequence_length)"],
        capture_output=True, text=True, timeout=300,
    )
    assert "sequence_length 32" in fresh.stdout, fresh.stderr[-2000:]
    # The folder is a preset of each part for every other loader.
    _assert_same_weights(ElectraGenerator.from_preset(folder), rtd.generator)
    _assert_same_weights(ElectraDiscriminator.from_preset(folder),
                         rtd.discriminator)
    _assert_same_weights(keras_hub.models.Backbone.from_preset(folder),
                         rtd.discriminator.backbone)
    assert ElectraTextClassifier.from_preset(folder, num_classes=2).predict(
        ["a fine film"], verbose=0).shape == (1, 2)
    # Overrides: backbone arguments reach both parts, others the detector.
    changed = ReplacedTokenDetector.from_preset(folder, dropout=0.0, seed=5)
    assert changed.seed == 5
    assert changed.generator.backbone.dropout == 0.0
    assert changed.discriminator.backbone.dropout == 0.0
    with pytest.raises(ValueError, match="pretrainer.json.*MaskedLMPretrainer"):
        MaskedLMPretrainer.from_preset(folder)
    # The pre-training job continues from such a folder with its generator.
    config = PretrainConfig(input=["unused.txt"], init_from=folder).validate()
    _assert_same_weights(build_pretrainer(config, tokenizer).generator,
                         rtd.generator)
    # The masked-LM baseline: one folder, its masking settings kept.
    mlm = MaskedLMPretrainer.from_preset("electra_tiny", seed=1,
                                         mask_rate=0.2)
    mlm_folder = str(tmp_path / "mlm")
    mlm.save_to_preset(mlm_folder)
    again = MaskedLMPretrainer.from_preset(mlm_folder)
    assert (again.seed, again.mask_rate) == (1, 0.2)
    _assert_same_weights(again, mlm)
    # Saved without a preprocessor: sequence_length= builds the default
    # one over the saved vocabulary, or is refused when there is none.
    bare = MaskedLMPretrainer.from_preset("electra_tiny", preprocessor=None)
    bare_folder = str(tmp_path / "bare")
    bare.save_to_preset(bare_folder)
    assert MaskedLMPretrainer.from_preset(bare_folder).preprocessor is None
    with pytest.raises(ValueError, match="sequence_length=16 needs a prep.*"
                       "was saved without one and holds no vocabulary"):
        MaskedLMPretrainer.from_preset(bare_folder, sequence_length=16)
    with pytest.raises(ValueError, match="sequence_length=16 needs a prep.*"
                       "`preprocessor=None` was passed"):
        MaskedLMPretrainer.from_preset(mlm_folder, preprocessor=None,
                                       sequence_length=16)
    shutil.copy(os.path.join(mlm_folder, "vocab.txt"), bare_folder)
    built = MaskedLMPretrainer.from_preset(bare_folder, sequence_length=16)
    assert built.preprocessor.sequence_length == 16
    # A damaged pretrainer.json names itself.
    marker = os.path.join(mlm_folder, "pretrainer.json")
    for damaged in ('{"registered_name": "keras_electra>MaskedLMPretrainer"}',
                    '{"config": {}}', '[]'):
        with open(marker, "w", encoding="utf-8") as f:
            f.write(damaged)
        with pytest.raises(ValueError,
                           match="pretrainer.json' is not a saved"):
            MaskedLMPretrainer.from_preset(mlm_folder)


def test_presets_round_trip_through_ours_and_keras_hub(tmp_path):
    model = _tiny_classifier(activation="softmax")
    model.fit(TEXTS, [1, 0, 1], epochs=1, verbose=0)
    expected = model.predict(TEXTS, verbose=0)
    folder = str(tmp_path / "classifier")
    model.save_to_preset(folder)
    for name in ("config.json", "model.weights.h5", "task.json",
                 "task.weights.h5", "preprocessor.json", "tokenizer.json",
                 "assets/tokenizer/vocabulary.txt", "vocab.txt",
                 "tokenizer_config.json"):
        assert os.path.exists(os.path.join(folder, name)), name
    for loader in (ElectraTextClassifier, ElectraClassifier,
                   keras_hub.models.TextClassifier):
        restored = loader.from_preset(folder)
        assert type(restored) is ElectraTextClassifier
        assert restored.preprocessor.sequence_length == 24
        np.testing.assert_allclose(
            restored.predict(TEXTS, verbose=0), expected, atol=1e-6
        )
    backbone = keras_hub.models.Backbone.from_preset(folder)
    assert type(backbone) is ElectraBackbone
    for a, b in zip(backbone.get_weights(), model.backbone.get_weights()):
        np.testing.assert_array_equal(a, b)
    # The encoder of a classifier folder under another task.
    embedder = ElectraTextEmbedder.from_preset(folder)
    assert embedder.predict(TEXTS, verbose=0).shape == (3, 128)


def _hf_snapshot(cache, repo_id):
    revision = "0123456789abcdef0123456789abcdef01234567"
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(revision)
    snapshot = repo / "snapshots" / revision
    snapshot.mkdir(parents=True)
    return snapshot


def test_hf_and_kaggle_handles_load_from_the_local_cache(
    tmp_path, monkeypatch
):
    import huggingface_hub.constants

    source = _tiny_classifier()
    texts_ids = {
        k: np.asarray(v) for k, v in source.preprocessor(TEXTS).items()
    }
    expected = keras.ops.convert_to_numpy(
        source.backbone(texts_ids)["sequence_output"]
    )
    vocabulary = pathlib.Path(bundled_vocabulary_file())

    # hf://: a Hugging Face ELECTRA checkpoint, as huggingface_hub caches it.
    hf_cache = tmp_path / "hf"
    snapshot = _hf_snapshot(hf_cache, "someone/electra-tiny")
    export_to_huggingface(source.backbone, str(snapshot))
    shutil.copy(vocabulary, snapshot / "vocab.txt")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE",
                        str(hf_cache))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from_hf = ElectraTextClassifier.from_preset(
        "hf://someone/electra-tiny", num_classes=2, sequence_length=24
    )
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(
            from_hf.backbone(texts_ids)["sequence_output"]
        ),
        expected, atol=1e-5,
    )
    assert from_hf.predict(TEXTS, verbose=0).shape == (3, 2)

    # kaggle://: our own preset, as kagglehub caches a model version.
    kaggle_cache = tmp_path / "kaggle"
    variation = kaggle_cache / "models" / "someone" / "electra" / "keras" / "tiny"
    source.save_to_preset(str(variation / "1"))
    (variation / "1.complete").touch()
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(kaggle_cache))
    from_kaggle = ElectraTextClassifier.from_preset(
        "kaggle://someone/electra/keras/tiny/1"
    )
    np.testing.assert_allclose(
        from_kaggle.predict(TEXTS, verbose=0),
        source.predict(TEXTS, verbose=0), atol=1e-6,
    )
    with pytest.raises(ValueError, match="kaggle://someone/electra/keras/tiny/2"):
        ElectraTextClassifier.from_preset(
            "kaggle://someone/electra/keras/tiny/2"
        )


def test_empty_and_mismatched_raw_inputs_are_named():
    model = _tiny_classifier()
    with pytest.raises(ValueError, match=r"ElectraTextClassifier.fit\(\) "
                       "received no examples"):
        model.fit([], [], verbose=0)
    with pytest.raises(ValueError, match=r"predict\(\) received no examples"):
        model.predict([], verbose=0)
    with pytest.raises(ValueError, match=r"received 3 examples but 2 labels"):
        model.fit(TEXTS, [0, 1], verbose=0)
    with pytest.raises(ValueError, match="pair of inputs of 3 and 1"):
        model.predict((TEXTS, ["a pair"]), verbose=0)
    qa = ElectraQuestionAnswerer.from_preset("electra_tiny")
    with pytest.raises(ValueError, match=r"ElectraQuestionAnswerer.predict"
                       r"\(\) received no examples"):
        qa.predict(([], []), verbose=0)
    with pytest.raises(ValueError, match=r"Context 1 \(question 'Why\?'\) is "
                       "empty"):
        qa.predict((["Who?", "Why?"], ["Call me Ishmael.", "  "]), verbose=0)
