"""Raw task inputs (strings, pairs, word lists) as shuffled `tf.data` batches.

The tasks' `fit()` sends in-memory inputs that hold strings here, then
through their preprocessor (keras-hub's `Task` machinery); see
`keras_electra.models.raw_inputs` for how string data is recognized.
"""

import keras
import numpy as np


def _slice(value):
    import tensorflow as tf

    if isinstance(value, (tf.Tensor, tf.RaggedTensor)):
        return value
    if isinstance(value, (list, tuple)) and value and isinstance(
        value[0], (list, tuple, np.ndarray)
    ):
        lengths = {len(v) for v in value}
        if len(lengths) > 1:  # words per sentence, tags per sentence
            return tf.ragged.constant([list(v) for v in value])
    return tf.convert_to_tensor(np.asarray(value))


def _slice_part(part):
    # A `(first, second)` pair of segments stays a tuple of two tensors.
    if isinstance(part, tuple):
        return tuple(_slice(v) for v in part)
    return _slice(part)


def _count(data):
    first = keras.tree.flatten(data)[0]
    return int(first.shape[0])


def raw_dataset(x, y=None, sample_weight=None, batch_size=None,
                shuffle=True, validation_split=0.0):
    """Batch raw inputs (and labels) as `tf.data`, shuffled each epoch.

    Args:
        x: strings, a `(first, second)` tuple of string lists (pairs), or a
            list of word lists (token classification).
        y: labels, or `None`.
        sample_weight: weights, or `None`.
        batch_size: int. Defaults to `32`.
        shuffle: bool. Reshuffle the training examples every epoch (seeded
            by `keras.utils.set_random_seed`). Defaults to `True`.
        validation_split: float. Keep the last fraction of the examples (as
            Keras does, before shuffling) as a validation dataset; the
            function then returns `(train, validation)`.

    Example:
    ```python
    ds = raw_dataset(["a fine film", "a dull film"], [1, 0], batch_size=2)
    texts, labels = next(iter(ds))
    ```
    """
    import tensorflow as tf

    data = keras.utils.pack_x_y_sample_weight(x, y, sample_weight)
    if isinstance(data, tuple):
        structure = tuple(_slice_part(part) for part in data)
    else:
        structure = _slice(data)
    count = _count(structure)
    ds = tf.data.Dataset.from_tensor_slices(structure)
    batch_size = batch_size or 32
    validation = None
    if validation_split:
        num_validation = int(count * validation_split)
        if not 0 < num_validation < count:
            raise ValueError(
                f"validation_split={validation_split} of {count} examples "
                "leaves no training or no validation examples."
            )
        count -= num_validation
        validation = ds.skip(count).batch(batch_size)
        ds = ds.take(count)
    if shuffle:
        ds = ds.shuffle(count, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    return (ds, validation) if validation_split else ds


def packed_text_batches(x, preprocessor, batch_size=None, shuffle=True,
                        validation_split=0.0):
    """Texts (or pairs, or a dataset of them) as batches of token ids.

    The pre-training models' raw-text path: `raw_dataset` batches
    in-memory texts (a `tf.data.Dataset` is used as given), then
    `preprocessor` packs every batch in `tf.data`.

    Returns:
        `(train, validation)`; `validation` is `None` without
        `validation_split`.

    Example:
    ```python
    from keras_electra.data import ElectraPretrainingPreprocessor
    from keras_electra.data import ElectraTokenizer
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "film"]
    pre = ElectraPretrainingPreprocessor(ElectraTokenizer(vocab),
                                         sequence_length=8)
    train, _ = packed_text_batches(["a film", "film"], pre, batch_size=2)
    assert next(iter(train))["token_ids"].shape == (2, 8)
    ```
    """
    import tensorflow as tf

    validation = None
    if not isinstance(x, tf.data.Dataset):
        x = raw_dataset(x, batch_size=batch_size, shuffle=shuffle,
                        validation_split=validation_split)
        if validation_split:
            x, validation = x

    def prepare(ds):
        # A 1-tuple holds texts (or a pair); two tensors are a pair, passed
        # as `x=` (keras-hub reads a bare 2-tuple as `(x, y)`).
        ds = ds.map(
            lambda *data: preprocessor(x=data[0] if len(data) == 1 else data),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
        return ds.prefetch(tf.data.AUTOTUNE)

    return prepare(x), None if validation is None else prepare(validation)
