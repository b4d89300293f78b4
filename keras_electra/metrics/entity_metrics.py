"""Entity-level precision, recall and F1 for BIO/IOBES tags (host side).

Chunks are decoded as seqeval's default (conlleval-compatible) mode does:
an `I-X` that follows `O` or a tag of another type starts a new entity,
and an entity ends where the type changes, at `O`, at `B-`, or after
`E-`/`S-`. A predicted entity counts only if type, start and end all match
a gold entity. Scores are micro-averaged over all entities.
"""

import numpy as np


def _split(tag):
    if tag in ("O", "", None):
        return "O", ""
    prefix, _, kind = tag.partition("-")
    if not kind:
        # A bare type such as "PER" is read as "I-PER".
        return "I", prefix
    return prefix, kind


def _ends(prev_prefix, prefix, prev_type, kind):
    if prev_prefix in ("E", "S"):
        return True
    if prev_prefix in ("B", "I") and prefix in ("B", "S", "O"):
        return True
    return prev_prefix != "O" and prev_type != kind


def _starts(prev_prefix, prefix, prev_type, kind):
    if prefix in ("B", "S"):
        return True
    if prev_prefix in ("E", "S", "O") and prefix in ("E", "I"):
        return True
    return prefix != "O" and prev_type != kind


def extract_entities(tags):
    """Return the entities of one tag sequence as `(type, start, end)`.

    `end` is inclusive, as in seqeval.

    Args:
        tags: list of str, e.g. `["B-PER", "I-PER", "O"]`.

    Example:
    ```python
    assert extract_entities(["B-PER", "I-PER", "O", "I-LOC"]) == [
        ("PER", 0, 1), ("LOC", 3, 3)]
    ```
    """
    entities = []
    prev_prefix, prev_type, start = "O", "", None
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, kind = _split(tag)
        if start is not None and _ends(prev_prefix, prefix, prev_type, kind):
            entities.append((prev_type, start, i - 1))
            start = None
        if _starts(prev_prefix, prefix, prev_type, kind):
            start = i
        prev_prefix, prev_type = prefix, kind
    return entities


def entity_scores(y_true, y_pred):
    """Micro precision, recall and F1 over entities, plus per-type scores.

    Args:
        y_true: list of gold tag sequences (one list of str per sentence).
        y_pred: list of predicted tag sequences, same lengths.

    Returns:
        dict with `precision`, `recall`, `f1`, `num_true`, `num_pred`,
        `num_correct`, and `per_type`: type -> dict of the same keys.

    Example:
    ```python
    scores = entity_scores(
        [["B-PER", "I-PER", "O", "B-LOC"]],
        [["B-PER", "I-PER", "O", "B-ORG"]],
    )
    assert scores["precision"] == 0.5 and scores["recall"] == 0.5
    ```
    """
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"Received {len(y_true)} gold and {len(y_pred)} predicted "
            "sequences."
        )
    true_set, pred_set = set(), set()
    for i, (t, p) in enumerate(zip(y_true, y_pred)):
        if len(t) != len(p):
            raise ValueError(
                f"Sequence {i}: {len(t)} gold tags but {len(p)} predicted."
            )
        true_set.update((i,) + e for e in extract_entities(t))
        pred_set.update((i,) + e for e in extract_entities(p))

    def score(gold, pred):
        correct = len(gold & pred)
        precision = correct / len(pred) if pred else 0.0
        recall = correct / len(gold) if gold else 0.0
        f1 = (
            2 * precision * recall / (precision + recall)
            if precision + recall
            else 0.0
        )
        return {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "num_true": len(gold),
            "num_pred": len(pred),
            "num_correct": correct,
        }

    result = score(true_set, pred_set)
    types = sorted({e[1] for e in true_set | pred_set})
    result["per_type"] = {
        kind: score(
            {e for e in true_set if e[1] == kind},
            {e for e in pred_set if e[1] == kind},
        )
        for kind in types
    }
    return result


def word_level_tags(labels, logits, label_names, ignore_index=-100):
    """Turn word-piece labels and logits into word-level tag sequences.

    Keeps the positions whose label is not `ignore_index` (first word
    pieces, as `ElectraTokenClassifierPreprocessor` labels them) and maps
    ids to names, ready for `entity_scores`.

    Args:
        labels: int array `[batch, sequence_length]`.
        logits: float array `[batch, sequence_length, num_classes]` (or
            predicted ids `[batch, sequence_length]`).
        label_names: list of str, id -> tag.
        ignore_index: int. Defaults to `-100`.

    Returns:
        `(y_true, y_pred)`: lists of lists of str.

    Example:
    ```python
    import numpy as np
    labels = np.array([[-100, 1, -100, 0, -100]])
    logits = np.eye(3)[[[0, 1, 2, 0, 0]]]
    y_true, y_pred = word_level_tags(labels, logits, ["O", "B-PER", "I-PER"])
    assert y_true == [["B-PER", "O"]] and y_pred == [["B-PER", "O"]]
    ```
    """
    labels = np.asarray(labels)
    predictions = np.asarray(logits)
    if predictions.ndim == labels.ndim + 1:
        predictions = predictions.argmax(-1)
    y_true, y_pred = [], []
    for label_row, pred_row in zip(labels, predictions):
        keep = label_row != ignore_index
        y_true.append([label_names[int(i)] for i in label_row[keep]])
        y_pred.append([label_names[int(i)] for i in pred_row[keep]])
    return y_true, y_pred
