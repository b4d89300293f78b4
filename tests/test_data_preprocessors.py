"""Fine-tuning preprocessors: classification, token classification, QA."""

import gzip

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_electra.data import ElectraClassifierPreprocessor
from keras_electra.data import ElectraQuestionAnsweringPreprocessor
from keras_electra.data import ElectraTokenClassifierPreprocessor
from keras_electra.data import ElectraTokenizer
from keras_electra.data import bundled_corpus_files
from keras_electra.data.electra_question_answering_preprocessor import (
    split_words_with_offsets,
)
from keras_electra.models.electra_question_answerer import (
    postprocess_answers,
)

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def np_(x):
    return np.asarray(x)


@pytest.fixture(scope="module")
def cls_tokenizer():
    return ElectraTokenizer(SPECIALS + ["a", "good", "film", "bad", "not"])


@pytest.mark.multibackend
def test_classifier_single_and_batch(cls_tokenizer):
    pre = ElectraClassifierPreprocessor(cls_tokenizer, sequence_length=8)
    x, y = pre(["a good film", "bad"], [1, 0])
    np.testing.assert_array_equal(
        np_(x["token_ids"]),
        [[2, 5, 6, 7, 3, 0, 0, 0], [2, 8, 3, 0, 0, 0, 0, 0]],
    )
    np.testing.assert_array_equal(
        np_(x["padding_mask"]), [[1] * 5 + [0] * 3, [1] * 3 + [0] * 5])
    np.testing.assert_array_equal(np_(x["segment_ids"]), np.zeros((2, 8)))
    assert np_(x["token_ids"]).dtype == np.int32
    assert np_(x["padding_mask"]).dtype == np.int32
    np.testing.assert_array_equal(np_(y), [1, 0])
    x, y, w = pre(["a film"], [1], [0.5])
    np.testing.assert_array_equal(np_(w), [0.5])


def test_classifier_pairs_and_truncation(cls_tokenizer):
    first = ["a film good good good", "a"]
    second = ["bad bad bad", "bad"]
    rr = ElectraClassifierPreprocessor(cls_tokenizer, sequence_length=8)
    x, _ = rr((first, second), [1, 1])
    # round_robin: 5 slots for 5 + 3 tokens -> 3 from A, 2 from B.
    np.testing.assert_array_equal(
        np_(x["token_ids"])[0], [2, 5, 7, 6, 3, 8, 8, 3])
    np.testing.assert_array_equal(
        np_(x["segment_ids"])[0], [0, 0, 0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(
        np_(x["token_ids"])[1], [2, 5, 3, 8, 3, 0, 0, 0])
    np.testing.assert_array_equal(
        np_(x["segment_ids"])[1], [0, 0, 0, 1, 1, 0, 0, 0])
    wf = ElectraClassifierPreprocessor(
        cls_tokenizer, sequence_length=8, truncate="waterfall")
    x, _ = wf((first, second), [1, 1])
    # waterfall: A keeps all 5 tokens, B keeps only its [SEP].
    np.testing.assert_array_equal(
        np_(x["token_ids"])[0], [2, 5, 7, 6, 6, 6, 3, 3])
    np.testing.assert_array_equal(
        np_(x["segment_ids"])[0], [0, 0, 0, 0, 0, 0, 0, 1])
    with pytest.raises(ValueError, match="truncate"):
        ElectraClassifierPreprocessor(cls_tokenizer, truncate="middle")


def test_classifier_in_tf_data_and_config(cls_tokenizer):
    pre = ElectraClassifierPreprocessor(cls_tokenizer, sequence_length=6)
    ds = tf.data.Dataset.from_tensor_slices(
        ((["a good film", "bad"], ["not bad", "good"]), [1, 0]))
    x, y = next(iter(ds.map(pre).batch(2)))
    assert x["token_ids"].shape == (2, 6) and x["token_ids"].dtype == tf.int32
    np.testing.assert_array_equal(x["token_ids"][1], [2, 8, 3, 6, 3, 0])
    np.testing.assert_array_equal(x["segment_ids"][1], [0, 0, 0, 1, 1, 0])
    config = keras.saving.serialize_keras_object(pre)
    assert config["registered_name"] == (
        "keras_electra>ElectraClassifierPreprocessor")
    assert config["config"]["sequence_length"] == 6


@pytest.mark.multibackend
def test_token_classifier_first_piece_labels():
    tok = ElectraTokenizer(SPECIALS + ["new", "york", "is", "big", "##ger"])
    pre = ElectraTokenClassifierPreprocessor(tok, sequence_length=8)
    x, y, w = pre([["New", "York", "is", "bigger"], ["is", "big"]],
                  [[1, 2, 0, 3], [0, 4]])
    np.testing.assert_array_equal(
        np_(x["token_ids"]),
        [[2, 5, 6, 7, 8, 9, 3, 0], [2, 7, 8, 3, 0, 0, 0, 0]],
    )
    np.testing.assert_array_equal(
        np_(y), [[-100, 1, 2, 0, 3, -100, -100, -100],
                 [-100, 0, 4, -100, -100, -100, -100, -100]])
    np.testing.assert_array_equal(
        np_(w), [[0, 1, 1, 1, 1, 0, 0, 0], [0, 1, 1, 0, 0, 0, 0, 0]])
    # Truncation keeps sequence_length - 2 pieces and their labels.
    x, y, w = pre([["bigger"] * 5], [[7] * 5])
    np.testing.assert_array_equal(
        np_(x["token_ids"])[0], [2, 8, 9, 8, 9, 8, 9, 3])
    np.testing.assert_array_equal(
        np_(y)[0], [-100, 7, -100, 7, -100, 7, -100, -100])


def test_token_classifier_in_tf_data():
    tok = ElectraTokenizer(SPECIALS + ["new", "york", "is", "big", "##ger"])
    pre = ElectraTokenClassifierPreprocessor(tok, sequence_length=6)
    words = tf.ragged.constant([["New", "bigger"], ["is"]])
    labels = tf.ragged.constant([[1, 2], [3]])
    ds = tf.data.Dataset.from_tensor_slices((words, labels)).map(pre).batch(2)
    x, y, w = next(iter(ds))
    np.testing.assert_array_equal(x["token_ids"], [[2, 5, 8, 9, 3, 0],
                                                   [2, 7, 3, 0, 0, 0]])
    np.testing.assert_array_equal(y, [[-100, 1, 2, -100, -100, -100],
                                      [-100, 3, -100, -100, -100, -100]])
    assert w.dtype == tf.float32


def moby_dick_opening():
    with gzip.open(bundled_corpus_files()[0], "rt", encoding="utf-8") as f:
        lines = [next(f).strip() for _ in range(12)]
    return " ".join(lines[2:])  # skip "CHAPTER 1." and "Loomings."


@pytest.fixture(scope="module")
def qa_setup():
    context = moby_dick_opening()
    sotu = ("The abundant fruits of another year have blessed our country "
            "with plenty and with the means of a flourishing commerce.")
    words = {w.lower() for w, _, _ in split_words_with_offsets(
        context + " " + sotu + " who what where is the name of")}
    # Leave some words out so they split into letters (mid-word offsets).
    words -= {"ishmael", "manhattoes", "commerce", "flourishing"}
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    vocab = SPECIALS + sorted(words | set(letters))
    vocab += ["##" + c for c in letters]
    return ElectraTokenizer(vocab), context, sotu


def decode(context, offsets, start, end):
    return context[offsets[start, 0]:offsets[end, 1]]


@pytest.mark.multibackend
def test_question_answering_offsets_recover_answers(qa_setup):
    tok, moby, sotu = qa_setup
    questions = ["What is the narrator's name?", "Which month is in my soul?",
                 "What city is insular?", "What flourishes?",
                 "Where is the whale?"]
    contexts = [moby, moby, moby, sotu, moby]
    answer_texts = ["Ishmael", "November", "Manhattoes",
                    "a flourishing commerce", None]
    answers = [None if a is None else
               {"text": [a], "answer_start": [c.index(a)]}
               for a, c in zip(answer_texts, contexts)]
    pre = ElectraQuestionAnsweringPreprocessor(
        tok, sequence_length=48, doc_stride=16, max_query_length=10)
    f = pre.features(questions, contexts, answers)
    n = len(f["example_index"])
    assert n > len(questions)  # long contexts give several windows
    for key in ("token_ids", "segment_ids", "padding_mask"):
        assert f[key].shape == (n, 48) and f[key].dtype == np.int32
    found = set()
    for i in range(n):
        ex = f["example_index"][i]
        s, e = f["start_positions"][i], f["end_positions"][i]
        ids = f["token_ids"][i]
        assert ids[0] == tok.cls_token_id
        sep = int(np.flatnonzero(ids == tok.sep_token_id)[0])
        assert sep <= 11  # question cut to 10 pieces
        assert (f["offsets"][i, : sep + 1] == -1).all()
        if answer_texts[ex] is None:
            assert s == e == 0
            continue
        if s == 0:
            assert e == 0
            continue
        assert sep < s <= e and f["segment_ids"][i, s] == 1
        assert decode(contexts[ex], f["offsets"][i], s, e) == answer_texts[ex]
        found.add(ex)
    assert found == {0, 1, 2, 3}
    # Every context token's span is the exact text in the context.
    for i in range(n):
        ctx = contexts[f["example_index"][i]]
        for (a, b), t in zip(f["offsets"][i], f["token_ids"][i]):
            if a >= 0:
                piece = tok.id_to_token(int(t)).replace("##", "")
                assert ctx[a:b].lower() == piece or t == tok.unk_token_id

    # Logits peaked on the labels give the answers back.
    start_logits = np.zeros((n, 48))
    end_logits = np.zeros((n, 48))
    start_logits[np.arange(n), f["start_positions"]] = 10.0
    end_logits[np.arange(n), f["end_positions"]] = 10.0
    predicted = postprocess_answers(start_logits, end_logits, f["offsets"],
                                    list(f["example_index"]), contexts,
                                    allow_null=True)
    assert [predicted[i]["text"] for i in range(len(contexts))] == [
        a or "" for a in answer_texts
    ]

    x, (start, end) = pre(questions, contexts, answers)
    np.testing.assert_array_equal(start, f["start_positions"])
    assert set(x) == {"token_ids", "segment_ids", "padding_mask"}


def test_question_answering_accents_and_errors(qa_setup):
    tok = ElectraTokenizer(SPECIALS + ["the", "cafe", "opened", "."])
    pre = ElectraQuestionAnsweringPreprocessor(
        tok, sequence_length=16, doc_stride=4, max_query_length=4)
    context = "The  café opened."
    f = pre.features(["the"], [context], [{"text": "café", "answer_start": 5}])
    s, e = f["start_positions"][0], f["end_positions"][0]
    assert decode(context, f["offsets"][0], s, e) == "café"
    # A wrong answer_start is repaired to the nearest occurrence.
    f = pre.features(["the"], [context],
                     [{"text": "opened", "answer_start": 0}])
    s, e = f["start_positions"][0], f["end_positions"][0]
    assert decode(context, f["offsets"][0], s, e) == "opened"
    with pytest.raises(ValueError, match="Example 0"):
        pre.features(["the"], [context], [{"text": "tea", "answer_start": 0}])
    with pytest.raises(ValueError, match="max_query_length"):
        ElectraQuestionAnsweringPreprocessor(tok, sequence_length=8,
                                             max_query_length=8)
