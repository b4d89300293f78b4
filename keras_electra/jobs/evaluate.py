"""The `evaluate` job: score a fine-tuned model and write a report.

With `--input FILE` any of the four heads is scored on a labelled file of
its format (see `finetune`): classifier accuracy, per-class precision /
recall / F1 and a confusion matrix; tagger entity-level precision / recall
/ F1 (per type too) and token accuracy; qa SQuAD exact match and F1;
embedder recall@1, recall@5 and MRR of finding each text's pair. Without
`--input` a classifier is scored on a bundled task's split (by default the
one it was fine-tuned on). The report goes to `--output` (default
`<model>/evaluation`): `report.json` and, for classifiers and taggers,
`confusion_matrix.png`.
"""

import dataclasses
import json
import logging
import os
import sys

from keras_electra.data.tokenizer_config import load_tokenizer
from keras_electra.jobs import heads
from keras_electra.jobs.finetune import FileOptions
from keras_electra.jobs.finetune import with_saved_columns
from keras_electra.jobs.finetune import evaluate_rows
from keras_electra.jobs.options import option
from keras_electra.jobs.task_data import load_task
from keras_electra.jobs.task_files import Rows

NAME = "evaluate"
HELP = "Score a fine-tuned model; writes a report (JSON, confusion PNG)."


@dataclasses.dataclass
class EvaluateConfig(FileOptions):
    """The `evaluate` job's options.

    Example:
    ```python
    from keras_electra.jobs.evaluate import EvaluateConfig, run
    run(EvaluateConfig(model="saved_models/electra_tiny_demo/classifier"))
    ```
    """

    required = ("model",)

    model: str = option(None, "Fine-tuned model folder.")
    input: str = option(
        None, "Labelled file to score, in the format the model was "
        "fine-tuned from. Without it, a bundled task's split (--task).")
    output: str = option(
        None, "Report folder (report.json, confusion_matrix.png). Default: "
        "<model>/evaluation.")
    task: str = option(
        None, "Without --input: the bundled task. Default: the task the "
        "model was fine-tuned on (split.json), else rotten_tomatoes.")
    split: str = option("test", "Without --input: the split to score.")
    seed: int = option(
        None, "Split seed. Default: the seed the model was fine-tuned with "
        "(split.json), so its own test split is scored; another seed is "
        "refused where its split holds training examples.", type=int)
    allow_overlap: bool = option(
        False, "Score examples the model was trained on anyway (the result "
        "counts them).", action="store_true")
    batch_size: int = option(64, "Batch size.", type=int)
    sequence_length: int = option(
        128, "Without --input: tokens per example.", type=int)


def load_labels(model_dir):
    """`(head, names)` from a fine-tuned folder's `labels.json` (or
    `(None, None)` without one).

    Example:
    ```python
    import tempfile
    assert load_labels(tempfile.mkdtemp()) == (None, None)
    ```
    """
    path = os.path.join(model_dir, "labels.json")
    if not os.path.exists(path):
        return None, None
    try:
        with open(path, encoding="utf-8") as f:
            saved = json.load(f)
        return saved.get("head"), saved.get("labels")
    except (ValueError, AttributeError) as e:
        raise ValueError(f"{path}: not a labels file ({e}).") from None


def load_task_model(model_dir):
    """The fine-tuned model of a folder, its head and its label names.

    Example:
    ```python
    model, head, names = load_task_model("saved_models/electra_tiny_demo/"
                                         "classifier")
    ```
    """
    from keras_electra.models import ElectraPresetMixin

    _, names = load_labels(model_dir)
    model = ElectraPresetMixin.from_preset(model_dir)
    head = heads.head_of(model)
    if getattr(model, "preprocessor", None) is None:
        raise ValueError(
            f"'{model_dir}' holds no preprocessor (preprocessor.json); "
            "save the model with save_to_preset from a task that has one.")
    if head in ("classifier", "tagger") and names is None:
        size = model.num_classes
        names = [str(i) for i in range(size)]
    return model, head, names


def _check_overlap(model_dir, rows, allow_overlap, task=None, seed=None,
                   split="test"):
    from keras_electra.data import check_split
    from keras_electra.data import load_split

    record = load_split(model_dir)
    if record is None:
        logging.getLogger(__name__).warning(
            "'%s' has no split.json (it was not fine-tuned by this "
            "package): cannot check that '%s' holds no training examples.",
            model_dir, rows.path)
        return {"overlap_with_training": None, "same_split": None}
    if task is None:  # a file: compared with the saved test split
        task, seed = record["task"], record["seed"]
    return check_split(record, task, seed, split, rows.keys, allow_overlap,
                       where=f"the model in '{model_dir}'")


def write_report(folder, result, head=None):
    """`report.json` (and `confusion_matrix.png`) in `folder`."""
    from keras_electra.training.plots import plot_confusion_matrix

    os.makedirs(folder, exist_ok=True)
    scores = result["scores"]
    if "confusion_matrix" in scores:
        result["confusion_matrix_png"] = plot_confusion_matrix(
            scores["confusion_matrix"], scores["labels"],
            os.path.join(folder, "confusion_matrix.png"),
            title=f"{head or 'classifier'}: {result['input']}")
    path = os.path.join(folder, "report.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2, ensure_ascii=False)
    result["report"] = path
    return result


def _bundled_rows(config, model_dir, names):
    from keras_electra.data import load_split

    record = load_split(model_dir)
    task = config.task or (record["task"] if record else "rotten_tomatoes")
    seed = config.seed
    if seed is None:
        seed = record["seed"] if record and task == record["task"] else 0
    texts, labels, task_names = load_task(task, config.split, seed, names)
    if names is not None and list(task_names) != list(names):
        raise ValueError(
            f"The model in '{model_dir}' was trained with labels {names}; "
            f"task '{task}' has labels {list(task_names)}.")
    if not len(texts):
        raise ValueError(f"Task '{task}' has no {config.split} examples.")
    rows = Rows(task, list(texts), [task_names[i] for i in labels],
                list(range(len(texts))), list(texts))
    return rows, task, seed


def _evaluate_bundled(config):
    from keras_electra.data import ElectraClassifierPreprocessor
    from keras_electra.models import ElectraClassifier

    _, names = load_labels(config.model)
    rows, task, seed = _bundled_rows(config, config.model, names)
    checked = _check_overlap(config.model, rows, config.allow_overlap, task,
                             seed, config.split)
    preprocessor = ElectraClassifierPreprocessor(
        load_tokenizer(config.model), sequence_length=config.sequence_length)
    model = ElectraClassifier.from_preset(config.model,
                                          preprocessor=preprocessor)
    names = names or [str(i) for i in range(model.num_classes)]
    scores = evaluate_rows("classifier", model, rows, names,
                           config.batch_size)
    return {"accuracy": scores["accuracy"], "num_examples": len(rows),
            "task": task, "split": config.split, "seed": int(seed),
            "input": f"{task} ({config.split}, seed {seed})",
            **checked, "scores": scores}


def _evaluate_file(config):
    model, head, names = load_task_model(config.model)
    config = with_saved_columns(config, config.model)
    rows = heads.read(head, config.input, config, names)
    checked = _check_overlap(config.model, rows, config.allow_overlap)
    scores = evaluate_rows(head, model, rows, names, config.batch_size)
    result = {"head": head, "input": config.input, "num_examples": len(rows),
              "skipped_rows": rows.skipped, **checked, "scores": scores}
    for key in ("accuracy", "f1", "exact_match", "recall_at_1"):
        if key in scores:
            result[key] = scores[key]
    return head, result


def run_evaluation(model_dir, task=None, split="test", batch_size=64,
                   sequence_length=128, seed=None, allow_overlap=False,
                   **options):
    """Score a fine-tuned model and write its report.

    Without `input=`, a classifier on a bundled task's split: by default
    the split the model was fine-tuned with (the task and seed of its
    `split.json`). `seed` (or another `task`) overrides them, but examples
    the model was trained on are refused (a `ValueError` with the count and
    the first one) unless `allow_overlap=True`; the result says how many
    there were. With `input=FILE` (and the `FileOptions` fields), any head
    on a labelled file; its training examples are refused the same way.

    Returns:
        dict with `scores` (the head's metrics), `num_examples`,
        `overlap_with_training` (None when the model has no `split.json`),
        `same_split`, `report` (the JSON file) and, for bundled tasks,
        `accuracy`, `task`, `split` and `seed`.

    Example:
    ```python
    run_evaluation("saved_models/electra_tiny_demo/classifier")
    ```
    """
    config = EvaluateConfig(
        model=model_dir, task=task, split=split, batch_size=batch_size,
        sequence_length=sequence_length, seed=seed,
        allow_overlap=allow_overlap, **options)
    return run(config)


def run(config):
    """Score the model; returns the report dict."""
    config.validate()
    if config.input:
        head, result = _evaluate_file(config)
    else:
        head, result = "classifier", _evaluate_bundled(config)
    folder = config.output or os.path.join(config.model, "evaluation")
    return write_report(folder, result, head)


def report(config, result):
    shown = {k: v for k, v in result.items() if k != "scores"}
    scores = {k: v for k, v in result["scores"].items()
              if k not in ("confusion_matrix", "per_class", "per_type")}
    print(json.dumps({**shown, "scores": scores}, indent=2))
    print(f"Wrote the report to {result['report']}", file=sys.stderr)


# The config the command line is built from.
Config = EvaluateConfig
