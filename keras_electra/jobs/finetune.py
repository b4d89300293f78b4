"""The `finetune` job: a classifier from a pre-trained discriminator."""

import dataclasses
import json
import os

import numpy as np

from keras_electra.data.tokenizer_config import load_tokenizer
from keras_electra.jobs.options import JobConfig
from keras_electra.jobs.options import option
from keras_electra.jobs.task_data import _classification_dataset
from keras_electra.jobs.task_data import load_task
from keras_electra.training.run_lock import locks_run_folder

NAME = "finetune"
HELP = "Fine-tune a classifier from a discriminator."


@dataclasses.dataclass
class FinetuneConfig(JobConfig):
    """The `finetune` job's options.

    Example:
    ```python
    from keras_electra.jobs.finetune import FinetuneConfig, run
    run(FinetuneConfig(model="runs/my/discriminator", output="/tmp/clf",
                       epochs=1, max_train_examples=500))
    ```
    """

    required = ("model", "output")

    model: str = option(None, "Pre-trained discriminator folder.")
    output: str = option(None, "Folder for the classifier.")
    task: str = option(
        "rotten_tomatoes", "rotten_tomatoes, bbc_news or csv:PATH (a CSV "
        "file with columns text,label; labels are non-negative integers, "
        "their distinct values become the classes).")
    epochs: int = option(3, "Training epochs.", type=int)
    batch_size: int = option(32, "Batch size.", type=int)
    sequence_length: int = option(128, "Tokens per example.", type=int)
    learning_rate: float = option(3e-4, "Peak learning rate.", type=float)
    layerwise_decay: float = option(
        0.8, "Layer-wise learning-rate decay.", type=float)
    max_train_examples: int = option(
        None, "Use only this many training examples.", type=int)
    seed: int = option(
        0, "Seed of the split, the weight initialisation and the shuffling; "
        "saved with the model (split.json).", type=int)
    random_init: bool = option(
        False, "Same architecture, random weights: the baseline that shows "
        "what pre-training adds.", action="store_true")
    cased: bool = option(
        False, "Do not lower-case (default: as the model folder's "
        "tokenizer_config.json says, written by `vocab`; without one, cased "
        "if the vocabulary holds capitals).", action="store_true")


@locks_run_folder("output_dir")
def run_finetuning(
    model_dir,
    output_dir,
    task="rotten_tomatoes",
    epochs=3,
    batch_size=32,
    sequence_length=128,
    learning_rate=3e-4,
    layerwise_decay=0.8,
    max_train_examples=None,
    seed=0,
    random_init=False,
    verbose="auto",
    lowercase=None,
):
    """Fine-tune a classifier from a pre-trained discriminator folder.

    Loads the discriminator (keras_electra, Hugging Face or keras-hub folder)
    and its `vocab.txt`, fine-tunes `ElectraClassifier` with the paper's
    recipe (AdamW, layer-wise learning-rate decay, 10% warmup), evaluates on
    the test split against the majority-class baseline, and saves the
    classifier to `output_dir` with its vocabulary, `tokenizer_config.json`,
    `labels.json` and `split.json` (the task, seed and a fingerprint of each
    split and of every training text, so `run_evaluation` scores this run's
    own test split and refuses training examples).

    Args:
        model_dir: str. Pre-trained discriminator folder.
        output_dir: str. Where to save the classifier.
        task: str. See `load_task`. Defaults to `"rotten_tomatoes"`.
        epochs, batch_size, sequence_length, learning_rate, layerwise_decay:
            fine-tuning settings.
        max_train_examples: int. Use only this many training examples.
        seed: int. Defaults to `0`.
        random_init: bool. Same architecture, random weights (a baseline).
        verbose: passed to `fit()`.
        lowercase: bool or None. `None` (the default) follows the model
            folder's `tokenizer_config.json` (else its vocabulary); `False`
            for a cased checkpoint without one.

    Returns:
        dict with `accuracy`, `majority_baseline`, `validation_accuracy`,
        `num_train`, `num_test`, `model_dir`.

    Example:
    ```python
    run_finetuning("saved_models/electra_tiny_demo/discriminator",
                   "/tmp/classifier", epochs=1, max_train_examples=500)
    ```
    """
    import keras

    from keras_electra.data import ElectraClassifierPreprocessor
    from keras_electra.data import save_split
    from keras_electra.data import save_tokenizer_files
    from keras_electra.data import split_record
    from keras_electra.models import ElectraClassifier

    keras.utils.set_random_seed(seed)
    tokenizer = load_tokenizer(model_dir, lowercase)
    train_texts, train_labels, names = load_task(task, "train", seed)
    val_texts, val_labels, _ = load_task(task, "validation", seed, names)
    test_texts, test_labels, _ = load_task(task, "test", seed, names)
    if max_train_examples:
        train_texts = train_texts[:max_train_examples]
        train_labels = train_labels[:max_train_examples]
    for split, texts in (("train", train_texts), ("validation", val_texts),
                         ("test", test_texts)):
        if not len(texts):
            raise ValueError(
                f"Task '{task}' has no {split} examples "
                f"(max_train_examples={max_train_examples})."
            )
    preprocessor = ElectraClassifierPreprocessor(
        tokenizer, sequence_length=sequence_length
    )
    train = _classification_dataset(
        preprocessor, train_texts, train_labels, batch_size, True, seed
    )
    validation = _classification_dataset(
        preprocessor, val_texts, val_labels, batch_size
    )
    test = _classification_dataset(
        preprocessor, test_texts, test_labels, batch_size
    )
    model = ElectraClassifier.from_preset(
        model_dir, num_classes=len(names), load_weights=not random_init,
        preprocessor=preprocessor,
    )
    steps = epochs * int(np.ceil(len(train_texts) / batch_size))
    model.compile(
        learning_rate=learning_rate,
        train_steps=steps,
        layerwise_decay=layerwise_decay,
    )
    history = model.fit(
        train, validation_data=validation, epochs=epochs, verbose=verbose
    )
    logits = model.predict(test, verbose=0)
    accuracy = float((logits.argmax(-1) == test_labels).mean())
    majority = int(np.bincount(train_labels).argmax())
    baseline = float((test_labels == majority).mean())
    os.makedirs(output_dir, exist_ok=True)
    model.save_to_preset(output_dir)
    save_tokenizer_files(tokenizer, output_dir)
    with open(os.path.join(output_dir, "labels.json"), "w") as f:
        json.dump({"task": task, "labels": names}, f)
    save_split(output_dir, split_record(
        task, seed,
        {"train": train_texts, "validation": val_texts, "test": test_texts},
        fractions={"validation": 0.1, "test": 0.1},
    ))
    return {
        "accuracy": accuracy,
        "majority_baseline": baseline,
        "validation_accuracy": float(
            history.history.get("val_accuracy", [float("nan")])[-1]
        ),
        "num_train": len(train_texts),
        "num_test": len(test_texts),
        "model_dir": output_dir,
    }


def run(config):
    """Fine-tune as `config` says; returns `run_finetuning`'s summary."""
    config.validate()
    return run_finetuning(
        config.model, config.output, task=config.task, epochs=config.epochs,
        batch_size=config.batch_size, sequence_length=config.sequence_length,
        learning_rate=config.learning_rate,
        layerwise_decay=config.layerwise_decay,
        max_train_examples=config.max_train_examples, seed=config.seed,
        random_init=config.random_init,
        lowercase=False if config.cased else None,
    )


def report(config, result):
    print(json.dumps(result, indent=2))


# The config the command line is built from.
Config = FinetuneConfig
