"""The data split a fine-tuned model was trained on, saved beside it.

Bundled tasks and `csv:` files are split at run time from a seed, so a
model fine-tuned with `--seed 1` and evaluated with the seed-0 split would
be scored largely on its own training data. `split.json` records, next to
the model, the task, seed and fractions of its split, a fingerprint of each
split (SHA-256 over the sorted example fingerprints) and the fingerprint of
every training example (the first 16 hex digits of the SHA-256 of its text,
the text being the example's identity: the bundled data has no ids).
`check_split` compares what `evaluate` is about to score against it.
"""

import hashlib
import json
import os

SPLIT_FILE = "split.json"
SPLIT_FORMAT = 1


def text_fingerprint(text):
    """First 16 hex digits of the SHA-256 of `text` (UTF-8).

    Example:
    ```python
    assert len(text_fingerprint("a fine film")) == 16
    ```
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _split_digest(fingerprints):
    return hashlib.sha256("\n".join(sorted(fingerprints)).encode()).hexdigest()


def split_record(task, seed, splits, fractions=None):
    """Describe a train/validation/test split (a JSON-ready dict).

    Args:
        task: str. The task name (`"rotten_tomatoes"`, `"csv:PATH"`, ...).
        seed: int. The seed the split was drawn with.
        splits: dict of split name to list of str (the texts used; a
            training subset when only part of the train split was used).
        fractions: dict of split name to float, or None.

    Example:
    ```python
    record = split_record("csv:data.csv", 1, {"train": ["a", "b"],
                                              "test": ["c"]})
    assert record["splits"]["test"]["count"] == 1
    ```
    """
    prints = {name: [text_fingerprint(t) for t in texts]
              for name, texts in splits.items()}
    train = set(prints.get("train", []))
    return {
        "format": SPLIT_FORMAT,
        "task": task,
        "seed": int(seed),
        "fractions": fractions,
        "splits": {
            name: {
                "count": len(values),
                "sha256": _split_digest(values),
                # Texts the data itself repeats across splits (a csv file
                # with a line twice): scored with the saved split, they are
                # reported, not refused.
                "in_train": (
                    0 if name == "train"
                    else sum(v in train for v in values)
                ),
            }
            for name, values in prints.items()
        },
        "train_fingerprints": sorted(train),
    }


def save_split(folder, record):
    """Write `record` (see `split_record`) to `folder/split.json`.

    Example:
    ```python
    import tempfile
    folder = tempfile.mkdtemp()
    save_split(folder, split_record("t", 0, {"train": ["a"], "test": ["b"]}))
    assert load_split(folder)["seed"] == 0
    ```
    """
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, SPLIT_FILE)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(record, f)
    os.replace(tmp, path)
    return path


def load_split(folder):
    """The record in `folder/split.json`, or `None` when there is none.

    Example:
    ```python
    import tempfile
    assert load_split(tempfile.mkdtemp()) is None
    ```
    """
    path = os.path.join(folder, SPLIT_FILE)
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: not a readable split record ({error}).")
    for key in ("task", "seed", "splits", "train_fingerprints"):
        if key not in record:
            raise ValueError(f"{path}: the split record lacks '{key}'.")
    return record


def check_split(record, task, seed, split, texts, allow_overlap=False,
                where="the model"):
    """Refuse to score texts `record`'s model was trained on.

    Returns a dict: `overlap_with_training` (how many of `texts` were
    training examples), `same_split` (`texts` are exactly the saved
    `split` of the same task and seed). Overlap is allowed only when it is
    the data's own (the saved split repeats training texts, as recorded at
    fine-tuning time) or with `allow_overlap=True`.

    Raises:
        ValueError: some of `texts` were training examples; the message
            gives the count, the first one and how to score the model's own
            split.

    Example:
    ```python
    record = split_record("t", 1, {"train": ["a"], "test": ["b"]})
    assert check_split(record, "t", 1, "test", ["b"])["same_split"]
    ```
    """
    prints = [text_fingerprint(t) for t in texts]
    train = set(record["train_fingerprints"])
    overlap = [i for i, p in enumerate(prints) if p in train]
    saved = record["splits"].get(split)
    same = (
        task == record["task"] and int(seed) == int(record["seed"])
        and saved is not None and saved["sha256"] == _split_digest(prints)
    )
    intrinsic = same and len(overlap) <= saved.get("in_train", 0)
    if overlap and not intrinsic and not allow_overlap:
        first = texts[overlap[0]]
        if len(first) > 80:
            first = first[:77] + "..."
        raise ValueError(
            f"{len(overlap)} of the {len(texts)} '{split}' examples of task "
            f"'{task}' (split seed {seed}) were training examples of "
            f"{where} (fine-tuned on task '{record['task']}', split seed "
            f"{record['seed']}), e.g. example {overlap[0]}: {first!r}. "
            "Their scores would be inflated. Evaluate without --seed to "
            f"score the model's own '{split}' split (seed {record['seed']}), "
            "or pass --allow-overlap (allow_overlap=True) to score them "
            "anyway."
        )
    return {"overlap_with_training": len(overlap), "same_split": bool(same)}
