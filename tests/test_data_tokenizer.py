"""ElectraTokenizer and vocabulary training."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_electra.data import ElectraTokenizer
from keras_electra.data import train_vocabulary
from keras_electra.data import CorpusReport

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "quick",
         "brown", "fox", "jump", "##ed", ".", "cafe"]


def hf_style_vocab(path):
    """A vocab.txt laid out like Hugging Face's BERT/ELECTRA uncased one."""
    tokens = ["[PAD]"] + [f"[unused{i}]" for i in range(99)]
    tokens += ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokens += ["the", "quick", "brown", "fox", "jump", "##ed", "."]
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(t + "\n" for t in tokens))
    return path


@pytest.mark.multibackend
def test_lists_of_texts_are_not_padded_through_numpy():
    """keras-hub converts a list through `np.array`, padding every text to
    the longest: here 1,000 texts x 100,000 characters x 4 bytes = 400 MB
    of NumPy memory for 1 MB of text. Both the tokenizer and the
    preprocessors take lists without that copy, with the same ids."""
    import tracemalloc

    from keras_electra.data import ElectraClassifierPreprocessor

    texts = ["the quick brown fox jumped ."] * 999 + ["the fox " * 12_500]
    tokenizer = ElectraTokenizer(vocabulary=VOCAB)
    preprocessor = ElectraClassifierPreprocessor(tokenizer, sequence_length=8)
    expected = tokenizer(tf.constant(texts))
    expected_pairs = preprocessor(x=(tf.constant(texts), tf.constant(texts)))
    tracemalloc.start()
    try:
        ids = tokenizer(texts)
        pairs = preprocessor(x=(texts, texts))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50e6, f"{peak / 1e6:.0f} MB traced"
    assert [list(map(int, row)) for row in ids] == [
        list(map(int, row)) for row in expected]
    np.testing.assert_array_equal(pairs["token_ids"],
                                  expected_pairs["token_ids"])
    assert len(ids[-1]) == 25_000


@pytest.mark.multibackend
def test_exact_ids_and_special_tokens():
    tokenizer = ElectraTokenizer(vocabulary=VOCAB)
    ids = tokenizer("The quick brown fox jumped.")
    np.testing.assert_array_equal(ids, [5, 6, 7, 8, 9, 10, 11])
    assert (tokenizer.pad_token_id, tokenizer.unk_token_id,
            tokenizer.cls_token_id, tokenizer.sep_token_id,
            tokenizer.mask_token_id) == (0, 1, 2, 3, 4)
    assert tokenizer.vocabulary_size() == 13
    # lowercase + strip_accents by default; unknown words -> [UNK].
    np.testing.assert_array_equal(tokenizer("CAFÉ zebra"), [12, 1])
    cased = ElectraTokenizer(VOCAB, lowercase=False, strip_accents=False)
    np.testing.assert_array_equal(cased("The café"), [1, 1])


@pytest.mark.multibackend
def test_hugging_face_vocab_file_ids(tmp_path):
    path = hf_style_vocab(str(tmp_path / "vocab.txt"))
    tokenizer = ElectraTokenizer(vocabulary=path)
    assert tokenizer.pad_token_id == 0
    assert tokenizer.unk_token_id == 100
    assert tokenizer.cls_token_id == 101
    assert tokenizer.sep_token_id == 102
    assert tokenizer.mask_token_id == 103
    np.testing.assert_array_equal(
        tokenizer("the fox jumped ."), [104, 107, 108, 109, 110]
    )
    assert tokenizer.vocabulary_size() == 111


def test_missing_special_token_names_token_and_file(tmp_path):
    path = tmp_path / "bad_vocab.txt"
    path.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"\[MASK\]") as info:
        ElectraTokenizer(vocabulary=str(path))
    assert "bad_vocab.txt" in str(info.value)
    with pytest.raises(ValueError, match=r"\[PAD\]"):
        ElectraTokenizer(vocabulary=VOCAB[1:])
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        ElectraTokenizer(vocabulary=str(tmp_path / "nope.txt"))


def test_tf_data_map_and_batch():
    tokenizer = ElectraTokenizer(vocabulary=VOCAB)
    ds = tf.data.Dataset.from_tensor_slices(["the fox", "jumped", "the quick"])
    out = [x.numpy().tolist() for x in ds.map(tokenizer)]
    assert out == [[5, 8], [9, 10], [5, 6]]
    batched = ds.batch(3).map(tokenizer)
    assert next(iter(batched)).to_list() == [[5, 8], [9, 10], [5, 6]]


def test_save_vocabulary_and_serialization_round_trip(tmp_path):
    tokenizer = ElectraTokenizer(vocabulary=VOCAB)
    path = tokenizer.save_vocabulary(str(tmp_path))
    assert os.path.basename(path) == "vocab.txt"
    with open(path, encoding="utf-8") as f:
        assert f.read().split("\n")[:5] == list(VOCAB[:5])
    assert ElectraTokenizer(vocabulary=path).get_vocabulary() == VOCAB

    # Keras serialization: config, then vocabulary through the assets hooks.
    config = keras.saving.serialize_keras_object(tokenizer)
    assert config["registered_name"] == "keras_electra>ElectraTokenizer"
    restored = keras.saving.deserialize_keras_object(config)
    assets = tmp_path / "assets"
    assets.mkdir()
    tokenizer.save_assets(str(assets))
    restored.load_assets(str(assets))
    assert restored.get_vocabulary() == VOCAB
    assert restored.mask_token_id == 4
    assert restored.get_config() == tokenizer.get_config()


def test_train_vocabulary_on_tiny_corpus(tmp_path):
    corpus = tmp_path / "tiny.txt"
    lines = ["the whale swam in the sea", "", "a whaler saw the whales",
             "swimming whales and sailing whalers"] * 20
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = CorpusReport()
    out = tmp_path / "vocab.txt"
    vocab = train_vocabulary(
        str(corpus), vocabulary_size=60, output_file=str(out),
        progress=False, report=report,
    )
    assert vocab[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert len(vocab) <= 60
    assert "whale" in vocab and "the" in vocab
    assert out.read_text(encoding="utf-8").split("\n")[:-1] == vocab
    assert report.lines == 80 and report.blank_lines == 20
    tokenizer = ElectraTokenizer(vocabulary=str(out))
    ids = np.asarray(tokenizer("the whales")).tolist()
    assert [tokenizer.id_to_token(i) for i in ids][0] == "the"
    assert tokenizer.detokenize(ids) == "the whales"


def test_train_vocabulary_missing_path_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        train_vocabulary(str(tmp_path / "missing.txt"), progress=False)
    with pytest.raises(FileNotFoundError, match=r"nothing\*\.txt"):
        train_vocabulary(str(tmp_path / "nothing*.txt"), progress=False)
