"""Task metrics against hand-computed values, and QA answer extraction on a
real passage. Host-side code (NumPy), plus one keras.ops metric.

No extractive QA data set installs from a package registry, so the QA test
uses a short passage and questions written for this file.
"""

import numpy as np
import pytest

from keras_electra.metrics import MaskedSparseCategoricalAccuracy
from keras_electra.metrics import entity_scores
from keras_electra.metrics import extract_entities
from keras_electra.metrics import normalize_answer
from keras_electra.metrics import squad_evaluate
from keras_electra.metrics import squad_exact_match
from keras_electra.metrics import squad_f1
from keras_electra.metrics import word_level_tags
from keras_electra.models.electra_question_answerer import answer_token_span
from keras_electra.models.electra_question_answerer import (
    postprocess_answers,
)

pytestmark = pytest.mark.multibackend


class TestSquadMetrics:
    def test_normalization(self):
        assert normalize_answer("The Cat, a  Dog!") == "cat dog"
        assert normalize_answer("An apple") == "apple"
        # Articles only as whole words; punctuation removed before.
        assert normalize_answer("theater") == "theater"
        assert normalize_answer("Herman-Melville's") == "hermanmelvilles"

    def test_exact_match(self):
        assert squad_exact_match("the Pequod", ["Pequod"]) == 1.0
        assert squad_exact_match("Pequod ship", ["Pequod"]) == 0.0
        assert squad_exact_match("1851.", ["in 1851", "1851"]) == 1.0

    def test_f1_hand_computed(self):
        # pred tokens: [captain, ahab, of, pequod]; gold: [ahab]
        # precision 1/4, recall 1/1 -> F1 = 2 * .25 / 1.25 = 0.4
        assert squad_f1("Captain Ahab of the Pequod", ["Ahab"]) == (
            pytest.approx(0.4))
        # Max over golds: second gold [captain, ahab] -> P 2/4, R 1 -> 2/3.
        assert squad_f1("Captain Ahab of the Pequod",
                        ["Ahab", "captain Ahab"]) == pytest.approx(2 / 3)
        # Repeated tokens count with multiplicity (Counter intersection):
        # pred [sea, sea, sea], gold [sea, air]: common 1 -> P 1/3, R 1/2.
        assert squad_f1("sea sea sea", ["sea air"]) == pytest.approx(0.4)
        assert squad_f1("whale", ["ship"]) == 0.0

    def test_no_answer_rules(self):
        # v2.0: empty gold list means no answer; empty prediction is right.
        assert squad_exact_match("", [], version="2.0") == 1.0
        assert squad_f1("", [], version="2.0") == 1.0
        assert squad_f1("whale", [], version="2.0") == 0.0
        assert squad_f1("", ["whale"], version="2.0") == 0.0
        # v1.1 gives F1 0 to an empty prediction even against an empty gold.
        assert squad_f1("", [""], version="1.1") == 0.0

    def test_evaluate(self):
        predictions = {"a": "the Pequod", "b": "Captain Ahab", "c": "",
                       "d": "whale"}
        references = {"a": ["Pequod"], "b": ["Ahab"], "c": [], "d": []}
        scores = squad_evaluate(predictions, references, version="2.0")
        # EM: a=1, b=0, c=1, d=0 -> 50. F1: a=1, b=2/3, c=1, d=0.
        assert scores["exact_match"] == pytest.approx(50.0)
        assert scores["f1"] == pytest.approx(100 * (1 + 2 / 3 + 1) / 4)
        assert scores["has_answer_total"] == 2
        assert scores["no_answer_exact_match"] == pytest.approx(50.0)
        missing = squad_evaluate({}, {"a": ["x"]}, version="1.1")
        assert missing["exact_match"] == 0.0


class TestEntityMetrics:
    def test_extract_entities(self):
        tags = ["B-PER", "I-PER", "O", "I-LOC", "I-LOC", "B-LOC", "I-ORG"]
        # A stray I- starts an entity; a type change ends one.
        assert extract_entities(tags) == [
            ("PER", 0, 1), ("LOC", 3, 4), ("LOC", 5, 5), ("ORG", 6, 6)]
        assert extract_entities(["B-PER", "B-PER"]) == [
            ("PER", 0, 0), ("PER", 1, 1)]
        assert extract_entities(["O", "O"]) == []

    def test_scores_hand_checked(self):
        y_true = [
            ["B-PER", "I-PER", "O", "B-LOC", "O"],
            ["B-ORG", "I-ORG", "I-ORG", "O"],
        ]
        y_pred = [
            ["B-PER", "I-PER", "O", "B-ORG", "O"],  # PER right, LOC->ORG
            ["B-ORG", "I-ORG", "O", "B-PER"],  # ORG too short, extra PER
        ]
        # gold: PER(0,0-1) LOC(0,3) ORG(1,0-2) -> 3
        # pred: PER(0,0-1) ORG(0,3) ORG(1,0-1) PER(1,3) -> 4; correct: 1
        scores = entity_scores(y_true, y_pred)
        assert scores["num_true"] == 3 and scores["num_pred"] == 4
        assert scores["num_correct"] == 1
        assert scores["precision"] == pytest.approx(0.25)
        assert scores["recall"] == pytest.approx(1 / 3)
        assert scores["f1"] == pytest.approx(2 * 0.25 / 3 / (0.25 + 1 / 3))
        assert scores["per_type"]["PER"]["precision"] == pytest.approx(0.5)
        assert scores["per_type"]["LOC"]["recall"] == 0.0

    def test_length_mismatch(self):
        with pytest.raises(ValueError, match="gold tags"):
            entity_scores([["O", "O"]], [["O"]])

    def test_word_level_tags_and_masked_accuracy(self):
        names = ["O", "B-PER", "I-PER"]
        labels = np.array([[-100, 1, -100, 2, 0, -100]])
        predicted = np.array([[0, 1, 0, 2, 1, 0]])
        logits = np.eye(3, dtype="float32")[predicted]
        y_true, y_pred = word_level_tags(labels, logits, names)
        assert y_true == [["B-PER", "I-PER", "O"]]
        assert y_pred == [["B-PER", "I-PER", "B-PER"]]
        metric = MaskedSparseCategoricalAccuracy()
        metric.update_state(labels, logits)
        assert float(metric.result()) == pytest.approx(2 / 3)
        # Zero sample weights drop positions too.
        metric.reset_state()
        metric.update_state(labels, logits,
                            sample_weight=np.array([[1, 1, 1, 1, 0, 1]]))
        assert float(metric.result()) == pytest.approx(1.0)


PASSAGE = (
    "Herman Melville published Moby-Dick in 1851. The narrator, a sailor "
    "called Ishmael, signs on to the whaling ship Pequod at Nantucket. Its "
    "captain, Ahab, lost a leg to a white sperm whale on an earlier voyage "
    "and now hunts it across the oceans. The novel sold poorly while "
    "Melville lived, and only in the twentieth century did critics rank it "
    "among the great American books."
)
QUESTIONS = [
    ("What is the name of the whaling ship?", "Pequod"),
    ("Who is the captain?", "Ahab"),
    ("When was Moby-Dick published?", "1851"),
    ("How many crew members died?", None),  # not answerable from the text
]


def _words(text):
    import re

    return [(m.group(), m.start(), m.end())
            for m in re.finditer(r"\w+|[^\w\s]", text)]


def _windows(question, context, length=24, stride=8):
    """`[CLS] question [SEP] window [SEP]` token offsets, document stride."""
    q = len(_words(question))
    room = length - q - 3
    words = _words(context)
    windows, start = [], 0
    while True:
        piece = words[start:start + room]
        offsets = np.full((length, 2), -1)
        for i, (_, s, e) in enumerate(piece):
            offsets[q + 2 + i] = (s, e)
        windows.append(offsets)
        if start + room >= len(words):
            return windows
        start += stride


class TestQuestionAnsweringPostprocess:
    def _features(self):
        offsets, example_ids, spans = [], [], []
        for k, (question, answer) in enumerate(QUESTIONS):
            for window in _windows(question, PASSAGE):
                offsets.append(window)
                example_ids.append(f"q{k}")
                if answer is None:
                    spans.append((0, 0))
                else:
                    start = PASSAGE.index(answer)
                    spans.append(answer_token_span(
                        window, start, start + len(answer)))
        return np.stack(offsets), example_ids, spans

    def test_answers_across_windows(self):
        offsets, example_ids, spans = self._features()
        rng = np.random.default_rng(0)
        n, length = offsets.shape[:2]
        start = rng.normal(0, 0.5, (n, length))
        end = rng.normal(0, 0.5, (n, length))
        seen = set()
        for w, (s, e) in enumerate(spans):
            if (s, e) != (0, 0):
                # The later window that also holds the answer is slightly
                # more confident: the best span must be found across windows.
                bonus = 1.0 if example_ids[w] in seen else 0.0
                seen.add(example_ids[w])
                start[w, s] += 6 + bonus
                end[w, e] += 6 + bonus
            else:
                start[w, 0] += 3
                end[w, 0] += 3
        # Distractors: a high logit on a question token (not in the passage),
        # an end before the start, and a span longer than the limit.
        start[0, 1] = 50.0
        end[0, 2] = 40.0
        start[1, 5], end[1, 4] = 30.0, 30.0
        answers = postprocess_answers(
            start, end, offsets, example_ids,
            {f"q{k}": PASSAGE for k in range(len(QUESTIONS))},
            n_best_size=5, max_answer_length=3, allow_null=True,
        )
        predictions = {k: v["text"] for k, v in answers.items()}
        references = {f"q{k}": [a] if a else []
                      for k, (_, a) in enumerate(QUESTIONS)}
        assert predictions == {"q0": "Pequod", "q1": "Ahab", "q2": "1851",
                               "q3": ""}
        scores = squad_evaluate(predictions, references, version="2.0")
        assert scores["exact_match"] == 100.0 and scores["f1"] == 100.0
        best = answers["q0"]["n_best"]
        assert best[0]["text"] == "Pequod"
        assert [c["score"] for c in best] == sorted(
            (c["score"] for c in best), reverse=True)
        assert sum(c["probability"] for c in best) == pytest.approx(1.0)
        for candidate in best:
            assert len(_words(candidate["text"])) <= 3

    def test_null_threshold_and_span_rules(self):
        context = "Ishmael went to sea."
        offsets = np.array([[[-1, -1], [-1, -1], [0, 7], [8, 12], [13, 15],
                             [16, 19], [19, 20], [-1, -1]]])
        start = np.array([[4.0, 9.0, 3.0, 0.0, 0.0, 1.0, 0.0, 0.0]])
        end = np.array([[4.0, 0.0, 0.0, 0.0, 0.0, 3.0, 0.0, 9.0]])
        # Best valid span: start "Ishmael"(3) + end "sea"(3) = 6 but it is 4
        # tokens long; with max_answer_length 4 it wins over "sea" (1 + 3).
        out = postprocess_answers(start, end, offsets, [0], [context],
                                  max_answer_length=4)
        assert out[0]["text"] == "Ishmael went to sea"
        out = postprocess_answers(start, end, offsets, [0], [context],
                                  max_answer_length=3)
        assert out[0]["text"] == "sea"
        # Null score 8 vs best 6: null wins at threshold 0, not at 3.
        out = postprocess_answers(start, end, offsets, [0], [context],
                                  max_answer_length=4, allow_null=True)
        assert out[0]["text"] == "" and out[0]["null_score"] == 8.0
        out = postprocess_answers(start, end, offsets, [0], [context],
                                  max_answer_length=4, allow_null=True,
                                  null_score_threshold=3.0)
        assert out[0]["text"] == "Ishmael went to sea"

    def test_answer_token_span(self):
        offsets = np.array([[-1, -1], [0, 7], [8, 12], [13, 15], [16, 19]])
        assert answer_token_span(offsets, 8, 15) == (2, 3)
        # Partly outside the window -> [CLS].
        assert answer_token_span(offsets, 16, 25) == (0, 0)
