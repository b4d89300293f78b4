"""The four fine-tuning tasks as the file jobs see them.

Each head knows its file format (`read`), its label names (`labels`), how
to build its task model from a pre-trained folder (`build`), what `fit`
takes (`fit_data`), how to turn predictions into JSON rows (`predict`) and
how to score them (`score`):

| head | model | file |
|---|---|---|
| `classifier` | `ElectraTextClassifier` | table: text [, pair], label |
| `tagger` | `ElectraTokenClassifier` | CoNLL: word ... tag |
| `qa` | `ElectraQuestionAnswerer` | SQuAD v1.1 / v2.0 JSON |
| `embedder` | `ElectraTextEmbedder` | table: text, pair (matching texts) |
"""

import numpy as np

from keras_electra.jobs import task_files
from keras_electra.jobs.task_files import Rows

HEADS = ("classifier", "tagger", "qa", "embedder")
MODEL_CLASSES = {
    "classifier": "ElectraTextClassifier",
    "tagger": "ElectraTokenClassifier",
    "qa": "ElectraQuestionAnswerer",
    "embedder": "ElectraTextEmbedder",
}


def head_of(model):
    """The head name of a task model (`"classifier"`, ...).

    Example:
    ```python
    from keras_electra.models import ElectraTextEmbedder
    assert head_of(ElectraTextEmbedder.from_preset("electra_tiny")) == (
        "embedder")
    ```
    """
    from keras_electra import models

    for head, name in MODEL_CLASSES.items():
        if isinstance(model, getattr(models, name)):
            return head
    raise ValueError(
        f"{type(model).__name__} is not a fine-tuned task model; the file "
        f"jobs take {', '.join(MODEL_CLASSES.values())} folders."
    )


def read(head, path, options, labels=None, labeled=True):
    """Examples of `path` for `head` as a `task_files.Rows`.

    `options` has the file flags (`text_column`, `pair_column`,
    `label_column`, `word_column`, `tag_column`, `skip_bad_rows`), as the
    finetune/evaluate/predict configs do. `labels` (a model's classes)
    makes other labels bad rows; `labeled=False` reads inputs only.

    Example:
    ```python
    import tempfile
    from keras_electra.jobs.finetune import FinetuneConfig
    path = tempfile.mktemp(suffix=".csv")
    open(path, "w").write("text,label\\na fine film,pos\\n")
    rows = read("classifier", path, FinetuneConfig())
    assert rows.inputs == ["a fine film"] and rows.targets == ["pos"]
    ```
    """
    skip = options.skip_bad_rows
    if head == "tagger":
        sentences, lines, skipped = task_files.read_conll(
            path, options.word_column, options.tag_column, labels, labeled,
            skip,
        )
        words = [w for w, _ in sentences]
        return Rows(path, words, [t for _, t in sentences] if labeled
                    else None, lines, [" ".join(w) for w in words], skipped)
    if head == "qa":
        squad = task_files.read_squad(path, skip)
        inputs = (squad["questions"], squad["contexts"])
        return Rows(
            path, inputs, squad["answers"] if labeled else None,
            squad["lines"], [q + "\n" + c for q, c in zip(*inputs)],
            squad["skipped"],
            {"ids": squad["ids"], "golds": squad["golds"],
             "version": squad["version"]},
        )
    return _read_table(head, path, options, labels, labeled)


def _read_table(head, path, options, labels, labeled):
    pair = options.pair_column or ("text_pair" if head == "embedder" else None)
    columns = {"text": options.text_column, "pair": pair}
    if labeled and head == "classifier":
        columns["label"] = options.label_column
    if head == "embedder" and not labeled:
        columns["pair"] = None
    rows, lines, skipped = task_files.read_table(
        path, columns, labels if head == "classifier" else None,
        options.skip_bad_rows,
    )
    texts = [r["text"] for r in rows]
    pairs = [r["pair"] for r in rows] if columns["pair"] else None
    inputs = (texts, pairs) if pairs is not None and head == "classifier" \
        else texts
    targets = None
    if labeled:
        targets = pairs if head == "embedder" else [r["label"] for r in rows]
    keys = texts if pairs is None else [
        t + "\t" + p for t, p in zip(texts, pairs)]
    return Rows(path, inputs, targets, lines, keys, skipped)


def labels(head, rows):
    """The classes (sorted) or tags (`"O"` first) found; `None` otherwise.

    Example:
    ```python
    from keras_electra.jobs.task_files import Rows
    rows = Rows("f.conll", [["Hi", "Bob"]], [["O", "B-per"]], [1], ["Hi Bob"])
    assert labels("tagger", rows) == ["O", "B-per"]
    ```
    """
    if head == "classifier":
        return task_files.discover_labels(rows.targets)
    if head == "tagger":
        return task_files.discover_labels(
            [t for tags in rows.targets for t in tags], first="O")
    return None


def build(head, model_dir, tokenizer, names, sequence_length,
          load_weights=True):
    """The task model for `head` from a pre-trained folder, with its
    preprocessor at `sequence_length`.

    Example:
    ```python
    from keras_electra.data import bundled_vocabulary_file, load_tokenizer
    import os
    tokenizer = load_tokenizer(os.path.dirname(bundled_vocabulary_file()))
    model = build("tagger", "electra_tiny", tokenizer, ["O", "B-x", "I-x"],
                  sequence_length=32, load_weights=False)
    ```
    """
    from keras_electra import data
    from keras_electra import models

    if head == "tagger":
        preprocessor = data.ElectraTokenClassifierPreprocessor(
            tokenizer, sequence_length=sequence_length)
    elif head == "qa":
        preprocessor = data.ElectraQuestionAnsweringPreprocessor(
            tokenizer, sequence_length=sequence_length,
            doc_stride=max(16, sequence_length // 3),
            max_query_length=min(64, sequence_length // 2 - 4),
        )
    else:
        preprocessor = data.ElectraClassifierPreprocessor(
            tokenizer, sequence_length=sequence_length)
    kwargs = {}
    if names is not None:
        kwargs["num_classes"] = len(names)
    cls = getattr(models, MODEL_CLASSES[head])
    return cls.from_preset(model_dir, load_weights=load_weights,
                           preprocessor=preprocessor, **kwargs)


def fit_targets(head, rows, names):
    """`y` for `model.fit(rows.inputs, y)` (the embedder has its own).

    Example:
    ```python
    from keras_electra.jobs.task_files import Rows
    rows = Rows("f.csv", ["good", "bad"], ["pos", "neg"], [2, 3], [])
    assert fit_targets("classifier", rows, ["neg", "pos"]).tolist() == [1, 0]
    ```
    """
    if head == "classifier":
        index = {name: i for i, name in enumerate(names)}
        return np.asarray([index[t] for t in rows.targets], "int32")
    if head == "tagger":
        index = {name: i for i, name in enumerate(names)}
        return [[index[t] for t in tags] for tags in rows.targets]
    return rows.targets


def predict(head, model, rows, names, batch_size):
    """One JSON-ready prediction dict per example of `rows`.

    Example:
    ```python
    from keras_electra.jobs.task_files import Rows
    from keras_electra.models import ElectraTextClassifier
    model = ElectraTextClassifier.from_preset("electra_tiny", num_classes=2)
    rows = Rows("f.csv", ["a fine film"], None, [2], ["a fine film"])
    [p] = predict("classifier", model, rows, ["neg", "pos"], batch_size=8)
    assert set(p["probabilities"]) == {"neg", "pos"}
    ```
    """
    if head == "classifier":
        logits = np.asarray(model.predict(rows.inputs, batch_size=batch_size,
                                          verbose=0), "float64")
        probabilities = np.exp(logits - logits.max(-1, keepdims=True))
        probabilities /= probabilities.sum(-1, keepdims=True)
        return [{"label": names[int(p.argmax())],
                 "probabilities": dict(zip(names, map(float, p)))}
                for p in probabilities]
    if head == "tagger":
        return [{"words": w, "tags": t} for w, t in zip(
            rows.inputs, tag_words(model, rows.inputs, names, batch_size))]
    if head == "qa":
        allow_null = rows.extra.get("version") == "2.0"
        answers = model.predict(rows.inputs, batch_size=batch_size,
                                verbose=0, allow_null=allow_null)
        return [{"id": i, "answer": a["text"], "score": a["score"],
                 "start_char": a["start_char"]}
                for i, a in zip(rows.extra["ids"], answers)]
    vectors = model.predict(rows.inputs, batch_size=batch_size, verbose=0)
    return [{"text": t, "embedding": [float(x) for x in v]}
            for t, v in zip(rows.inputs, vectors)]


def tag_words(model, sentences, names, batch_size):
    """Predicted tags for every word; words cut by the sequence length get
    `"O"`.

    Example:
    ```python
    from keras_electra.models import ElectraTokenClassifier
    model = ElectraTokenClassifier.from_preset("electra_tiny", num_classes=3)
    [tags] = tag_words(model, [["New", "York"]], ["O", "B-x", "I-x"], 8)
    assert len(tags) == 2
    ```
    """
    from keras_electra.metrics import word_level_tags

    preprocessor = model.preprocessor
    tags = []
    for start in range(0, len(sentences), batch_size):
        batch = sentences[start:start + batch_size]
        x, y, _ = preprocessor(batch, [[0] * len(w) for w in batch])
        logits = model.predict(x, verbose=0)
        _, predicted = word_level_tags(np.asarray(y), logits, names)
        tags.extend(p + ["O"] * (len(w) - len(p))
                    for w, p in zip(batch, predicted))
    return tags


def score(head, rows, predictions, names, k=5):
    """The evaluation report of `predictions` against `rows`' labels.

    Example:
    ```python
    from keras_electra.jobs.task_files import Rows
    rows = Rows("f.conll", [["Hi", "Bob"]], [["O", "B-per"]], [1], [])
    s = score("tagger", rows, [{"tags": ["O", "B-per"]}], ["O", "B-per"])
    assert s["f1"] == 1.0 and s["token_accuracy"] == 1.0
    ```
    """
    from keras_electra import metrics

    if head == "classifier":
        return classification_scores(
            rows.targets, [p["label"] for p in predictions], names)
    if head == "tagger":
        gold = rows.targets
        predicted = [p["tags"] for p in predictions]
        # Word-level tag scores, beside the entity-level ones.
        tags = classification_scores([t for s in gold for t in s],
                                     [t for s in predicted for t in s], names)
        return {"token_accuracy": tags["accuracy"],
                **metrics.entity_scores(gold, predicted),
                "confusion_matrix": tags["confusion_matrix"],
                "labels": tags["labels"]}
    if head == "qa":
        return metrics.squad_evaluate(
            {p["id"]: p["answer"] for p in predictions},
            dict(zip(rows.extra["ids"], rows.extra["golds"])),
            version=rows.extra["version"],
        )
    raise ValueError("The embedder is scored by retrieval_scores.")


def classification_scores(gold, predicted, names):
    """Accuracy, per-class precision/recall/F1/support, macro F1 and the
    confusion matrix (rows: gold, columns: predicted).

    Example:
    ```python
    s = classification_scores(["a", "b", "b"], ["a", "b", "a"], ["a", "b"])
    assert s["accuracy"] == 2 / 3 and s["per_class"]["b"]["recall"] == 0.5
    ```
    """
    index = {name: i for i, name in enumerate(names)}
    confusion = np.zeros((len(names), len(names)), "int64")
    for g, p in zip(gold, predicted):
        confusion[index[g], index[p]] += 1
    per_class = {}
    for i, name in enumerate(names):
        tp = confusion[i, i]
        precision = tp / confusion[:, i].sum() if confusion[:, i].sum() else 0
        recall = tp / confusion[i].sum() if confusion[i].sum() else 0.0
        f1 = (2 * precision * recall / (precision + recall)
              if precision + recall else 0.0)
        per_class[name] = {"precision": float(precision),
                           "recall": float(recall), "f1": float(f1),
                           "support": int(confusion[i].sum())}
    return {
        "accuracy": float(np.trace(confusion) / max(1, confusion.sum())),
        "macro_f1": float(np.mean([c["f1"] for c in per_class.values()])),
        "per_class": per_class,
        "confusion_matrix": confusion.tolist(),
        "labels": list(names),
    }


def retrieval_scores(model, rows, batch_size, k=5):
    """Recall@1, recall@k and MRR of finding each text's pair among all
    the file's pairs (the embedder's evaluation).

    Example:
    ```python
    from keras_electra.jobs.task_files import Rows
    from keras_electra.models import ElectraTextEmbedder
    model = ElectraTextEmbedder.from_preset("electra_tiny")
    rows = Rows("p.tsv", ["a cat", "a dog"], ["cats", "dogs"], [2, 3], [])
    scores = retrieval_scores(model, rows, batch_size=8)
    assert 0.5 <= scores["mrr"] <= 1.0
    ```
    """
    from keras_electra.models import EmbeddingIndex

    candidates = sorted(set(rows.targets))
    position = {text: i for i, text in enumerate(candidates)}
    index = EmbeddingIndex(model, model.preprocessor, batch_size)
    index.add(texts=candidates)
    queries = index.embed(rows.inputs)
    queries = queries / np.maximum(
        np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
    scores = queries @ index.vectors.T
    gold = np.asarray([position[t] for t in rows.targets])
    ranks = (scores > scores[np.arange(len(gold)), gold][:, None]).sum(1) + 1
    return {
        "recall_at_1": float((ranks == 1).mean()),
        f"recall_at_{k}": float((ranks <= k).mean()),
        "mrr": float((1.0 / ranks).mean()),
        "num_candidates": len(candidates),
    }
