"""Shared helpers of the export tests (no tests here)."""

import collections
import gzip
import os

import numpy as np

from keras_electra.export.simple_tokenizer import SimpleTokenizer

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
SUFFIXES = ["s", "ed", "ing", "ly", "er", "es", "y", "e", "n", "t", "d"]


def corpus_sentences(limit=300):
    """Real English sentences from the bundled corpus (one a line)."""
    from keras_electra.data import bundled_corpus_files

    sentences = []
    for path in bundled_corpus_files():
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if len(line) > 20:
                    sentences.append(line)
                if len(sentences) >= limit * (1 + len(sentences) // limit):
                    break
        if len(sentences) >= limit:
            break
    return sentences[:limit]


def build_vocabulary(texts, size=2000):
    """A small WordPiece vocabulary: specials, characters, suffixes, words.

    Cheap to build (word counts, no training), and real enough that words
    split into several pieces and rare ones fall back to characters.
    """
    splitter = SimpleTokenizer(SPECIALS)
    counts = collections.Counter()
    for text in texts:
        counts.update(splitter.split_words(text))
    chars = sorted({c for word in counts for c in word})
    vocab = list(SPECIALS) + chars + ["##" + c for c in chars]
    vocab += ["##" + s for s in SUFFIXES if "##" + s not in vocab]
    seen = set(vocab)
    for word, _ in counts.most_common():
        if len(vocab) >= size:
            break
        if word not in seen:
            vocab.append(word)
            seen.add(word)
    return vocab


def tiny_classifier(vocabulary_size, num_classes=2, seed=0, **kwargs):
    """A 2-layer, 32-wide ElectraClassifier without dropout."""
    import keras

    from keras_electra.models import ElectraBackbone
    from keras_electra.models import ElectraClassifier

    keras.utils.set_random_seed(seed)
    config = dict(
        vocabulary_size=vocabulary_size, num_layers=2, num_heads=2,
        hidden_dim=32, intermediate_dim=64, embedding_dim=16,
        max_sequence_length=64, dropout=0.0,
    )
    config.update(kwargs)
    return ElectraClassifier(
        ElectraBackbone(**config), num_classes=num_classes, dropout=0.0
    )


def random_inputs(n, sequence_length, vocabulary_size, seed=0):
    rng = np.random.default_rng(seed)
    token_ids = rng.integers(5, vocabulary_size, (n, sequence_length))
    lengths = rng.integers(3, sequence_length + 1, n)
    mask = (np.arange(sequence_length)[None] < lengths[:, None])
    token_ids = np.where(mask, token_ids, 0)
    token_ids[:, 0] = 2
    token_ids[np.arange(n), lengths - 1] = 3
    return {
        "token_ids": token_ids.astype("int32"),
        "segment_ids": np.zeros((n, sequence_length), "int32"),
        "padding_mask": mask.astype("int32"),
    }


def tf_backend():
    import keras

    return keras.config.backend() == "tensorflow"
