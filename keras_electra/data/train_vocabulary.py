"""Train a WordPiece vocabulary from raw text files."""

import os

import keras_hub
import tensorflow as tf

from keras_electra.data import text_files
from keras_electra.data.corpus_report import CorpusReport
from keras_electra.data.electra_tokenizer import MAX_CHARS_PER_WORD
from keras_electra.data.electra_tokenizer import SPECIAL_TOKENS
from keras_electra.data.electra_tokenizer import bert_normalize
from keras_electra.data.electra_tokenizer import bert_split
from keras_electra.data.tokenizer_config import write_tokenizer_config


def _has_text(paths, max_line_chars):
    """Whether any line of the files is non-blank (reads up to the first)."""
    lines = text_files.line_dataset(paths, document_breaks=False)
    lines = lines.batch(1024).map(
        lambda x: text_files.clean_lines(x, max_line_chars)[0]
    ).unbatch().filter(lambda line: tf.not_equal(line, ""))
    return next(iter(lines.take(1)), None) is not None


def train_vocabulary(
    files_or_globs,
    vocabulary_size=30522,
    lowercase=True,
    strip_accents=None,
    output_file=None,
    max_line_chars=text_files.DEFAULT_MAX_LINE_CHARS,
    reserved_tokens=None,
    progress=True,
    report=None,
):
    """Learn a WordPiece vocabulary from `.txt` / `.txt.gz` files.

    Streams the files through `tf.data` (bounded memory), repairs bad text
    like every reader here (see `CorpusReport`), and runs
    `keras_hub.tokenizers.compute_word_piece_vocabulary` on the words
    `ElectraTokenizer` will see (`bert_normalize` + `bert_split`, Hugging
    Face's normalisation: no NFKC, so "…" stays a piece of its own; words of
    over 100 characters, which become `[UNK]`, are not counted). If
    `output_file` is given, `tokenizer_config.json` is written beside it
    with the casing, so every later reader lower-cases (or not) as this
    vocabulary was trained. The special tokens come first in BERT order:
    `[PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3, [MASK]=4`.

    Args:
        files_or_globs: str or list of str. Files, folders or glob patterns.
        vocabulary_size: int. Upper bound on the vocabulary size, special
            tokens included. Defaults to `30522` (BERT's).
        lowercase: bool. Defaults to `True` (`False` for a cased
            vocabulary).
        strip_accents: bool or None. Defaults to `None`: follow
            `lowercase`, as Hugging Face does.
        output_file: str or None. If given, also write the vocabulary there,
            one token a line, and `tokenizer_config.json` beside it.
            Defaults to `None`.
        max_line_chars: int. Lines are cut to this many characters.
        reserved_tokens: list of str or None. Extra tokens placed right after
            the five special tokens. Defaults to `None`.
        progress: bool. Show a progress bar (lines read). Defaults to `True`.
        report: `CorpusReport` or None. Filled with the counts if given.

    Returns:
        The vocabulary, a list of str.

    Raises:
        FileNotFoundError: a path is missing or a glob matches nothing.
        ValueError: no file holds a non-blank line (each file is named,
            with the reason).

    Example:
    ```python
    from keras_electra.data import (
        ElectraTokenizer, bundled_corpus_files, train_vocabulary)
    vocab = train_vocabulary(bundled_corpus_files()[:1], vocabulary_size=2000)
    tokenizer = ElectraTokenizer(vocabulary=vocab)
    assert tokenizer.cls_token_id == 2
    ```
    """
    report = report if report is not None else CorpusReport()
    paths, report = text_files.readable_files(files_or_globs, report)
    if not paths or not _has_text(paths, max_line_chars):
        raise text_files.no_usable_text_error(files_or_globs)
    bar = text_files.Progress("vocabulary: reading", " lines", enabled=progress)

    def count(counts):
        text_files.add_counts(report, counts.numpy())
        bar.update(int(counts[0]))
        return counts

    def clean(lines):
        lines, counts = text_files.clean_lines(lines, max_line_chars)
        counts = tf.py_function(count, [counts], tf.int64)
        with tf.control_dependencies([counts]):
            lines = tf.identity(lines)
        lines = tf.boolean_mask(lines, tf.not_equal(lines, ""))
        words = bert_split(bert_normalize(lines, lowercase, strip_accents))
        words = words.flat_values
        return tf.boolean_mask(
            words,
            tf.strings.length(words, unit="UTF8_CHAR") <= MAX_CHARS_PER_WORD,
        )

    data = (
        text_files.line_dataset(paths, document_breaks=False)
        .batch(1024)
        .map(clean)
        .prefetch(2)
    )
    special = list(SPECIAL_TOKENS) + list(reserved_tokens or [])
    vocabulary = keras_hub.tokenizers.compute_word_piece_vocabulary(
        data,
        vocabulary_size=vocabulary_size,
        lowercase=False,  # done above, as the tokenizer does it
        strip_accents=False,
        split=False,
        reserved_tokens=special,
    )
    bar.close()
    report.log()
    if output_file is not None:
        with open(output_file, "w", encoding="utf-8") as f:
            f.write("".join(token + "\n" for token in vocabulary))
        write_tokenizer_config(
            os.path.dirname(os.path.abspath(output_file)), lowercase,
            strip_accents,
        )
    return vocabulary
