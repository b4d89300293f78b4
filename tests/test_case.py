"""Shared test helpers: tiny models, inputs and `run_*_test` checks."""

import json
import os

import keras
import numpy as np

from keras_electra.models import ElectraBackbone


def to_numpy(x):
    """Convert a backend tensor (or a dict of them) to NumPy."""
    if isinstance(x, dict):
        return {k: to_numpy(v) for k, v in x.items()}
    return keras.ops.convert_to_numpy(x)


def tiny_backbone(**kwargs):
    """A 2-layer, 32-wide backbone with 16-wide embeddings, no dropout."""
    config = dict(
        vocabulary_size=100,
        num_layers=2,
        num_heads=2,
        hidden_dim=32,
        intermediate_dim=64,
        embedding_dim=16,
        max_sequence_length=32,
        dropout=0.0,
    )
    config.update(kwargs)
    return ElectraBackbone(**config)


def tiny_inputs(batch_size=2, length=10, vocabulary_size=100, seed=0,
                pad=True):
    """Random token ids with two segments and (optionally) padding."""
    rng = np.random.default_rng(seed)
    token_ids = rng.integers(5, vocabulary_size, (batch_size, length))
    segment_ids = np.zeros((batch_size, length), "int32")
    segment_ids[:, length // 2:] = 1
    padding_mask = np.ones((batch_size, length), "int32")
    if pad:
        padding_mask[-1, length - 3:] = 0
        token_ids[-1, length - 3:] = 0
        segment_ids[-1, length - 3:] = 0
    return {
        "token_ids": token_ids.astype("int32"),
        "segment_ids": segment_ids,
        "padding_mask": padding_mask,
    }


def short_pretraining_run(output_dir, steps=6, **kwargs):
    """`workflows.run_pretraining` on the bundled corpus, 4 x 32, quiet."""
    from keras_electra import workflows
    from keras_electra.data import bundled_corpus_files
    from keras_electra.data import bundled_vocabulary_file

    config = dict(
        vocabulary=bundled_vocabulary_file(), steps=steps, batch_size=4,
        sequence_length=32, backup_every=steps, shuffle_buffer=50, verbose=0,
    )
    config.update(kwargs)
    return workflows.run_pretraining(
        bundled_corpus_files(), str(output_dir), **config
    )


class ElectraTestCase:
    """Mixin with the checks every model of the package must pass."""

    def run_serialization_test(self, model):
        """get_config -> from_config -> get_config must be identical JSON."""
        config = model.get_config()
        restored = type(model).from_config(json.loads(json.dumps(config)))
        original = json.dumps(
            keras.saving.serialize_keras_object(model), sort_keys=True
        )
        again = json.dumps(
            keras.saving.serialize_keras_object(restored), sort_keys=True
        )
        assert original == again
        # `from_config` must not mutate its argument.
        assert json.dumps(model.get_config(), sort_keys=True) == json.dumps(
            config, sort_keys=True
        )
        return restored

    def run_model_saving_test(self, model, inputs, tmp_path, atol=1e-6):
        """A `.keras` round trip reloads the same class with equal outputs."""
        path = os.path.join(str(tmp_path), "model.keras")
        expected = to_numpy(model(inputs))
        model.save(path)
        restored = keras.saving.load_model(path)
        assert type(restored) is type(model)
        actual = to_numpy(restored(inputs))
        if isinstance(expected, dict):
            for key in expected:
                np.testing.assert_allclose(actual[key], expected[key],
                                           atol=atol)
        else:
            np.testing.assert_allclose(actual, expected, atol=atol)
        return restored

    def run_fit_test(self, model, x, y, loss, steps=8, learning_rate=1e-2):
        """Fit on arrays and on a tf.data pipeline; the loss must fall.

        Returns the per-epoch losses of both runs.
        """
        import tensorflow as tf

        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate), loss=loss
        )
        batch_size = len(y)
        history = model.fit(
            x, y, batch_size=batch_size, epochs=steps, verbose=0,
            shuffle=False,
        )
        array_losses = history.history["loss"]
        assert np.all(np.isfinite(array_losses))
        assert array_losses[-1] < 0.8 * array_losses[0], array_losses
        dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)
        history = model.fit(dataset, epochs=steps, verbose=0, shuffle=False)
        dataset_losses = history.history["loss"]
        assert np.all(np.isfinite(dataset_losses))
        # Training continues from the array run: keep falling.
        assert dataset_losses[-1] < array_losses[-1], dataset_losses
        return array_losses, dataset_losses

    def run_precision_test(self, build, inputs, policy, atol):
        """Under a mixed policy, outputs are finite and close to float32.

        `build()` must return a fresh model; the float32 model's weights are
        copied into the mixed one. The global policy is restored.
        """
        reference_model = build()
        expected = to_numpy(reference_model(inputs)).astype("float32")
        previous = keras.config.dtype_policy()
        try:
            keras.config.set_dtype_policy(policy)
            model = build()
            model.set_weights(reference_model.get_weights())
            outputs = model(inputs)
            compute_dtype = keras.mixed_precision.DTypePolicy(
                policy
            ).compute_dtype
            assert keras.backend.standardize_dtype(outputs.dtype) == (
                compute_dtype
            )
            assert all(
                keras.backend.standardize_dtype(w.dtype) == "float32"
                for w in model.weights
            )
            actual = to_numpy(outputs).astype("float32")
        finally:
            keras.config.set_dtype_policy(previous)
        assert np.all(np.isfinite(actual))
        np.testing.assert_allclose(actual, expected, atol=atol)
        return actual
