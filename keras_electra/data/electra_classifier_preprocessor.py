"""Text (or text pair) -> packed ELECTRA inputs for classification."""

import keras
import keras_hub
import tensorflow as tf

from keras_electra.api_export import keras_electra_export
from keras_electra.keras_workarounds import preprocessing_function

TRUNCATE_OPTIONS = ("round_robin", "waterfall")


@keras_electra_export
class ElectraClassifierPreprocessor(
    keras_hub.models.TextClassifierPreprocessor
):
    """Tokenize and pack one or two segments for `ElectraClassifier`.

    Single texts become `[CLS] A [SEP]`, pairs `[CLS] A [SEP] B [SEP]`,
    padded with `[PAD]` to `sequence_length` (`keras_hub.layers.
    MultiSegmentPacker`). Too long pairs are cut with `truncate`:
    `"round_robin"` removes one token at a time from the longer segment,
    `"waterfall"` cuts the last segment first.

    Pairs are a tuple of two string tensors: in `tf.data` map over elements
    `((first, second), label)`; called directly, write
    `pre((first, second), labels)` or `pre(x=(first, second))`.

    Returns `(x, y, sample_weight)` packed with
    `keras.utils.pack_x_y_sample_weight` (so just `x` when `y` and
    `sample_weight` are `None`), where `x` is a dict of int32 `token_ids`,
    `segment_ids` and `padding_mask` (1 = real token). Works on a single
    string, a batch, or inside `tf.data.Dataset.map`.

    Args:
        tokenizer: `ElectraTokenizer`.
        sequence_length: int. Defaults to `128`.
        truncate: str. `"round_robin"` or `"waterfall"`. Defaults to
            `"round_robin"`.

    Example:
    ```python
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "good",
             "film", "bad"]
    pre = ElectraClassifierPreprocessor(ElectraTokenizer(vocab),
                                        sequence_length=8)
    x, y = pre(["a good film", "bad"], [1, 0])
    # x["token_ids"][0] == [2, 5, 6, 7, 3, 0, 0, 0]
    # A pair (pass it as `x=`: a bare 2-tuple would be read as `(x, y)`).
    x = pre(x=("a film", "bad"))  # segment_ids [0, 0, 0, 0, 1, 1, 0, 0]
    ```
    """

    def __init__(
        self,
        tokenizer,
        sequence_length=128,
        truncate="round_robin",
        **kwargs,
    ):
        if truncate not in TRUNCATE_OPTIONS:
            raise ValueError(
                f"`truncate` must be one of {TRUNCATE_OPTIONS}. Received: "
                f"truncate={truncate!r}"
            )
        super().__init__(
            tokenizer=tokenizer,
            sequence_length=sequence_length,
            truncate=truncate,
            **kwargs,
        )

    def build(self, input_shape):
        self.packer = keras_hub.layers.MultiSegmentPacker(
            start_value=self.tokenizer.cls_token_id,
            end_value=self.tokenizer.sep_token_id,
            pad_value=self.tokenizer.pad_token_id,
            truncate=self.truncate,
            sequence_length=self.sequence_length,
            _allow_python_workflow=False,
        )
        self.built = True

    @preprocessing_function
    def call(self, x, y=None, sample_weight=None):
        x = x if isinstance(x, tuple) else (x,)
        if len(x) > 2:
            raise ValueError(
                "ElectraClassifierPreprocessor takes one or two segments. "
                f"Received {len(x)}."
            )
        segments = tuple(self.tokenizer(segment) for segment in x)
        token_ids, segment_ids = self.packer(segments)
        x = {
            "token_ids": tf.cast(token_ids, "int32"),
            "segment_ids": tf.cast(segment_ids, "int32"),
            "padding_mask": tf.cast(
                token_ids != self.tokenizer.pad_token_id, "int32"
            ),
        }
        return keras.utils.pack_x_y_sample_weight(x, y, sample_weight)
