"""Words + per-word labels -> word pieces with labels on first pieces."""

import keras
import keras_hub
import tensorflow as tf

from keras_electra.api_export import keras_electra_export
from keras_electra.keras_workarounds import preprocessing_function

IGNORE_INDEX = -100


def _to_ragged(values, dtype):
    if isinstance(values, tf.RaggedTensor):
        return values
    if isinstance(values, (list, tuple)):
        return tf.ragged.constant(values, dtype=dtype)
    return tf.RaggedTensor.from_tensor(tf.cast(values, dtype))


@keras_electra_export
class ElectraTokenClassifierPreprocessor(keras_hub.models.Preprocessor):
    """Pre-split words (and word labels) to packed ELECTRA inputs.

    Each word is tokenized into word pieces; the word's label goes on its
    first piece and every other position (later pieces, `[CLS]`, `[SEP]`,
    padding) gets label `-100` and sample weight 0. Pieces beyond
    `sequence_length - 2` are cut. Use a loss that ignores `-100`
    (`keras.losses.SparseCategoricalCrossentropy(ignore_class=-100)`) or rely
    on the sample weights. A word that yields no piece (e.g. only control
    characters) has no position and so no label.

    Input: a batch of word lists (list of lists of str, or a ragged string
    tensor `[batch, (words)]`), or one word list (a rank-1 string tensor, as
    in `tf.data.Dataset.map` over unbatched examples). Labels: same shape,
    integers.

    Returns `(x, y, sample_weight)`: `x` a dict of int32 `token_ids`,
    `segment_ids` (all 0) and `padding_mask`; `y` int32 labels; `sample_weight`
    float32, 1 where the label counts.

    Args:
        tokenizer: `ElectraTokenizer`.
        sequence_length: int. Defaults to `128`.

    Example:
    ```python
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "new", "york",
             "is", "big", "##ger"]
    pre = ElectraTokenClassifierPreprocessor(ElectraTokenizer(vocab),
                                             sequence_length=8)
    x, y, w = pre([["New", "York", "is", "bigger"]], [[1, 2, 0, 0]])
    # x["token_ids"][0] == [2, 5, 6, 7, 8, 9, 3, 0]
    # y[0] == [-100, 1, 2, 0, 0, -100, -100, -100]
    ```
    """

    def __init__(self, tokenizer, sequence_length=128, **kwargs):
        super().__init__(**kwargs)
        self.tokenizer = tokenizer
        self.sequence_length = sequence_length
        self.packer = keras_hub.layers.StartEndPacker(
            sequence_length=sequence_length,
            start_value=tokenizer.cls_token_id,
            end_value=tokenizer.sep_token_id,
            pad_value=tokenizer.pad_token_id,
            return_padding_mask=True,
            _allow_python_workflow=False,
        )
        self.label_packer = keras_hub.layers.StartEndPacker(
            sequence_length=sequence_length,
            start_value=IGNORE_INDEX,
            end_value=IGNORE_INDEX,
            pad_value=IGNORE_INDEX,
            _allow_python_workflow=False,
        )

    def build(self, input_shape):
        self.built = True

    @preprocessing_function
    def call(self, x, y=None, sample_weight=None):
        if sample_weight is not None:
            raise ValueError(
                "ElectraTokenClassifierPreprocessor computes sample weights "
                "from the labels; pass `sample_weight=None`. Received: "
                f"{sample_weight}"
            )
        if isinstance(x, (list, tuple)):
            x = _to_ragged(x, tf.string)
        if isinstance(y, (list, tuple)):
            y = _to_ragged(y, tf.int32)
        return self._pack(x, y)

    def _pack(self, x, y=None):
        unbatched = (
            not isinstance(x, (list, tuple, tf.RaggedTensor))
            and tf.convert_to_tensor(x).shape.rank == 1
        )
        if unbatched:
            words = tf.RaggedTensor.from_tensor(
                tf.convert_to_tensor(x, tf.string)[tf.newaxis]
            )
        else:
            words = _to_ragged(x, tf.string)
        # [total_words, (pieces)]
        pieces = self.tokenizer.tokenize(words.flat_values)
        pieces = tf.cast(pieces, tf.int32)
        # [batch, (pieces)] with the word structure folded away.
        per_word = tf.RaggedTensor.from_row_splits(
            pieces, words.row_splits, validate=False
        )
        token_ids = per_word.merge_dims(1, 2)
        # Cut to leave room for [CLS] and [SEP].
        token_ids = token_ids[:, : self.sequence_length - 2]
        token_ids, padding_mask = self.packer(token_ids)
        x_out = {
            "token_ids": token_ids,
            "segment_ids": tf.zeros_like(token_ids),
            "padding_mask": tf.cast(padding_mask, tf.int32),
        }
        if y is None:
            if unbatched:
                x_out = {k: v[0] for k, v in x_out.items()}
            return x_out
        if unbatched:
            labels = tf.RaggedTensor.from_tensor(
                tf.cast(y, tf.int32)[tf.newaxis]
            )
        else:
            labels = _to_ragged(y, tf.int32)
        labels = tf.cast(labels.flat_values, tf.int32)
        word_of_piece = pieces.value_rowids()
        first = tf.equal(
            tf.range(tf.shape(pieces.flat_values, out_type=tf.int64)[0]),
            tf.gather(pieces.row_splits, word_of_piece),
        )
        piece_labels = tf.where(
            first, tf.gather(labels, word_of_piece), IGNORE_INDEX
        )
        piece_labels = tf.RaggedTensor.from_row_splits(
            tf.RaggedTensor.from_row_splits(
                piece_labels, pieces.row_splits, validate=False
            ),
            words.row_splits,
            validate=False,
        ).merge_dims(1, 2)
        piece_labels = piece_labels[:, : self.sequence_length - 2]
        y_out = self.label_packer(piece_labels)
        weights = tf.cast(tf.not_equal(y_out, IGNORE_INDEX), tf.float32)
        if unbatched:
            x_out = {k: v[0] for k, v in x_out.items()}
            y_out, weights = y_out[0], weights[0]
        return keras.utils.pack_x_y_sample_weight(x_out, y_out, weights)

    def get_config(self):
        config = super().get_config()
        config.update({"sequence_length": self.sequence_length})
        return config
