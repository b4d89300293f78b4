"""WordPiece tokenizer with ELECTRA's (BERT's) special tokens."""

import os

import keras_hub
from keras.src.saving import serialization_lib

from keras_electra.api_export import keras_electra_export

PAD, UNK, CLS, SEP, MASK = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
# BERT order: the ids a freshly trained vocabulary gets.
SPECIAL_TOKENS = (PAD, UNK, CLS, SEP, MASK)
VOCAB_FILENAME = "vocabulary.txt"


@keras_electra_export
class ElectraTokenizer(keras_hub.tokenizers.WordPieceTokenizer):
    """WordPiece tokenizer for ELECTRA.

    A `keras_hub.tokenizers.WordPieceTokenizer` (tf-text
    `FastWordpieceTokenizer` underneath) that requires the five special
    tokens `[PAD]`, `[UNK]`, `[CLS]`, `[SEP]` and `[MASK]` and exposes their
    ids. Ids are exactly the line numbers of the vocabulary: a vocabulary
    trained with `train_vocabulary` starts with `[PAD]=0, [UNK]=1, [CLS]=2,
    [SEP]=3, [MASK]=4`; a Hugging Face BERT/ELECTRA `vocab.txt` keeps its own
    `[PAD]=0, [UNK]=100, [CLS]=101, [SEP]=102, [MASK]=103`.

    Called on a string it returns a dense int32 vector; on a batch, a
    `tf.RaggedTensor`. It is a Keras preprocessing layer, so it can be used in
    `tf.data.Dataset.map`.

    Args:
        vocabulary: list of str, or str. The word pieces, or the path of a
            `vocab.txt` with one word piece a line.
        lowercase: bool. Lowercase the input first. Defaults to `True`.
        strip_accents: bool. Remove accents (after NFD normalisation).
            Defaults to `True` (the ELECTRA defaults for uncased models).
        sequence_length: int or None. If set, pad or cut the output to this
            length. Defaults to `None`.
        **kwargs: passed to `keras_hub.tokenizers.WordPieceTokenizer`.

    Example:
    ```python
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
             "the", "quick", "brown", "fox", "jump", "##ed", "."]
    tokenizer = ElectraTokenizer(vocabulary=vocab)
    tokenizer("The quick brown fox jumped.")  # [5, 6, 7, 8, 9, 10, 11]
    tokenizer.mask_token_id  # 4
    ```

    Reference: Clark et al., ELECTRA, https://arxiv.org/abs/2003.10555
    """

    def __init__(
        self,
        vocabulary=None,
        lowercase=True,
        strip_accents=True,
        sequence_length=None,
        **kwargs,
    ):
        self._add_special_token(PAD, "pad_token")
        self._add_special_token(UNK, "unk_token")
        self._add_special_token(CLS, "cls_token")
        self._add_special_token(SEP, "sep_token")
        self._add_special_token(MASK, "mask_token")
        # Aliases that keras-hub preprocessors look for.
        self._add_special_token(CLS, "start_token")
        self._add_special_token(SEP, "end_token")
        kwargs.setdefault("oov_token", UNK)
        # Eager calls run tf-text too (not keras-hub's pure-Python WordPiece):
        # faster on batches, and the same code path as inside tf.data.
        kwargs.setdefault("_allow_python_workflow", False)
        super().__init__(
            vocabulary=vocabulary,
            lowercase=lowercase,
            strip_accents=strip_accents,
            sequence_length=sequence_length,
            **kwargs,
        )

    def set_vocabulary(self, vocabulary):
        """Set the vocabulary (a list or a file path); check special tokens."""
        if vocabulary is not None:
            source = "the vocabulary list"
            tokens = vocabulary
            if isinstance(vocabulary, (str, os.PathLike)):
                vocabulary = os.fspath(vocabulary)
                source = f"the vocabulary file '{vocabulary}'"
                if serialization_lib.in_safe_mode():
                    raise ValueError(
                        "Loading a vocabulary file from outside the model "
                        "archive is disallowed in safe mode. Pass "
                        "`safe_mode=False` if you trust it. Vocabulary file: "
                        f"'{vocabulary}'"
                    )
                if not os.path.isfile(vocabulary):
                    raise FileNotFoundError(
                        f"No such vocabulary file: '{vocabulary}'"
                    )
                with open(vocabulary, encoding="utf-8") as f:
                    tokens = [line.rstrip("\r\n") for line in f]
                    # keras-hub strips trailing whitespace too; keep in step.
                    tokens = [t.rstrip() for t in tokens]
                vocabulary = tokens
            tokens = list(tokens)
            missing = [t for t in SPECIAL_TOKENS if t not in set(tokens)]
            if missing:
                raise ValueError(
                    f"ElectraTokenizer: {source} lacks the special token(s) "
                    f"{', '.join(missing)}. It must contain all of "
                    f"{', '.join(SPECIAL_TOKENS)}. Received "
                    f"{len(tokens)} tokens starting with {tokens[:5]}."
                )
            seen, duplicates = set(), []
            for t in tokens:
                if t in seen:
                    duplicates.append(t)
                seen.add(t)
            if duplicates:
                raise ValueError(
                    f"ElectraTokenizer: {source} repeats token(s) "
                    f"{duplicates[:10]}; every token must be unique."
                )
            vocabulary = tokens
        super().set_vocabulary(vocabulary)

    @property
    def vocabulary_size(self):
        """Number of word pieces in the vocabulary (an int)."""
        self._check_vocabulary()
        return len(self.vocabulary)

    def id_to_token(self, id):
        """Convert an integer id to its word piece."""
        self._check_vocabulary()
        if id >= len(self.vocabulary) or id < 0:
            raise ValueError(
                f"`id` must be in range [0, {len(self.vocabulary) - 1}]. "
                f"Received: {id}"
            )
        return self.vocabulary[id]

    def save_vocabulary(self, path):
        """Write the vocabulary to `path`, one word piece a line (vocab.txt).

        Returns the path written.
        """
        self._check_vocabulary()
        path = os.fspath(path)
        if os.path.isdir(path):
            path = os.path.join(path, "vocab.txt")
        with open(path, "w", encoding="utf-8") as f:
            for token in self.vocabulary:
                f.write(token + "\n")
        return path
