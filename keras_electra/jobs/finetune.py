"""The `finetune` job: a task model from a pre-trained discriminator.

Four heads (`--head`), each from the user's files (`--train`, optional
`--validation` and `--test`) or, for the classifier, a bundled task:

- `classifier`: sentence or pair classification from CSV, TSV or JSON Lines
  (`--text-column`, `--pair-column`, `--label-column`); the distinct
  labels of the training file become the classes (saved in `labels.json`).
- `tagger`: token classification from CoNLL-style files (`word ... tag`,
  a blank line between sentences; `--word-column`, `--tag-column`).
- `qa`: extractive question answering from SQuAD v1.1 / v2.0 JSON.
- `embedder`: sentence embeddings trained on matching pairs (`text`,
  `text_pair` columns) with in-batch negatives.

Without `--validation`, 10% of the training examples (seeded) are held
out. The folder gets the model, its tokenizer, `labels.json`, `split.json`
(fingerprints of the training examples, which `evaluate` refuses to score)
and `finetune.json` (the config and the scores).
"""

import dataclasses
import json
import os
import sys

import numpy as np

from keras_electra.data.tokenizer_config import load_tokenizer
from keras_electra.jobs import heads
from keras_electra.jobs.options import DistributedConfig
from keras_electra.jobs.options import JobConfig
from keras_electra.jobs.options import make_strategy
from keras_electra.jobs.options import option
from keras_electra.jobs.task_data import load_task
from keras_electra.jobs.task_files import Rows
from keras_electra.training.run_lock import locks_run_folder

NAME = "finetune"
HELP = "Fine-tune a classifier, tagger, QA model or embedder."


@dataclasses.dataclass
class FileOptions(JobConfig):
    """How the file jobs (finetune, evaluate, predict) read task files.

    Example:
    ```python
    from keras_electra.jobs.predict import PredictConfig
    assert PredictConfig(model="m", input="x.tsv").text_column == "text"
    ```
    """

    text_column: str = option(
        "text", "Table files: the column of the text (the query, for the "
        "embedder).")
    pair_column: str = option(
        None, "Table files: the column of the second text of a pair "
        "(classifier; the embedder's default: text_pair).")
    label_column: str = option("label", "Table files: the label column.")
    word_column: int = option(
        0, "CoNLL files: the word's column (whitespace-split; negative "
        "counts from the end).", type=int)
    tag_column: int = option(-1, "CoNLL files: the tag's column.", type=int)
    skip_bad_rows: bool = option(
        False, "Drop rows that cannot be read (counted and reported) instead "
        "of stopping at the first with its file and line.",
        action="store_true")


def with_saved_columns(config, model_dir):
    """`config` with the file columns the model was fine-tuned with
    (`finetune.json`) wherever `config` keeps the defaults.

    Example:
    ```python
    import tempfile
    config = with_saved_columns(FileOptions(), tempfile.mkdtemp())
    assert config.text_column == "text"
    ```
    """
    path = os.path.join(model_dir, "finetune.json")
    if not os.path.exists(path):
        return config
    with open(path, encoding="utf-8") as f:
        saved = json.load(f).get("config", {})
    changes = {}
    for field in dataclasses.fields(FileOptions):
        if field.name == "skip_bad_rows" or field.name not in saved:
            continue
        if getattr(config, field.name) == field.default:
            changes[field.name] = saved[field.name]
    return dataclasses.replace(config, **changes)


@dataclasses.dataclass
class FinetuneConfig(FileOptions, DistributedConfig):
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
    output: str = option(None, "Folder for the fine-tuned model.")
    head: str = option(
        "classifier", "What to fine-tune: classifier (table files), tagger "
        "(CoNLL), qa (SQuAD JSON) or embedder (table of text pairs).",
        choices=heads.HEADS)
    train: str = option(
        None, "Training file (.csv, .tsv, .jsonl; .conll/.txt CoNLL for the "
        "tagger; SQuAD .json for qa). Without it, --task.")
    validation: str = option(
        None, "Validation file. Default: 10% of --train, held out.")
    test: str = option(None, "Test file, scored at the end.")
    task: str = option(
        "rotten_tomatoes", "Without --train: rotten_tomatoes, bbc_news or "
        "csv:PATH (a CSV file with columns text,label; labels are "
        "non-negative integers, their distinct values become the classes; "
        "split 80/10/10 by --seed).")
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

    def validate(self):
        super().validate()
        if self.head != "classifier" and not self.train:
            raise ValueError(
                f"--head {self.head} needs --train FILE (bundled tasks are "
                "sentence classification).")
        for name in ("epochs", "batch_size", "sequence_length"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1.")
        return self


def subset(rows, index):
    """The examples `index` of `rows` (a `Rows`), in that order.

    Example:
    ```python
    from keras_electra.jobs.task_files import Rows
    rows = Rows("f", ["a", "b"], ["x", "y"], [2, 3], ["a", "b"])
    assert subset(rows, [1]).inputs == ["b"]
    ```
    """
    def take(values):
        if values is None or isinstance(values, str):
            return values
        if isinstance(values, tuple):
            return tuple(take(v) for v in values)
        return [values[i] for i in index]

    extra = {k: take(v) for k, v in rows.extra.items()}
    return Rows(rows.path, take(rows.inputs), take(rows.targets),
                take(rows.lines), take(rows.keys), rows.skipped, extra)


def load_splits(config):
    """`(task, train, validation, test, names)` of a config's data.

    `test` is `None` for files without `--test`; `names` the classes or
    tags (`None` for qa and the embedder).
    """
    if not config.train:
        return _bundled_splits(config)
    train = heads.read(config.head, config.train, config)
    names = heads.labels(config.head, train)
    if config.validation:
        validation = heads.read(config.head, config.validation, config,
                                names)
    else:
        if len(train) < 2:
            raise ValueError(
                f"{config.train}: {len(train)} example(s); hold-out "
                "validation needs at least 2 (or give --validation).")
        order = np.random.default_rng(config.seed).permutation(len(train))
        cut = max(1, len(train) // 10)
        validation = subset(train, sorted(order[:cut]))
        train = subset(train, sorted(order[cut:]))
    test = (heads.read(config.head, config.test, config, names)
            if config.test else None)
    if config.max_train_examples:
        train = subset(train, range(min(len(train),
                                        config.max_train_examples)))
    return f"file:{os.path.basename(config.train)}", train, validation, \
        test, names


def _bundled_splits(config):
    splits = {}
    names = None
    for split in ("train", "validation", "test"):
        texts, labels, names = load_task(config.task, split, config.seed,
                                         names)
        if split == "train" and config.max_train_examples:
            texts = texts[:config.max_train_examples]
            labels = labels[:config.max_train_examples]
        if not len(texts):
            raise ValueError(
                f"Task '{config.task}' has no {split} examples "
                f"(max_train_examples={config.max_train_examples}).")
        splits[split] = Rows(config.task, list(texts),
                             [names[i] for i in labels],
                             list(range(len(texts))), list(texts))
    return (config.task, splits["train"], splits["validation"],
            splits["test"], list(names))


def _train_steps(config, model, rows):
    examples = len(rows)
    if config.head == "qa":  # long passages give several windows each
        examples = len(model.preprocessor.features(
            *rows.inputs, rows.targets)["token_ids"])
    return config.epochs * int(np.ceil(examples / config.batch_size))


def _build(config, tokenizer, names, train):
    """The compiled task model (in the strategy's scope)."""
    model = heads.build(config.head, config.model, tokenizer, names,
                        config.sequence_length,
                        load_weights=not config.random_init)
    kwargs = dict(learning_rate=config.learning_rate,
                  train_steps=_train_steps(config, model, train),
                  layerwise_decay=config.layerwise_decay)
    if config.head != "embedder":
        model.compile(**kwargs)
        return model, None
    import keras

    from keras_electra.models import contrastive_trainer
    from keras_electra.optimizers.layerwise_decay import fine_tuning_optimizer

    trainer = contrastive_trainer(model)
    trainer.compile(
        optimizer=fine_tuning_optimizer(trainer, **kwargs),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model, trainer


def pair_dataset(preprocessor, texts, pairs, batch_size, shuffle=False,
                 seed=0):
    """Batches `({"anchor": x, "positive": x}, range(batch))` for
    `contrastive_trainer`.

    Example:
    ```python
    from keras_electra.data import ElectraClassifierPreprocessor
    from keras_electra.models import ElectraTextEmbedder
    pre = ElectraTextEmbedder.from_preset("electra_tiny").preprocessor
    ds = pair_dataset(pre, ["a cat"], ["a kitten"], batch_size=8)
    ```
    """
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((list(texts), list(pairs)))
    if shuffle:
        ds = ds.shuffle(len(texts), seed=seed, reshuffle_each_iteration=True)

    def pack(a, p):
        return ({"anchor": preprocessor(a), "positive": preprocessor(p)},
                tf.range(tf.shape(a)[0]))

    ds = ds.batch(batch_size).map(pack, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def _fit(config, model, trainer, train, validation, names, verbose):
    if trainer is not None:
        pre = model.preprocessor
        return trainer.fit(
            pair_dataset(pre, train.inputs, train.targets,
                         config.batch_size, True, config.seed),
            validation_data=pair_dataset(pre, validation.inputs,
                                         validation.targets,
                                         config.batch_size),
            epochs=config.epochs, verbose=verbose)
    fit_y = heads.fit_targets(config.head, train, names)
    val_y = heads.fit_targets(config.head, validation, names)
    validation_data = (validation.inputs, val_y)
    if config.head != "qa":  # word lists need the ragged batching
        from keras_electra.data.raw_inputs import raw_dataset

        validation_data = raw_dataset(*validation_data, shuffle=False,
                                      batch_size=config.batch_size)
    return model.fit(train.inputs, fit_y, batch_size=config.batch_size,
                     epochs=config.epochs, validation_data=validation_data,
                     verbose=verbose)


def evaluate_rows(head, model, rows, names, batch_size):
    """The scores of `model` on labelled `rows` (see `heads.score`)."""
    if head == "embedder":
        return heads.retrieval_scores(model, rows, batch_size)
    predictions = heads.predict(head, model, rows, names, batch_size)
    return heads.score(head, rows, predictions, names)


def _save(config, output_dir, model, tokenizer, task, splits, names,
          result):
    from keras_electra.data import save_split
    from keras_electra.data import save_tokenizer_files
    from keras_electra.data import split_record

    os.makedirs(output_dir, exist_ok=True)
    model.save_to_preset(output_dir)
    save_tokenizer_files(tokenizer, output_dir)
    with open(os.path.join(output_dir, "labels.json"), "w",
              encoding="utf-8") as f:
        json.dump({"task": task, "head": config.head, "labels": names}, f,
                  ensure_ascii=False)
    fractions = None if config.train else {"validation": 0.1, "test": 0.1}
    save_split(output_dir, split_record(
        task, config.seed,
        {name: rows.keys for name, rows in splits.items() if rows},
        fractions=fractions))
    with open(os.path.join(output_dir, "finetune.json"), "w") as f:
        json.dump({"config": dataclasses.asdict(config), "result": result},
                  f, indent=2, default=str)


@locks_run_folder("output_dir")
def _finetune(config, output_dir, verbose="auto", lowercase=None):
    import keras

    from keras_electra.training import build_in_scope
    from keras_electra.training import distribution_scope
    from keras_electra.training import num_replicas

    # First: logical CPUs (--devices) must be set up before TensorFlow
    # initializes its devices.
    strategy = make_strategy(config)
    keras.utils.set_random_seed(config.seed)
    if lowercase is None and config.cased:
        lowercase = False
    tokenizer = load_tokenizer(config.model, lowercase)
    task, train, validation, test, names = load_splits(config)
    built = {}

    def model_fn():
        built["model"], built["trainer"] = _build(config, tokenizer, names,
                                                  train)
        return built["trainer"] or built["model"]

    build_in_scope(model_fn, strategy)
    model = built["model"]
    with distribution_scope(strategy):
        history = _fit(config, model, built["trainer"], train, validation,
                       names, verbose)
    result = _summary(config, model, history, train, validation, test, names)
    result["replicas"] = num_replicas(strategy)
    result["model_dir"] = output_dir
    _save(config, output_dir, model, tokenizer, task,
          {"train": train, "validation": validation, "test": test}, names,
          result)
    return result


def _summary(config, model, history, train, validation, test, names):
    scored = test if test is not None else validation
    scores = evaluate_rows(config.head, model, scored, names,
                           config.batch_size)
    result = {
        "head": config.head,
        "scored_split": "test" if test is not None else "validation",
        "scores": scores,
        "num_train": len(train),
        "num_validation": len(validation),
        "num_test": len(test) if test is not None else 0,
        "skipped_rows": train.skipped + validation.skipped
        + (test.skipped if test is not None else 0),
        "final_loss": float(history.history["loss"][-1]),
        "history": {k: [float(v) for v in values]
                    for k, values in history.history.items()},
    }
    if config.head == "classifier":
        majority = max(set(train.targets), key=train.targets.count)
        result["accuracy"] = scores["accuracy"]
        result["majority_baseline"] = float(np.mean(
            [t == majority for t in scored.targets]))
        result["validation_accuracy"] = float(
            history.history.get("val_accuracy", [float("nan")])[-1])
    return result


def run_finetuning(model_dir, output_dir, task="rotten_tomatoes",
                   verbose="auto", lowercase=None, **options):
    """Fine-tune from a pre-trained discriminator folder (Python entry).

    Loads the discriminator (keras_electra, Hugging Face or keras-hub
    folder) and its `vocab.txt`, fine-tunes with the paper's recipe (AdamW,
    layer-wise learning-rate decay, 10% warmup), scores the test split
    (classifier: against the majority-class baseline) and saves the model
    to `output_dir` with its vocabulary, `tokenizer_config.json`,
    `labels.json`, `split.json` and `finetune.json`.

    Args:
        model_dir: str. Pre-trained discriminator folder.
        output_dir: str. Where to save the model.
        task: str. A bundled task (see `load_task`); ignored with `train=`.
        verbose: passed to `fit()`.
        lowercase: bool or None. `None` follows the model folder's
            `tokenizer_config.json` (else its vocabulary); `False` for a
            cased checkpoint without one.
        **options: any other `FinetuneConfig` field (`head`, `train`,
            `epochs`, `batch_size`, `seed`, `strategy`, ...).

    Returns:
        dict with `scores`, `num_train`, `num_test`, `model_dir`, ...; for
        the classifier also `accuracy`, `majority_baseline` and
        `validation_accuracy`.

    Example:
    ```python
    run_finetuning("saved_models/electra_tiny_demo/discriminator",
                   "/tmp/classifier", epochs=1, max_train_examples=500)
    ```
    """
    options.setdefault("strategy", "default")
    config = FinetuneConfig(model=model_dir, output=output_dir, task=task,
                            cased=lowercase is False, **options).validate()
    return _finetune(config, output_dir, verbose=verbose,
                     lowercase=lowercase)


def run(config):
    """Fine-tune as `config` says; returns `run_finetuning`'s summary."""
    config.validate()
    return _finetune(config, config.output)


def report(config, result):
    print(json.dumps(result, indent=2))
    print(f"Saved the fine-tuned {result['head']} to {result['model_dir']}",
          file=sys.stderr)


# The config the command line is built from.
Config = FinetuneConfig
