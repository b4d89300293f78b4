"""WordPiece tokenizer with ELECTRA's (BERT's) special tokens."""

import os

import keras_hub

from keras_electra.api_export import keras_electra_export
from keras_electra.keras_workarounds import in_safe_mode
from keras_electra.keras_workarounds import preprocessing_function
from keras_electra.keras_workarounds import register_special_token
from keras_electra.keras_workarounds import string_lists_as_tensors

PAD, UNK, CLS, SEP, MASK = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
# BERT order: the ids a freshly trained vocabulary gets.
SPECIAL_TOKENS = (PAD, UNK, CLS, SEP, MASK)
VOCAB_FILENAME = "vocabulary.txt"
# Hugging Face's BertTokenizer(Fast) turns a word of more characters than
# this into [UNK] (`max_input_chars_per_word`).
MAX_CHARS_PER_WORD = 100

# Hugging Face's BertNormalizer, step by step, as RE2 patterns:
# 1. delete NUL, U+FFFD and "other" characters (Cc, Cf, Co) except \t \n \r;
_CONTROL_REGEX = (
    r"[\x{0}-\x{8}\x{B}\x{C}\x{E}-\x{1F}\x{7F}-\x{9F}\p{Cf}\p{Co}\x{FFFD}]"
)
# 2. map the remaining white space to a plain space;
_WHITESPACE_REGEX = r"[\t\n\r\p{Zs}\x{2028}\x{2029}]"
# 3. surround CJK ideographs with spaces (BERT's ranges);
_CJK_REGEX = (
    r"[\x{4E00}-\x{9FFF}\x{3400}-\x{4DBF}\x{20000}-\x{2A6DF}"
    r"\x{2A700}-\x{2B73F}\x{2B740}-\x{2B81F}\x{2B820}-\x{2CEAF}"
    r"\x{F900}-\x{FAFF}\x{2F800}-\x{2FA1F}]"
)
# then split on spaces and on punctuation: every non-alphanumeric printable
# ASCII character and Unicode category P*, kept as its own word.
_PUNCTUATION_REGEX = r"[!-/:-@\[-`{-~\p{P}]"


def bert_normalize(text, lowercase=True, strip_accents=None):
    """Normalize strings exactly as Hugging Face's `BertTokenizerFast` does.

    `text` is a string tensor of any shape. Steps, in Hugging Face's order:
    delete control and format characters, NUL and U+FFFD; map white space to
    " "; put spaces around CJK ideographs; if `strip_accents` (which defaults
    to `lowercase`, as in Hugging Face), decompose (NFD) and delete
    combining marks; if `lowercase`, map each character to its lower case
    (no NFKC: "…", "½" and "ﬁ" stay as they are; "Σ" is always "σ").

    Example:
    ```python
    bert_normalize(["Café…\u200b Ω"]).numpy()  # [b"cafe\xe2\x80\xa6 \xcf\x89"]
    ```
    """
    import tensorflow as tf
    import tensorflow_text as tf_text

    if strip_accents is None:
        strip_accents = lowercase
    text = tf.strings.regex_replace(text, _CONTROL_REGEX, "")
    text = tf.strings.regex_replace(text, _WHITESPACE_REGEX, " ")
    text = tf.strings.regex_replace(text, _CJK_REGEX, r" \0 ")
    if strip_accents:
        text = tf_text.normalize_utf8(text, "NFD")
        text = tf.strings.regex_replace(text, r"\p{Mn}", "")
    if lowercase:
        # ICU's lower case (tf.strings.lower) turns a word-final capital
        # sigma into "ς"; Hugging Face maps each character on its own.
        text = tf.strings.regex_replace(text, "\u03a3", "\u03c3")
        text = tf.strings.lower(text, encoding="utf-8")
    return text


def bert_split(text):
    """Split normalized strings into words (a ragged string tensor).

    Splits on spaces (dropped) and on punctuation and CJK ideographs (kept
    as words), like Hugging Face's `BertPreTokenizer`.

    Example:
    ```python
    bert_split(["the fox, jumped"]).to_list()
    # [[b"the", b"fox", b",", b"jumped"]]
    ```
    """
    import tensorflow_text as tf_text

    keep = f"{_PUNCTUATION_REGEX}|{_CJK_REGEX}"
    return tf_text.regex_split(
        text, delim_regex_pattern=f" |{keep}", keep_delim_regex_pattern=keep
    )


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

    Text is normalized and split exactly as Hugging Face's
    `BertTokenizerFast` does for the same `vocab.txt` (`bert_normalize`,
    `bert_split`; a word of more than 100 characters is `[UNK]`), so a
    checkpoint's own vocabulary gives the ids it was trained with.

    Args:
        vocabulary: list of str, or str. The word pieces, or the path of a
            `vocab.txt` with one word piece a line.
        lowercase: bool. Lowercase the input first. Defaults to `True`
            (`False` for a cased vocabulary: see `tokenizer_from_vocabulary`,
            which reads the casing saved beside a `vocab.txt`).
        strip_accents: bool or None. Remove accents (after NFD
            normalisation). Defaults to `None`: follow `lowercase`, as
            Hugging Face's `BertTokenizer` does.
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
        strip_accents=None,
        sequence_length=None,
        **kwargs,
    ):
        if strip_accents is None:
            strip_accents = lowercase
        register_special_token(self, PAD, "pad_token")
        register_special_token(self, UNK, "unk_token")
        register_special_token(self, CLS, "cls_token")
        register_special_token(self, SEP, "sep_token")
        register_special_token(self, MASK, "mask_token")
        # Aliases that keras-hub preprocessors look for.
        register_special_token(self, CLS, "start_token")
        register_special_token(self, SEP, "end_token")
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

    def tokenize(self, inputs):
        """Token ids of strings (see the class docstring).

        Example:
        ```python
        vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hi", "!"]
        ElectraTokenizer(vocab).tokenize("Hi!")  # [5, 6]
        ```
        """
        # keras-hub's own `tokenize` (below) would pad a list of strings
        # through NumPy: 20k texts with a few long ones took 25-40 s, not 3.
        inputs = string_lists_as_tensors(inputs)
        if self.special_tokens_in_strings or not self.split:
            # keras-hub's own pipeline keeps special tokens whole (or takes
            # words already split).
            return super().tokenize(inputs)
        return self._tokenize_bert(inputs)

    @preprocessing_function
    def _tokenize_bert(self, inputs):
        import tensorflow as tf

        self._check_vocabulary()
        if not isinstance(inputs, tf.RaggedTensor):
            inputs = tf.convert_to_tensor(inputs)
        unbatched = inputs.shape.rank == 0
        if unbatched:
            inputs = tf.expand_dims(inputs, 0)
        text = bert_normalize(inputs, self.lowercase, self.strip_accents)
        words = bert_split(text)
        too_long = tf.strings.length(
            words.flat_values, unit="UTF8_CHAR"
        ) > MAX_CHARS_PER_WORD
        words = words.with_flat_values(
            tf.where(too_long, self.oov_token, words.flat_values)
        )
        tokens = self._bert_word_piece().tokenize(words).merge_dims(-2, -1)
        if self.sequence_length:
            shape = tokens.shape.as_list()
            shape[-1] = self.sequence_length
            tokens = tokens.to_tensor(shape=shape)
        if unbatched:
            tokens = tokens[0]
        return tokens

    def _bert_word_piece(self):
        # tf-text's WordPiece with Hugging Face's per-word limit (characters,
        # checked above, so bytes must not cut first: 4 bytes a character).
        import tensorflow_text as tf_text

        if getattr(self, "_bert_word_piece_op", None) is None:
            self._bert_word_piece_op = tf_text.FastWordpieceTokenizer(
                vocab=self.vocabulary,
                token_out_type=self.compute_dtype,
                suffix_indicator=self.suffix_indicator,
                unknown_token=self.oov_token,
                no_pretokenization=True,
                support_detokenization=False,
                max_bytes_per_word=4 * MAX_CHARS_PER_WORD,
            )
        return self._bert_word_piece_op

    def set_vocabulary(self, vocabulary):
        """Set the vocabulary (a list or a file path); check special tokens."""
        if vocabulary is not None:
            source = "the vocabulary list"
            tokens = vocabulary
            if isinstance(vocabulary, (str, os.PathLike)):
                vocabulary = os.fspath(vocabulary)
                source = f"the vocabulary file '{vocabulary}'"
                if in_safe_mode():
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
        self._bert_word_piece_op = None
        super().set_vocabulary(vocabulary)
        if vocabulary is not None:
            # Built here, eagerly: built inside a tf.data function its
            # tables would belong to that graph.
            self._bert_word_piece()

    def vocabulary_size(self):
        """Number of word pieces in the vocabulary (an int), as in keras-hub."""
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
