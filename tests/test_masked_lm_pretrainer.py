"""MaskedLMPretrainer (the BERT-style baseline) and the FLOP counts."""

import os

import numpy as np
import pytest
import keras
from keras import ops

from keras_electra.models import ElectraBackbone
from keras_electra.models import ElectraClassifier
from keras_electra.models import ElectraDiscriminator
from keras_electra.models import ElectraGenerator
from keras_electra.models import MaskedLMPretrainer
from keras_electra.models import ReplacedTokenDetector
from keras_electra.training import encoder_flops
from keras_electra.training import masked_lm_head_flops
from keras_electra.training import pretraining_flops_per_example
from test_case import short_pretraining_run

pytestmark = pytest.mark.multibackend

PAD, CLS, SEP, MASK = 0, 2, 3, 4


def tiny_mlm(vocabulary_size=64, seed=0, **kwargs):
    backbone = ElectraBackbone(
        vocabulary_size=vocabulary_size, num_layers=2, num_heads=2,
        hidden_dim=32, intermediate_dim=64, embedding_dim=16,
        max_sequence_length=32, dropout=0.0,
    )
    return MaskedLMPretrainer(ElectraGenerator(backbone), seed=seed, **kwargs)


def batch(size=8, length=24, vocabulary_size=64, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, vocabulary_size, size=(size, length)).astype("int32")
    ids[:, 0] = CLS
    ids[:, -1] = SEP
    padding = np.ones_like(ids)
    ids[: size // 2, length - 6 :] = PAD
    ids[: size // 2, length - 7] = SEP
    padding[: size // 2, length - 6 :] = 0
    return {
        "token_ids": ids,
        "segment_ids": np.zeros_like(ids),
        "padding_mask": padding,
    }


def test_loss_is_cross_entropy_at_masked_positions_only():
    model = tiny_mlm()
    x = batch()
    y_pred = model(x)
    out = {k: ops.convert_to_numpy(v) for k, v in y_pred.items()}
    weights = out["mask_weights"]
    # BERT masking: never special tokens or padding.
    chosen = np.take_along_axis(x["token_ids"], out["mask_positions"], 1)
    assert not np.isin(chosen[weights > 0], [PAD, CLS, SEP, MASK]).any()
    assert np.all(
        np.take_along_axis(x["padding_mask"], out["mask_positions"], 1)[
            weights > 0
        ]
        == 1
    )
    logits = out["logits"].astype("float64")
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    nll = -np.take_along_axis(log_probs, out["mask_ids"][..., None], -1)[..., 0]
    expected = (nll * weights).sum() / weights.sum()
    loss = model.compute_loss(x=x, y_pred=y_pred, training=False)
    np.testing.assert_allclose(
        float(ops.convert_to_numpy(loss)), expected, rtol=1e-4
    )


def test_bert_masking_proportions():
    model = tiny_mlm(vocabulary_size=1000, seed=3)
    x = batch(size=64, length=32, vocabulary_size=1000)
    out = {k: ops.convert_to_numpy(v) for k, v in model(x).items()}
    used = out["mask_weights"] > 0
    new = np.take_along_axis(out["masked_token_ids"], out["mask_positions"], 1)
    is_mask = (new == MASK)[used].mean()
    kept = (new == out["mask_ids"])[used].mean()
    assert 0.72 < is_mask < 0.88, is_mask
    assert 0.05 < kept < 0.16, kept  # 10% kept, plus random draws that hit
    real = x["padding_mask"].sum(1)
    np.testing.assert_array_equal(used.sum(1), np.minimum(
        np.maximum(np.round(real * 0.15), 1), model.masker.num_predictions(32)
    ))


def test_fit_lowers_the_loss_and_the_encoder_fine_tunes(tmp_path):
    keras.utils.set_random_seed(0)
    model = tiny_mlm()
    # A tiny language: token t is always followed by t + 1.
    starts = np.random.default_rng(1).integers(5, 30, size=(64, 1))
    ids = (starts + np.arange(22)[None]).astype("int32")
    ids = np.concatenate(
        [np.full((64, 1), CLS), ids, np.full((64, 1), SEP)], 1
    ).astype("int32")
    x = {"token_ids": ids, "segment_ids": np.zeros_like(ids),
         "padding_mask": np.ones_like(ids)}
    model.compile(learning_rate=5e-3, warmup_steps=5, train_steps=320)
    history = model.fit(x, batch_size=16, epochs=80, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.6 * losses[0], losses
    assert history.history["accuracy"][-1] > 0.3, history.history["accuracy"]

    folder = str(tmp_path / "mlm")
    model.generator.save_to_preset(folder)
    classifier = ElectraClassifier.from_preset(folder, num_classes=2)
    for a, b in zip(
        classifier.backbone.weights, model.generator.backbone.weights
    ):
        np.testing.assert_array_equal(
            ops.convert_to_numpy(a), ops.convert_to_numpy(b)
        )
    reloaded = MaskedLMPretrainer.from_preset(folder, seed=0)
    probe = {k: v[:4] for k, v in x.items()}
    probe["mask_positions"] = np.tile(np.arange(1, 4), (4, 1))
    np.testing.assert_allclose(
        ops.convert_to_numpy(reloaded.generator(probe)),
        ops.convert_to_numpy(model.generator(probe)),
        atol=1e-5,
    )


def test_save_and_reload_keras_file(tmp_path):
    model = tiny_mlm()
    x = batch()
    model(x)
    path = str(tmp_path / "mlm.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    assert isinstance(restored, MaskedLMPretrainer)
    assert restored.mask_token_rate == 0.8
    for a, b in zip(restored.weights, model.weights):
        np.testing.assert_array_equal(
            ops.convert_to_numpy(a), ops.convert_to_numpy(b)
        )


def test_encoder_flops_match_the_weight_shapes():
    backbone = ElectraBackbone(
        vocabulary_size=500, num_layers=3, num_heads=2, hidden_dim=48,
        intermediate_dim=96, embedding_dim=24, max_sequence_length=64,
    )
    length = 40
    # Every kernel of the encoder except the embedding tables multiplies
    # each position's vector once: 2 FLOPs per weight per position
    # (attention biases are 2-D too, but only added).
    tables = {id(w) for w in backbone.embeddings.weights}
    matmul = sum(
        2 * length * int(np.prod(w.shape))
        for w in backbone.weights
        if len(w.shape) >= 2 and id(w) not in tables and "bias" not in w.path
    )
    attention = 3 * 2 * 2 * length * length * 48
    assert encoder_flops(backbone, length) == matmul + attention
    shared = ElectraBackbone(**{**backbone.get_config(), "num_groups": 1})
    assert encoder_flops(shared, length) == encoder_flops(backbone, length)
    head = masked_lm_head_flops(backbone, 6)
    assert head == 6 * (2 * 48 * 24 + 2 * 24 * 500)


def test_pretraining_flops_electra_small_against_the_paper():
    rtd = ReplacedTokenDetector.from_preset("electra_small")
    mlm = MaskedLMPretrainer.from_preset("electra_small")
    electra = pretraining_flops_per_example(rtd, 128)
    bert = pretraining_flops_per_example(mlm, 128)
    # Clark et al. (2020), Table 1: ELECTRA-Small, 1M steps of 128 x 128,
    # 1.4e18 training FLOPs, counting element-wise operations too (which
    # this count leaves out), so ours is somewhat lower.
    total = electra * 128 * 1_000_000
    assert 0.75 * 1.4e18 < total < 1.4e18, total
    # The 1/4-width generator costs under 10% on top of the encoder.
    assert 1.0 < electra / bert < 1.1, electra / bert
    with pytest.raises(ValueError, match="ReplacedTokenDetector"):
        pretraining_flops_per_example(rtd.discriminator, 128)


def test_run_pretraining_mlm_objective_on_real_text(tmp_path):
    from keras_electra.data import bundled_corpus_files
    from keras_electra.data import bundled_vocabulary_file

    result = short_pretraining_run(
        tmp_path, steps=12, backup_every=6, objective="mlm"
    )
    assert result["steps"] == 12
    assert result["encoder_dir"] == str(tmp_path / "masked_lm")
    assert "discriminator_dir" not in result
    assert len(result["history"]["loss"]) == 2
    assert os.path.getsize(result["plot"]) > 10_000
    mlm = MaskedLMPretrainer.from_preset("electra_tiny", vocabulary_size=6540)
    assert result["flops_per_example"] == pretraining_flops_per_example(
        mlm, 32
    )
    classifier = ElectraClassifier.from_preset(
        result["encoder_dir"], num_classes=2
    )
    assert classifier.backbone.hidden_dim == 128  # the discriminator's size
    assert os.path.exists(os.path.join(result["encoder_dir"], "vocab.txt"))
    # The fresh run started its vocabulary bias at the corpus' unigram
    # log-frequencies (12 small steps move it little).
    from keras_electra.data import ElectraTokenizer
    from keras_electra.data import pretraining_dataset
    from keras_electra.data import unigram_log_prior

    tokenizer = ElectraTokenizer(vocabulary=bundled_vocabulary_file())
    prior = unigram_log_prior(
        pretraining_dataset(
            bundled_corpus_files(), tokenizer, sequence_length=32,
            batch_size=4, seed=0, repeat=True, shuffle_buffer=50,
        ).as_numpy_iterator(),
        tokenizer.vocabulary_size(), exclude_ids=[0, 2, 3, 4],
    )
    bias = ops.convert_to_numpy(
        ElectraGenerator.from_preset(result["encoder_dir"]).lm_head._bias
    )
    assert np.corrcoef(bias, prior)[0, 1] > 0.99
    assert np.abs(bias - prior).max() < 12 * 1e-3 * 1.5
    with pytest.raises(ValueError, match="objective must be one of electra, mlm"):
        short_pretraining_run(tmp_path, steps=1, objective="bert")


def test_unigram_log_prior_and_output_bias():
    from keras_electra.data import unigram_log_prior

    batches = [
        {"token_ids": np.array([[2, 7, 7, 9, 3, 0, 0]]),
         "padding_mask": np.array([[1, 1, 1, 1, 1, 0, 0]])},
        {"token_ids": np.array([[2, 7, 5, 3]]),
         "padding_mask": np.array([[1, 1, 1, 1]])},
    ]
    prior = unigram_log_prior(batches, 10, exclude_ids=[0, 2, 3])
    counts = np.ones(10)
    counts[7] += 3
    counts[9] += 1
    counts[5] += 1
    np.testing.assert_allclose(prior, np.log(counts / counts.sum()), rtol=1e-6)
    assert len(unigram_log_prior(batches, 10, num_batches=1)) == 10
    with pytest.raises(ValueError, match=r"lie in \[0, 8\)"):
        unigram_log_prior(batches, 8)
    with pytest.raises(ValueError, match="no batch"):
        unigram_log_prior([], 8)

    model = tiny_mlm()
    model.generator.initialize_output_bias(np.linspace(-9, -1, 64))
    generator = model.generator
    np.testing.assert_allclose(
        ops.convert_to_numpy(generator.lm_head._bias), np.linspace(-9, -1, 64),
        rtol=1e-6,
    )
    with pytest.raises(ValueError, match=r"shape \(64,\)"):
        generator.initialize_output_bias(np.zeros(63))
    with pytest.raises(ValueError, match="NaN"):
        generator.initialize_output_bias(np.full(64, np.nan))


@pytest.mark.slow
def test_run_pretraining_model_and_generator_options(tmp_path):
    # One run with the defaults, one with every option changed (a wider
    # generator, mask_rate, attention_dropout, output_bias="zero"), one mlm.
    base = short_pretraining_run(tmp_path / "base", steps=2)
    wider = short_pretraining_run(
        tmp_path / "wider", steps=2,
        model_options={"mask_rate": 0.3},
        generator_options={"hidden_dim": 64, "num_heads": 2,
                           "intermediate_dim": 256},
        attention_dropout=0.0, output_bias="zero",
    )
    # The ELECTRA objective's encoder is the discriminator.
    assert base["encoder_dir"] == base["discriminator_dir"]
    # A fresh generator starts its output bias at the corpus' unigram
    # log-frequencies unless output_bias="zero"; two steps move a bias
    # entry by at most ~2 x 1e-3.
    bias = {
        name: ops.convert_to_numpy(ElectraGenerator.from_preset(
            result["generator_dir"]).lm_head._bias)
        for name, result in (("unigram", base), ("zero", wider))
    }
    assert np.abs(bias["zero"]).max() < 0.01
    assert np.ptp(bias["unigram"]) > 3.0  # log-frequencies, not zeros
    with pytest.raises(ValueError, match="output-bias must be one of unigram, zero"):
        short_pretraining_run(tmp_path / "x", steps=1, output_bias="ones")
    # A random generator is almost never right, so about mask_rate of the
    # (packed, nearly all real) tokens end up replaced.
    low = base["history"]["replaced_fraction"][-1]
    high = wider["history"]["replaced_fraction"][-1]
    assert 0.1 < low < 0.17 and 0.22 < high < 0.32
    generator = ElectraGenerator.from_preset(wider["generator_dir"])
    assert generator.backbone.hidden_dim == 64
    # attention_dropout reaches both saved models (and only the attention).
    discriminator = ElectraDiscriminator.from_preset(
        wider["discriminator_dir"])
    for backbone in (generator.backbone, discriminator.backbone):
        assert backbone.attention_dropout == 0.0 and backbone.dropout == 0.1
    assert ElectraGenerator.from_preset(
        base["generator_dir"]
    ).backbone.hidden_dim == 32
    mlm = short_pretraining_run(
        tmp_path / "mlm", steps=1, objective="mlm",
        model_options={"mask_rate": 0.3},
    )
    assert mlm["history"]["loss"][-1] > 0


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(model_options={"seed": 1}), "may not set seed"),
        (dict(model_options={"mask_rat": 0.3}), "mask_rat.*mask_rate"),
        (dict(objective="mlm", model_options={"tie_embeddings": False}),
         "tie_embeddings.*MaskedLMPretrainer"),
        (dict(objective="mlm", generator_options={"hidden_dim": 64}),
         "do not apply to objective 'mlm'"),
        (dict(generator_options={"vocabulary_size": 10}),
         "may not set vocabulary_size"),
    ],
)
def test_run_pretraining_rejects_bad_options(tmp_path, options, message):
    with pytest.raises(ValueError, match=message):
        short_pretraining_run(tmp_path, steps=1, **options)
    assert not os.path.exists(tmp_path / "backups")  # stopped before training
