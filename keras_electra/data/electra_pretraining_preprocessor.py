"""Raw text -> packed, unmasked ELECTRA inputs for pre-training."""

from keras_electra.api_export import keras_electra_export
from keras_electra.data.electra_classifier_preprocessor import (
    ElectraClassifierPreprocessor,
)


@keras_electra_export
class ElectraPretrainingPreprocessor(ElectraClassifierPreprocessor):
    """Pack texts (or text pairs) for `ReplacedTokenDetector.fit(texts)`.

    Each text becomes one example `[CLS] text [SEP]` (a pair `[CLS] A [SEP]
    B [SEP]`, for sentence-order prediction), cut and padded to
    `sequence_length`. Masking is not done here: the pre-training models
    mask inside the step (`ElectraMasker`), so every epoch sees new masks.
    Labels are refused: pre-training is self-supervised.

    One text per example leaves short texts mostly padding; for a corpus,
    `keras_electra.data.pretraining_dataset` packs consecutive sentences of
    text files into full blocks as the original code does.

    Args:
        tokenizer: `ElectraTokenizer`.
        sequence_length: int. Defaults to `128`.
        truncate: str. `"round_robin"` or `"waterfall"` for pairs.
            Defaults to `"round_robin"`.

    Example:
    ```python
    from keras_electra.data import ElectraTokenizer
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "good",
             "film"]
    pre = ElectraPretrainingPreprocessor(ElectraTokenizer(vocab),
                                         sequence_length=6)
    x = pre(["a good film"])
    # x["token_ids"][0] == [2, 5, 6, 7, 3, 0]
    ```
    """

    def call(self, x, y=None, sample_weight=None):
        if y is not None or sample_weight is not None:
            raise ValueError(
                "Pre-training is self-supervised: pass texts only (no `y` "
                "or `sample_weight`)."
            )
        return super().call(x)
