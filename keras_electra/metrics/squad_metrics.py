"""SQuAD exact match and F1, as the official v1.1 and v2.0 scripts define.

Answers are normalized by lower-casing, removing punctuation
(`string.punctuation`), removing the articles a/an/the, and collapsing
whitespace. EM is 1 when the normalized strings are equal; F1 is the
harmonic mean of precision and recall over the bag of normalized tokens.
Against several gold answers the maximum is taken. Version "2.0" adds the
no-answer rules of the v2.0 script: gold answers that normalize to "" are
dropped, an empty gold list means "no answer" (gold `""`), and F1 is 1 when
both sides are empty and 0 when only one is. Version "1.1" gives F1 0 to
an empty prediction, as its script does.
"""

import collections
import re
import string

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text):
    """Lower-case, drop punctuation and articles, collapse whitespace.

    Example:
    ```python
    assert normalize_answer("The  Eiffel Tower!") == "eiffel tower"
    ```
    """
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _exact(prediction, gold):
    return float(normalize_answer(prediction) == normalize_answer(gold))


def _f1(prediction, gold, version):
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    if version == "2.0" and (not pred_tokens or not gold_tokens):
        return float(pred_tokens == gold_tokens)
    common = collections.Counter(pred_tokens) & collections.Counter(
        gold_tokens
    )
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def _golds(ground_truths, version):
    if isinstance(ground_truths, str):
        ground_truths = [ground_truths]
    ground_truths = list(ground_truths)
    if version == "2.0":
        ground_truths = [g for g in ground_truths if normalize_answer(g)]
        if not ground_truths:
            ground_truths = [""]
    if not ground_truths:
        raise ValueError("Received no gold answer (use version='2.0' for "
                         "unanswerable questions).")
    return ground_truths


def squad_exact_match(prediction, ground_truths, version="2.0"):
    """Exact match (0 or 1) of one prediction against its gold answers.

    Args:
        prediction: str.
        ground_truths: str or list of str.
        version: `"1.1"` or `"2.0"`. Defaults to `"2.0"`.

    Example:
    ```python
    assert squad_exact_match("the Denver Broncos", ["Denver Broncos"]) == 1
    ```
    """
    golds = _golds(ground_truths, version)
    return max(_exact(prediction, g) for g in golds)


def squad_f1(prediction, ground_truths, version="2.0"):
    """Token F1 (0 to 1) of one prediction, maximized over gold answers.

    Args:
        prediction: str.
        ground_truths: str or list of str.
        version: `"1.1"` or `"2.0"`. Defaults to `"2.0"`.

    Example:
    ```python
    f1 = squad_f1("Denver Broncos won", ["the Denver Broncos"])
    assert abs(f1 - 0.8) < 1e-9
    ```
    """
    golds = _golds(ground_truths, version)
    return max(_f1(prediction, g, version) for g in golds)


def squad_evaluate(predictions, references, version="2.0"):
    """Corpus EM and F1 in percent, as the official scripts print them.

    Args:
        predictions: dict from question id to predicted text (`""` for no
            answer).
        references: dict from question id to a list of gold answer texts
            (an empty list for an unanswerable SQuAD 2.0 question).
        version: `"1.1"` or `"2.0"`. Defaults to `"2.0"`.

    Returns:
        dict with `exact_match`, `f1` and `total`; for version 2.0 also
        `has_answer_*` and `no_answer_*` breakdowns when present.
        Questions without a prediction score 0.

    Example:
    ```python
    scores = squad_evaluate({"q1": "Paris", "q2": ""},
                            {"q1": ["Paris"], "q2": []})
    assert scores["exact_match"] == 100.0
    ```
    """
    exact, f1, answerable = {}, {}, {}
    for qid, golds in references.items():
        prediction = predictions.get(qid, None)
        answerable[qid] = any(normalize_answer(g) for g in golds)
        if prediction is None:
            exact[qid] = f1[qid] = 0.0
            continue
        exact[qid] = squad_exact_match(prediction, golds, version)
        f1[qid] = squad_f1(prediction, golds, version)

    def summary(ids, prefix=""):
        n = len(ids)
        return {
            f"{prefix}exact_match": 100.0 * sum(exact[i] for i in ids) / n,
            f"{prefix}f1": 100.0 * sum(f1[i] for i in ids) / n,
            f"{prefix}total": n,
        }

    ids = list(references)
    if not ids:
        raise ValueError("Received no references.")
    result = summary(ids)
    if version == "2.0":
        has = [i for i in ids if answerable[i]]
        no = [i for i in ids if not answerable[i]]
        if has and no:
            result.update(summary(has, "has_answer_"))
            result.update(summary(no, "no_answer_"))
    return result
