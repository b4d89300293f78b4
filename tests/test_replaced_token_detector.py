"""ReplacedTokenDetector: objective, sampling, gradients, training, saving."""

import numpy as np
import pytest
import keras
from keras import ops

from keras_electra.layers import ElectraMasker
from keras_electra.layers import gumbel_max_sample
from keras_electra.layers import swap_segments
from keras_electra.models import ElectraBackbone
from keras_electra.models import ElectraDiscriminator
from keras_electra.models import ElectraGenerator
from keras_electra.models import ReplacedTokenDetector

pytestmark = pytest.mark.multibackend

PAD, UNK, CLS, SEP, MASK = 0, 1, 2, 3, 4


def tiny_rtd(vocabulary_size=64, seed=0, dropout=0.0, **kwargs):
    common = dict(
        vocabulary_size=vocabulary_size,
        num_layers=2,
        embedding_dim=32,
        max_sequence_length=32,
        dropout=dropout,
    )
    discriminator = ElectraDiscriminator(
        ElectraBackbone(num_heads=2, hidden_dim=32, intermediate_dim=64, **common)
    )
    generator = ElectraGenerator(
        ElectraBackbone(num_heads=1, hidden_dim=16, intermediate_dim=32, **common)
    )
    return ReplacedTokenDetector(generator, discriminator, seed=seed, **kwargs)


def batch(size=8, length=24, vocabulary_size=64, pad_from=None, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, vocabulary_size, size=(size, length)).astype("int32")
    ids[:, 0] = CLS
    padding = np.ones_like(ids)
    lengths = pad_from if pad_from is not None else [length] * size
    for row, n in enumerate(lengths):
        ids[row, n - 1] = SEP
        ids[row, n:] = PAD
        padding[row, n:] = 0
    return {
        "token_ids": ids,
        "segment_ids": np.zeros_like(ids),
        "padding_mask": padding,
    }


def numpy_outputs(outputs):
    return {k: ops.convert_to_numpy(v) for k, v in outputs.items()}


def test_masker_follows_the_original_recipe():
    masker = ElectraMasker(vocabulary_size=1000, mask_token_id=MASK, seed=3)
    lengths = [128, 100, 40, 6, 3]
    data = batch(size=5, length=128, vocabulary_size=1000, pad_from=lengths)
    data["token_ids"][0, 10:20] = MASK  # existing [MASK] tokens are never chosen
    out = numpy_outputs(masker(data["token_ids"], data["padding_mask"]))
    assert out["mask_positions"].shape == (5, 19)  # int(0.155 * 128)
    counts = out["mask_weights"].sum(axis=1)
    # k = max(1, min(19, round(0.15 * real tokens))), capped by selectable.
    assert counts.tolist() == [19, 15, 6, 1, 1]
    for row in range(5):
        used = out["mask_positions"][row][out["mask_weights"][row] > 0]
        assert len(set(used.tolist())) == len(used)  # distinct
        original = data["token_ids"][row, used]
        assert not np.isin(original, [PAD, CLS, SEP, MASK]).any()
        assert (data["padding_mask"][row, used] == 1).all()
        np.testing.assert_array_equal(out["mask_ids"][row][: len(used)], original)
    # Unused slots leave the sequence alone.
    changed = out["token_ids"] != data["token_ids"]
    assert changed.sum() <= counts.sum()


def test_masker_replacement_rates():
    length, rows = 128, 256
    data = batch(size=rows, length=length, vocabulary_size=1000)
    electra = ElectraMasker(vocabulary_size=1000, mask_token_id=MASK, seed=1)
    out = numpy_outputs(electra(data["token_ids"], data["padding_mask"]))
    masked_ids = np.take_along_axis(out["token_ids"], out["mask_positions"], 1)
    used = out["mask_weights"] > 0
    share_mask = (masked_ids[used] == MASK).mean()
    share_same = (masked_ids[used] == out["mask_ids"][used]).mean()
    assert abs(share_mask - 0.85) < 0.02 and abs(share_same - 0.15) < 0.02

    bert = ElectraMasker(
        vocabulary_size=1000, mask_token_id=MASK, mask_token_rate=0.8,
        random_token_rate=0.1, seed=1,
    )
    out = numpy_outputs(bert(data["token_ids"], data["padding_mask"]))
    masked_ids = np.take_along_axis(out["token_ids"], out["mask_positions"], 1)
    share_mask = (masked_ids[used] == MASK).mean()
    share_kept = (masked_ids[used] == out["mask_ids"][used]).mean()
    assert abs(share_mask - 0.8) < 0.02
    assert abs(share_kept - 0.1) < 0.02 + 0.001  # random may hit the original


def test_gumbel_max_matches_the_softmax():
    probabilities = np.array([0.05, 0.15, 0.3, 0.5], "float32")
    logits = np.tile(np.log(probabilities), (20000, 1))
    seed = keras.random.SeedGenerator(7)
    samples = ops.convert_to_numpy(gumbel_max_sample(logits, seed))
    frequencies = np.bincount(samples, minlength=4) / len(samples)
    np.testing.assert_allclose(frequencies, probabilities, atol=0.012)
    # Temperature sharpens, disallowed ids never appear.
    cold = ops.convert_to_numpy(gumbel_max_sample(logits, seed, temperature=0.1))
    assert (cold == 3).mean() > 0.95
    banned = ops.convert_to_numpy(
        gumbel_max_sample(logits, seed, disallowed_ids=np.full(20000, 3))
    )
    assert (banned == 3).sum() == 0


def test_labels_are_original_where_the_sample_equals_the_original():
    # A 6-token vocabulary: only id 5 is a real word, so every sample that
    # is not a special token equals the original.
    rtd = tiny_rtd(vocabulary_size=8, seed=1)
    data = batch(size=16, length=24, vocabulary_size=8, seed=1)
    out = numpy_outputs(rtd(data, training=False))
    pos, used = out["mask_positions"], out["mask_weights"] > 0
    sampled, original = out["sampled_ids"], out["mask_ids"]
    labels_at = np.take_along_axis(out["replaced_labels"], pos, axis=1)
    same = used & (sampled == original)
    different = used & (sampled != original)
    assert same.sum() > 0 and different.sum() > 0
    assert (labels_at[same] == 0).all()
    assert (labels_at[different] == 1).all()
    # Outside the masked positions nothing is replaced.
    outside = np.ones_like(out["replaced_labels"], bool)
    for row in range(len(pos)):
        outside[row, pos[row][used[row]]] = False
    assert out["replaced_labels"][outside].sum() == 0
    np.testing.assert_array_equal(
        out["replaced_labels"],
        (out["corrupted_token_ids"] != data["token_ids"]).astype("int32"),
    )


def test_disallow_correct_replaces_every_masked_token():
    rtd = tiny_rtd(vocabulary_size=8, seed=1, disallow_correct=True)
    data = batch(size=16, length=24, vocabulary_size=8, seed=1)
    out = numpy_outputs(rtd(data, training=False))
    labels = out["replaced_labels"].sum(axis=1)
    np.testing.assert_array_equal(labels, out["mask_weights"].sum(axis=1))


def test_padding_never_contributes():
    rtd = tiny_rtd(seed=5)
    data = batch(size=4, length=24, pad_from=[24, 12, 8, 5])
    y_pred = rtd(data, training=False)
    out = numpy_outputs(y_pred)
    assert (out["replaced_labels"][data["padding_mask"] == 0] == 0).all()
    padding_at = np.take_along_axis(data["padding_mask"], out["mask_positions"], 1)
    assert (padding_at[out["mask_weights"] > 0] == 1).all()
    loss = float(ops.convert_to_numpy(rtd.compute_loss(x=data, y_pred=y_pred)))

    # Same seed, different garbage under the padding: same loss.
    other = tiny_rtd(seed=5)
    other.set_weights(rtd.get_weights())
    noisy = {k: v.copy() for k, v in data.items()}
    noisy["token_ids"][noisy["padding_mask"] == 0] = 17
    noisy_loss = float(
        ops.convert_to_numpy(
            other.compute_loss(x=noisy, y_pred=other(noisy, training=False))
        )
    )
    np.testing.assert_allclose(loss, noisy_loss, rtol=1e-5)


def test_loss_is_the_weighted_sum_of_both_objectives():
    rtd = tiny_rtd(seed=2, discriminator_loss_weight=50.0)
    data = batch(size=4, pad_from=[24, 20, 10, 6])
    out = rtd(data, training=False)
    total = float(ops.convert_to_numpy(rtd.compute_loss(x=data, y_pred=out)))
    o = numpy_outputs(out)
    logits = o["generator_logits"].astype("float64")
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    nll = -np.take_along_axis(logp, o["mask_ids"][..., None], -1)[..., 0]
    w = o["mask_weights"]
    generator_loss = (nll * w).sum() / w.sum()
    z, y = o["discriminator_logits"].astype("float64"), o["replaced_labels"]
    bce = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    pad = data["padding_mask"]
    discriminator_loss = (bce * pad).sum() / pad.sum()
    np.testing.assert_allclose(
        total, generator_loss + 50.0 * discriminator_loss, rtol=1e-4
    )


@pytest.mark.slow
def test_seed_state_advances_and_runs_are_reproducible():
    data = batch(size=16)
    runs = []
    for _ in range(2):
        keras.utils.set_random_seed(123)  # same initial weights
        rtd = tiny_rtd(seed=11)
        rtd.compile(optimizer=keras.optimizers.SGD(0.01))
        state0 = ops.convert_to_numpy(rtd.masker.seed_generator.state).copy()
        rtd.fit(data, batch_size=8, epochs=1, verbose=0)  # 2 steps
        state1 = ops.convert_to_numpy(rtd.masker.seed_generator.state).copy()
        rtd.fit(data, batch_size=8, epochs=1, verbose=0)
        state2 = ops.convert_to_numpy(rtd.masker.seed_generator.state).copy()
        assert not np.array_equal(state0, state1)
        assert not np.array_equal(state1, state2)
        runs.append([w.copy() for w in rtd.get_weights()])
    for a, b in zip(*runs):
        np.testing.assert_allclose(a, b, atol=1e-6)
    # Two calls of one model draw different masks.
    rtd = tiny_rtd(seed=11)
    first = numpy_outputs(rtd(data, training=False))["mask_positions"]
    second = numpy_outputs(rtd(data, training=False))["mask_positions"]
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("generator_loss_weight", [0.0, 1.0])
def test_discriminator_loss_reaches_generator_only_through_embeddings(
    generator_loss_weight,
):
    rtd = tiny_rtd(seed=3, generator_loss_weight=generator_loss_weight)
    rtd.compile(optimizer=keras.optimizers.SGD(0.5))
    data = batch(size=8)
    rtd(data)
    shared = {id(v) for v in rtd.discriminator.trainable_weights}
    generator_only = [
        v for v in rtd.generator.trainable_weights if id(v) not in shared
    ]
    embeddings = rtd.discriminator.backbone.embeddings.token_embedding.embeddings
    assert generator_only and id(embeddings) in shared
    before = [ops.convert_to_numpy(v).copy() for v in generator_only]
    embedding_before = ops.convert_to_numpy(embeddings).copy()
    rtd.fit(data, batch_size=8, epochs=1, verbose=0)
    after = [ops.convert_to_numpy(v) for v in generator_only]
    moved = [not np.array_equal(a, b) for a, b in zip(before, after)]
    if generator_loss_weight == 0.0:
        assert not any(moved), [v.path for v, m in zip(generator_only, moved) if m]
    else:
        assert all(moved)
    assert not np.array_equal(embedding_before, ops.convert_to_numpy(embeddings))


def test_tied_embeddings_are_shared_and_untied_are_not():
    tied = tiny_rtd()
    assert tied.generator.backbone.embeddings is tied.discriminator.backbone.embeddings
    untied = tiny_rtd(tie_embeddings=False)
    assert (
        untied.generator.backbone.embeddings
        is not untied.discriminator.backbone.embeddings
    )
    n_tied = len(tied.trainable_weights)
    assert len(untied.trainable_weights) == n_tied + 5  # 3 tables + LayerNorm


@pytest.mark.parametrize("jit_compile", [False, True])
def test_fit_logs_every_metric_and_loss_falls(jit_compile):
    if keras.config.backend() == "torch" and jit_compile:
        pytest.skip("torch jit_compile (torch.compile) is not used on CPU")
    if keras.config.backend() == "jax" and not jit_compile:
        # Op-by-op JAX dispatch cost 93 s of the JAX suite for a path JAX
        # users do not train on; test_jax_data_parallel_trains still runs
        # eager JAX steps.
        pytest.skip("JAX trains jitted; eager steps: test_distribution")
    rtd = tiny_rtd(seed=0)
    rtd.compile(
        learning_rate=2e-3, warmup_steps=5, train_steps=200,
        jit_compile=jit_compile,
    )
    # Repetitive data: the generator and discriminator can both learn it.
    data = batch(size=64, vocabulary_size=12)
    history = rtd.fit(data, batch_size=16, epochs=6, verbose=0).history
    expected = {
        "loss", "generator_loss", "generator_accuracy", "discriminator_loss",
        "discriminator_accuracy", "discriminator_precision",
        "discriminator_recall", "discriminator_auc", "replaced_fraction",
    }
    assert expected <= set(history)
    assert history["loss"][-1] < 0.8 * history["loss"][0]
    assert history["generator_loss"][-1] < history["generator_loss"][0]
    assert all(np.isfinite(v) for v in history["loss"])
    logs = rtd.evaluate(data, batch_size=16, verbose=0, return_dict=True)
    assert 0.0 < logs["replaced_fraction"] < 0.2


def test_compile_builds_the_optimizer_so_the_step_traces_once():
    # Optimizer slots created inside the first traced step make TensorFlow
    # trace the whole step a second time.
    rtd = tiny_rtd(seed=0)
    rtd.compile(learning_rate=1e-3, warmup_steps=1, train_steps=10)
    assert rtd.optimizer.built
    slots = {id(v) for v in rtd.optimizer.variables}
    assert len(slots) > 2 * len(rtd.trainable_variables)  # + iterations
    rtd.train_on_batch(batch())
    assert {id(v) for v in rtd.optimizer.variables} == slots
    if keras.config.backend() == "tensorflow":
        # Keras keeps its one-step `tf.function` (behind a functools.wraps
        # wrapper) in the train function's closure.
        functions = [
            getattr(cell.cell_contents, "__wrapped__", cell.cell_contents)
            for cell in rtd.train_function.__closure__
        ]
        counts = [
            fn.experimental_get_tracing_count() for fn in functions
            if hasattr(fn, "experimental_get_tracing_count")
        ]
        assert max(counts, default=0) == 1, counts


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_trains_without_nans(policy):
    if policy == "mixed_float16" and keras.config.backend() == "jax":
        import jax

        if jax.default_backend() == "cpu":
            pytest.skip(
                "XLA:CPU has no float16 dot_general with float32 accumulation"
                " (keras.layers.MultiHeadAttention fails the same way)"
            )
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        rtd = tiny_rtd(seed=0)
        rtd.compile(learning_rate=1e-3, warmup_steps=2, train_steps=50)
        if policy == "mixed_float16":
            assert isinstance(rtd.optimizer, keras.optimizers.LossScaleOptimizer)
        history = rtd.fit(batch(size=16), batch_size=8, epochs=2, verbose=0)
    finally:
        keras.config.set_dtype_policy(previous)
    for values in history.history.values():
        assert np.all(np.isfinite(values))


def test_sentence_order_prediction_option():
    ids = np.array([[CLS, 10, 11, SEP, 20, SEP, PAD], [CLS, 10, 11, 12, SEP, PAD, PAD]])
    seg = np.array([[0, 0, 0, 0, 1, 1, 0], [0, 0, 0, 0, 0, 0, 0]])
    pad = (ids > 0).astype("int32")
    new_ids, new_seg, labels = swap_segments(ids, seg, pad, np.array([True, True]))
    np.testing.assert_array_equal(
        ops.convert_to_numpy(new_ids),
        [[CLS, 20, SEP, 10, 11, SEP, PAD], [CLS, 10, 11, 12, SEP, PAD, PAD]],
    )
    np.testing.assert_array_equal(
        ops.convert_to_numpy(new_seg), [[0, 0, 0, 1, 1, 1, 0], [0] * 7]
    )
    np.testing.assert_array_equal(ops.convert_to_numpy(labels), [1, 0])

    rtd = tiny_rtd(seed=0, sentence_order_loss_weight=1.0)
    rtd.compile(learning_rate=1e-3, warmup_steps=2, train_steps=50)
    data = batch(size=16)
    data["segment_ids"][:, 12:] = 1
    history = rtd.fit(data, batch_size=8, epochs=2, verbose=0).history
    assert "sentence_order_loss" in history and "sentence_order_accuracy" in history
    assert np.isfinite(history["sentence_order_loss"]).all()


def test_save_and_reload_keeps_tie_weights_and_optimizer(tmp_path):
    rtd = tiny_rtd(seed=0)
    rtd.compile(learning_rate=1e-3, warmup_steps=2, train_steps=50)
    data = batch(size=8)
    rtd.fit(data, batch_size=8, epochs=1, verbose=0)
    path = str(tmp_path / "rtd.keras")
    rtd.save(path)
    restored = keras.saving.load_model(path)
    assert (
        restored.generator.backbone.embeddings
        is restored.discriminator.backbone.embeddings
    )
    for a, b in zip(rtd.get_weights(), restored.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(restored.optimizer.iterations) == 1
    np.testing.assert_allclose(
        restored.discriminator.predict(data, verbose=0),
        rtd.discriminator.predict(data, verbose=0),
        atol=1e-6,
    )
    # The discriminator ships on its own.
    rtd.discriminator.save_to_preset(str(tmp_path / "disc"))
    alone = ElectraDiscriminator.from_preset(str(tmp_path / "disc"))
    np.testing.assert_allclose(
        alone.predict(data, verbose=0),
        rtd.discriminator.predict(data, verbose=0),
        atol=1e-6,
    )
    config = rtd.get_config()
    assert ReplacedTokenDetector.from_config(config).get_config() == config


def test_bad_configuration_errors():
    discriminator = ElectraDiscriminator(
        ElectraBackbone(64, 1, 1, 16, 32, max_sequence_length=32)
    )
    generator = ElectraGenerator(
        ElectraBackbone(65, 1, 1, 16, 32, max_sequence_length=32)
    )
    with pytest.raises(ValueError, match="vocabulary_size=65"):
        ReplacedTokenDetector(generator, discriminator)
    rtd = tiny_rtd()
    with pytest.raises(ValueError, match="computes its own loss"):
        rtd.compile(loss="mse")
    with pytest.raises(ValueError, match="received 99"):
        rtd({**batch(), "token_ids": np.full((2, 8), 99)})
