"""Random ops with a faster path on one backend than `keras.random`'s.

Model code uses `keras.ops` only; this module holds the one place where a
backend's own API is measurably faster for the same result, so that the
backend import stays out of `keras_electra.layers` and `models`.

On JAX, `keras.random.dropout` draws its mask with `jax.random.bernoulli`,
whose threefry generator XLA on CPU runs as generic element-wise loops: in an
ELECTRA-Small training step (batch 32 x 128) the masks took ~1 s of ~3.4 s.
XLA's own random-bit generator (`jax.lax.rng_bit_generator`, the same
threefry-2x32 counter-based algorithm, compiled as one kernel) draws the same
amount of bits about 8 times faster (`benchmarks/RESULTS.md`). The masks
differ bit for bit from `keras.random.dropout`'s, with the same distribution
and the same determinism: the same seed gives the same mask.
"""

import keras

_THRESHOLD_SCALE = 2**32


def dropout(inputs, rate, seed):
    """Inverted dropout: zero each entry with probability `rate`.

    The kept entries are scaled by `1 / (1 - rate)`, as in
    `keras.random.dropout`, which this is on every backend but JAX. On JAX
    the mask comes from `jax.lax.rng_bit_generator` (threefry), keyed by the
    next state of `seed`: the same `keras.random.SeedGenerator` state gives
    the same mask, and each call advances the generator as Keras' dropout
    does.

    Args:
        inputs: tensor.
        rate: float in `[0, 1]`. The probability to drop an entry.
        seed: `keras.random.SeedGenerator` (or, on backends other than JAX,
            anything `keras.random.dropout` takes as a seed).

    Returns:
        A tensor of the shape and dtype of `inputs`.

    Example:
    ```python
    import keras
    import numpy as np
    from keras_electra.random_ops import dropout
    seed = keras.random.SeedGenerator(1)
    y = keras.ops.convert_to_numpy(dropout(np.ones((100, 100)), 0.1, seed))
    assert 0.85 < (y > 0).mean() < 0.95
    assert np.allclose(y[y > 0], 1 / 0.9)
    ```
    """
    rate = float(rate)
    if (
        keras.config.backend() != "jax"
        or rate <= 0.0
        or rate >= 1.0
        or not isinstance(seed, keras.random.SeedGenerator)
    ):
        return keras.random.dropout(inputs, rate, seed=seed)
    import jax

    keep = 1.0 - rate
    state = jax.numpy.asarray(seed.next(), dtype="uint32")
    key = jax.numpy.concatenate([state, jax.numpy.zeros((2,), "uint32")])
    _, bits = jax.lax.rng_bit_generator(
        key,
        jax.numpy.shape(inputs),
        dtype="uint32",
        algorithm=jax.lax.RandomAlgorithm.RNG_THREE_FRY,
    )
    # P(bits < threshold) = threshold / 2**32 = keep, to 2**-32.
    threshold = min(round(keep * _THRESHOLD_SCALE), _THRESHOLD_SCALE - 1)
    inputs = jax.numpy.asarray(inputs)
    return jax.lax.select(
        bits < jax.numpy.uint32(threshold),
        inputs / jax.numpy.asarray(keep, inputs.dtype),
        jax.numpy.zeros_like(inputs),
    )
