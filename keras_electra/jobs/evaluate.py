"""The `evaluate` job: accuracy of a saved classifier on a task split."""

import dataclasses
import json
import os

from keras_electra.data.tokenizer_config import load_tokenizer
from keras_electra.jobs.options import JobConfig
from keras_electra.jobs.options import option
from keras_electra.jobs.task_data import _classification_dataset
from keras_electra.jobs.task_data import load_task

NAME = "evaluate"
HELP = "Accuracy of a saved classifier on a task split."


@dataclasses.dataclass
class EvaluateConfig(JobConfig):
    """The `evaluate` job's options.

    Example:
    ```python
    from keras_electra.jobs.evaluate import EvaluateConfig, run
    run(EvaluateConfig(model="saved_models/electra_tiny_demo/classifier"))
    ```
    """

    required = ("model",)

    model: str = option(None, "Classifier folder.")
    task: str = option(
        None, "Default: the task the model was fine-tuned on (split.json), "
        "else rotten_tomatoes.")
    split: str = option("test", "Split to score.")
    seed: int = option(
        None, "Split seed. Default: the seed the model was fine-tuned with "
        "(split.json), so its own test split is scored; another seed is "
        "refused where its split holds training examples.", type=int)
    allow_overlap: bool = option(
        False, "Score examples the model was trained on anyway (the result "
        "counts them).", action="store_true")
    batch_size: int = option(64, "Batch size.", type=int)
    sequence_length: int = option(128, "Tokens per example.", type=int)


def run_evaluation(model_dir, task=None, split="test", batch_size=64,
                   sequence_length=128, seed=None, allow_overlap=False):
    """Accuracy of a saved classifier on a task split.

    By default it scores the split the model was fine-tuned with: the task
    and seed come from the model's `split.json` (written by
    `run_finetuning`). `seed` (or another `task`) overrides them, but
    examples the model was trained on are refused (a `ValueError` with the
    count and the first one) unless `allow_overlap=True`; the result says
    how many there were. A folder without `split.json` (fine-tuned
    elsewhere) is scored with `seed` (default 0), unchecked.

    Returns:
        dict with `accuracy`, `num_examples`, `task`, `seed`,
        `overlap_with_training` (None when the model has no `split.json`)
        and `same_split`.

    Example:
    ```python
    run_evaluation("saved_models/electra_tiny_demo/classifier")
    ```
    """
    import logging

    from keras_electra.data import check_split
    from keras_electra.data import load_split
    from keras_electra.data import ElectraClassifierPreprocessor
    from keras_electra.models import ElectraClassifier

    record = load_split(model_dir)
    if task is None:
        task = record["task"] if record else "rotten_tomatoes"
    if seed is None:
        seed = record["seed"] if record and task == record["task"] else 0
    tokenizer = load_tokenizer(model_dir)
    names = None
    labels_file = os.path.join(model_dir, "labels.json")
    if os.path.exists(labels_file):
        with open(labels_file, encoding="utf-8") as f:
            names = json.load(f).get("labels")
    texts, labels, task_names = load_task(task, split, seed, names)
    if names is not None and list(task_names) != list(names):
        raise ValueError(
            f"The model in '{model_dir}' was trained with labels {names}; "
            f"task '{task}' has labels {list(task_names)}."
        )
    if not len(texts):
        raise ValueError(f"Task '{task}' has no {split} examples.")
    checked = {"overlap_with_training": None, "same_split": None}
    if record is None:
        logging.getLogger(__name__).warning(
            "'%s' has no split.json (it was not fine-tuned by "
            "run_finetuning): cannot check that the %s examples of '%s' "
            "(seed %s) were not training examples.", model_dir, split, task,
            seed,
        )
    else:
        checked = check_split(
            record, task, seed, split, texts, allow_overlap,
            where=f"the model in '{model_dir}'",
        )
    preprocessor = ElectraClassifierPreprocessor(
        tokenizer, sequence_length=sequence_length
    )
    data = _classification_dataset(preprocessor, texts, labels, batch_size)
    model = ElectraClassifier.from_preset(model_dir)
    predictions = model.predict(data, verbose=0).argmax(-1)
    return {
        "accuracy": float((predictions == labels).mean()),
        "num_examples": len(texts),
        "task": task,
        "split": split,
        "seed": int(seed),
        **checked,
    }


def run(config):
    """Score the classifier; returns `run_evaluation`'s result."""
    config.validate()
    return run_evaluation(
        config.model, config.task, config.split,
        batch_size=config.batch_size, sequence_length=config.sequence_length,
        seed=config.seed, allow_overlap=config.allow_overlap,
    )


def report(config, result):
    print(json.dumps(result, indent=2))


# The config the command line is built from.
Config = EvaluateConfig
