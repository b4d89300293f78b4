"""Token ids equal to Hugging Face's BertTokenizerFast (issue #24 item 2)."""

import gzip
import json
import os

import pytest
from transformers import AutoTokenizer
from transformers import BertTokenizerFast

from keras_electra.data import ElectraTokenizer
from keras_electra.data import bundled_corpus_files
from keras_electra.data import bundled_vocabulary_file
from keras_electra.data import load_bbc_news
from keras_electra.data import load_rotten_tomatoes
from keras_electra.export.simple_tokenizer import SimpleTokenizer

HARD = [
    "wait… ½ cup ﬁne ㎏ Ⅻ", "a\x85b a\x9cb a\x0bb\x0cc", "a\ufffdb a\x00b",
    "co\u00adop a\u200db \u200bx \ufeffx \U000e0001", "a\u2028b a\u00a0b a\u3000b",
    "Café naïve İstanbul ΟΔΟΣ ΑΣ Straße ǅ", "中文字符 한국어 か゛が हिन्दी",
    "👍🏽 ❤️ 🥲 🫠x", "x\u0301 \u0301x $^` a\ue000b", "e\u0378f \u1680x",
    "x" * 101, "é" * 60, "ab" + "é" * 98,
]


def _vocabulary(path, texts, lowercase):
    """The bundled vocabulary plus every character (and ##character) seen."""
    with open(bundled_vocabulary_file(), encoding="utf-8") as f:
        vocab = [line.rstrip("\n") for line in f]
    seen = set(vocab)
    for c in sorted({c for t in texts for c in t}):
        for token in (c, c.lower(), "##" + c, "##" + c.lower(), "é" * 60):
            if c.isprintable() and not c.isspace() and token not in seen:
                seen.add(token)
                vocab.append(token)
    if not lowercase:
        vocab += [t.capitalize() for t in vocab[1000:3000]
                  if t.capitalize() not in seen]
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(t + "\n" for t in vocab))
    return path


def _texts():
    texts = list(HARD)
    for split in ("train", "validation", "test"):
        texts += list(load_rotten_tomatoes(split=split)[0])
        texts += list(load_bbc_news(split=split)[0])
    for name in bundled_corpus_files():
        opener = gzip.open if name.endswith(".gz") else open
        with opener(name, "rt", encoding="utf-8") as f:
            lines = [line for line in f.read().split("\n") if line.strip()]
            texts += lines[:2000]
    return texts


@pytest.mark.parametrize("lowercase", [True, False])
def test_ids_equal_bert_tokenizer_fast(tmp_path, lowercase):
    texts = _texts()
    path = _vocabulary(str(tmp_path / "vocab.txt"), texts, lowercase)
    # transformers 5: the vocabulary is `vocab=`; `vocab_file=` is ignored.
    hf = BertTokenizerFast(vocab=path, do_lower_case=lowercase)
    expected = hf(texts, add_special_tokens=False)["input_ids"]
    assert sum(len(e) for e in expected) > 300_000
    unk = hf.unk_token_id
    assert sum(i == unk for e in expected for i in e) < 0.01 * sum(
        len(e) for e in expected
    )
    ours = ElectraTokenizer(vocabulary=path, lowercase=lowercase)
    got = [[int(i) for i in row] for row in ours(texts)]
    differ = [t for t, a, b in zip(texts, got, expected) if a != b]
    assert not differ, f"{len(differ)} of {len(texts)} differ: {differ[:3]}"
    simple = SimpleTokenizer(path, lowercase=lowercase)
    differ = [t for t, b in zip(texts[:6000], expected)
              if simple.tokenize(t) != b]
    assert not differ, f"SimpleTokenizer: {len(differ)} differ: {differ[:3]}"


def _cased_folder(folder, texts, config):
    folder.mkdir()
    _vocabulary(str(folder / "vocab.txt"), texts, lowercase=False)
    if config is not None:
        (folder / "tokenizer_config.json").write_text(json.dumps(config))
    return folder


def test_casing_comes_from_the_folder(tmp_path):
    from keras_electra.data import read_tokenizer_settings
    from keras_electra.data import save_tokenizer_files
    from keras_electra.workflows import load_tokenizer

    texts = list(load_rotten_tomatoes(split="test")[0]) + HARD
    hf_cased = BertTokenizerFast(
        vocab=_vocabulary(str(tmp_path / "v.txt"), texts, False),
        do_lower_case=False,
    )
    expected = hf_cased(texts, add_special_tokens=False)["input_ids"]
    assert expected != hf_cased(
        [t.lower() for t in texts], add_special_tokens=False)["input_ids"]

    def ids(tokenizer):
        return [[int(i) for i in row] for row in tokenizer(texts)]

    # A Hugging Face cased checkpoint's files (do_lower_case: false), and the
    # same vocabulary with no tokenizer_config.json: capitals say "cased".
    for name, config in (("hf", {"do_lower_case": False}), ("bare", None)):
        folder = _cased_folder(tmp_path / name, texts, config)
        tokenizer = load_tokenizer(str(folder))
        assert not tokenizer.lowercase and not tokenizer.strip_accents, name
        assert ids(tokenizer) == expected, name
    # A keras-hub preset's tokenizer.json.
    folder = _cased_folder(tmp_path / "hub", texts, None)
    (folder / "tokenizer.json").write_text(json.dumps(
        {"class_name": "BertTokenizer", "config": {"lowercase": False}}))
    assert read_tokenizer_settings(str(folder))["lowercase"] is False
    # An explicit lowercase=True overrides the folder.
    assert load_tokenizer(str(tmp_path / "hf"), lowercase=True).lowercase
    # Bad values are named.
    (folder / "tokenizer_config.json").write_text('{"do_lower_case": "no"}')
    with pytest.raises(ValueError, match="tokenizer_config.json: "
                       "'do_lower_case' is 'no'"):
        load_tokenizer(str(folder))
    # What we save, Hugging Face's AutoTokenizer reads the same way.
    saved = tmp_path / "saved"
    save_tokenizer_files(load_tokenizer(str(tmp_path / "hf")), str(saved))
    hf_saved = AutoTokenizer.from_pretrained(str(saved))
    assert hf_saved(texts, add_special_tokens=False)["input_ids"] == expected
    uncased = load_tokenizer(os.path.dirname(bundled_vocabulary_file()))
    assert uncased.lowercase and uncased.strip_accents


def test_cased_vocabulary_training_records_its_casing(tmp_path):
    from keras_electra.data import tokenizer_from_vocabulary
    from keras_electra.workflows import train_vocab

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("The Café… was closed ½ the time.\n" * 50
                      + "Ishmael waited. The Whale did not.\n" * 50)
    path = str(tmp_path / "cased" / "vocab.txt")
    train_vocab([str(corpus)], path, vocabulary_size=120, lowercase=False)
    config = json.loads((tmp_path / "cased" / "tokenizer_config.json")
                        .read_text())
    assert config["do_lower_case"] is False
    tokenizer = tokenizer_from_vocabulary(path)
    assert not tokenizer.lowercase
    vocabulary = tokenizer.vocabulary
    # Counted as the tokenizer splits: no NFKC ("…" is not "..."), cased.
    assert {"The", "Café", "…", "½", "Whale"} <= set(vocabulary), vocabulary
    hf = BertTokenizerFast(vocab=path, do_lower_case=False)
    text = "The Whale… ½ Café"
    assert [int(i) for i in tokenizer(text)] == hf(
        text, add_special_tokens=False)["input_ids"]
