"""`keras-electra`: the command line of keras_electra.

Verbs: `vocab`, `prepare`, `pretrain`, `finetune`, `evaluate`, `export`,
`inspect` and `demo`. Every flag can also come from a config file
(`--config run.toml` or `.json`, keys named like the flags with
underscores); flags given on the command line win. The logic lives in
`keras_electra.workflows`; this module only parses arguments.

Example:
```
keras-electra vocab --input corpus/ --output runs/my/vocab.txt --size 16000
keras-electra pretrain --input corpus/ --output runs/my --steps 20000
keras-electra finetune --model runs/my/discriminator --output runs/my/clf
keras-electra export --model runs/my/clf --output saved_models/my
keras-electra inspect --model runs/my/discriminator --text "The cat sat."
```
"""

import argparse
import json
import logging
import os
import sys

from keras_electra.jobs.options import parse_options  # noqa: F401


def _load_config(path):
    if not os.path.exists(path):
        raise SystemExit(f"keras-electra: config file '{path}' not found.")
    with open(path, "rb") as f:
        raw = f.read()
    try:
        if path.endswith(".toml"):
            import tomllib

            config = tomllib.loads(raw.decode("utf-8"))
        else:
            config = json.loads(raw.decode("utf-8"))
    except Exception as e:  # noqa: BLE001 - report any parse error clearly
        raise SystemExit(f"keras-electra: cannot parse '{path}': {e}")
    if not isinstance(config, dict):
        raise SystemExit(f"keras-electra: '{path}' must hold a table/object.")
    return {k.replace("-", "_"): v for k, v in config.items()}


def _parser():
    parser = argparse.ArgumentParser(
        prog="keras-electra",
        description="ELECTRA pre-training, fine-tuning and export for Keras 3.",
    )
    parser.add_argument(
        "--backend",
        choices=["tensorflow", "jax", "torch"],
        help="Keras backend (default: KERAS_BACKEND or tensorflow).",
    )
    verbs = parser.add_subparsers(dest="verb", required=True)

    def cased_flag(p, source):
        p.add_argument("--cased", action="store_true", default=None,
                       help=f"Do not lower-case (default: as the {source} "
                       "tokenizer_config.json says, written by `vocab`; "
                       "without one, cased if the vocabulary holds capitals).")

    def verb(name, help_text):
        p = verbs.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--config", help="TOML or JSON file of flag values.")
        return p

    p = verb("vocab", "Train a WordPiece vocabulary on text files.")
    p.add_argument("--input", nargs="+", help="Text files, folders or globs.")
    p.add_argument("--output", help="vocab.txt to write.")
    p.add_argument("--size", type=int, default=8192, help="Vocabulary size.")
    p.add_argument("--cased", action="store_true",
                   help="Keep case and accents (a cased vocabulary; "
                   "tokenizer_config.json beside it records the choice).")

    p = verb("prepare", "Pack text into sharded TFRecords, once.")
    p.add_argument("--input", nargs="+", help="Text files, folders or globs.")
    p.add_argument("--vocabulary", help="vocab.txt.")
    p.add_argument("--output", help="Folder for the shards.")
    p.add_argument("--shards", type=int, default=8)
    cased_flag(p, "vocabulary's")
    p.add_argument("--sequence-length", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)

    from keras_electra.jobs import pretrain

    p = verb(pretrain.NAME, pretrain.HELP)
    pretrain.PretrainConfig.add_arguments(p)

    p = verb("finetune", "Fine-tune a classifier from a discriminator.")
    p.add_argument("--model", help="Pre-trained discriminator folder.")
    p.add_argument("--output", help="Folder for the classifier.")
    p.add_argument("--task", default="rotten_tomatoes",
                   help="rotten_tomatoes, bbc_news or csv:PATH (a CSV file "
                   "with columns text,label; labels are non-negative "
                   "integers, their distinct values become the classes).")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--sequence-length", type=int, default=128)
    p.add_argument("--learning-rate", type=float, default=3e-4)
    p.add_argument("--layerwise-decay", type=float, default=0.8)
    p.add_argument("--max-train-examples", type=int)
    p.add_argument("--seed", type=int, default=0,
                   help="Seed of the split, the weight initialisation and "
                   "the shuffling; saved with the model (split.json).")
    p.add_argument("--random-init", action="store_true",
                   help="Same architecture, random weights: the baseline "
                   "that shows what pre-training adds.")
    cased_flag(p, "model folder's")

    p = verb("evaluate", "Accuracy of a saved classifier on a task split.")
    p.add_argument("--model", help="Classifier folder.")
    p.add_argument("--task",
                   help="Default: the task the model was fine-tuned on "
                   "(split.json), else rotten_tomatoes.")
    p.add_argument("--split", default="test")
    p.add_argument("--seed", type=int,
                   help="Split seed. Default: the seed the model was "
                   "fine-tuned with (split.json), so its own test split is "
                   "scored; another seed is refused where its split holds "
                   "training examples.")
    p.add_argument("--allow-overlap", action="store_true",
                   help="Score examples the model was trained on anyway "
                   "(the result counts them).")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--sequence-length", type=int, default=128)

    p = verb("export", "Export to SavedModel (TF Serving) and LiteRT.")
    p.add_argument("--model", help="Model folder (discriminator/classifier).")
    p.add_argument("--output", help="Artifact folder.")
    p.add_argument("--format", nargs="+", default=["saved_model", "tflite"],
                   choices=["saved_model", "tflite"])
    p.add_argument("--quantization", nargs="+",
                   default=["float32", "float16", "dynamic_int8", "full_int8"],
                   choices=["float32", "float16", "dynamic_int8", "full_int8"])
    p.add_argument("--sequence-length", type=int, default=128)
    p.add_argument("--no-metadata", dest="metadata", action="store_false",
                   default=None,
                   help="LiteRT files of classifiers and embedders carry "
                   "MediaPipe metadata (tokenizer, labels; MediaPipe "
                   "TextClassifier / TextEmbedder then take raw text) by "
                   "default; this gives the plain token-id model with all "
                   "its outputs.")

    p = verb("inspect", "Show which tokens the discriminator thinks replaced.")
    p.add_argument("--model", help="Discriminator folder.")
    p.add_argument("--text", help="Sentence to score.")
    p.add_argument("--html", help="Also write an HTML page here.")

    p = verb("demo", "The whole pipeline on the bundled data, in minutes.")
    p.add_argument("--output", default="saved_models/electra_tiny_demo")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--finetune-examples", type=int, default=4000)
    p.add_argument("--seed", type=int, default=0)
    return parser


def _require(args, *names):
    missing = [n for n in names if getattr(args, n, None) in (None, [], "")]
    if missing:
        flags = ", ".join("--" + n.replace("_", "-") for n in missing)
        raise SystemExit(f"keras-electra {args.verb}: missing {flags}.")


def parse_args(argv=None):
    """Parse flags, filling unset ones from `--config`.

    Example:
    ```python
    args = parse_args(["vocab", "--input", "a.txt", "--output", "v.txt"])
    ```
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if getattr(args, "config", None):
        config = _load_config(args.config)
        explicit = {
            a.lstrip("-").split("=")[0].replace("-", "_")
            for a in (argv if argv is not None else sys.argv[1:])
            if a.startswith("--")
        }
        unknown = [k for k in config if not hasattr(args, k)]
        if unknown:
            raise SystemExit(
                f"keras-electra {args.verb}: unknown key(s) {unknown} in "
                f"{args.config}."
            )
        for key, value in config.items():
            if key not in explicit:
                setattr(args, key, value)
    return args


def main(argv=None):
    """Entry point of the `keras-electra` command.

    Example:
    ```python
    main(["inspect", "--help"])  # prints the verb's help and exits
    ```
    """
    from keras_electra.training.run_lock import RunFolderLocked

    args = parse_args(argv)
    if args.backend:
        os.environ["KERAS_BACKEND"] = args.backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    _show_library_logs()
    try:
        return _run(args)
    except (OSError, ValueError, RunFolderLocked) as e:
        # OSError: missing files, and a full disk or another I/O error
        # while writing (the backup code keeps the last complete backup).
        print(f"keras-electra {args.verb}: error: {e}", file=sys.stderr)
        return 2


def _show_library_logs():
    # The corpus report and other INFO messages of keras_electra.
    logger = logging.getLogger("keras_electra")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("keras-electra: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def _run(args):
    from keras_electra import workflows

    if args.verb == "vocab":
        _require(args, "input", "output")
        tokenizer = workflows.train_vocab(
            args.input, args.output, args.size, lowercase=not args.cased
        )
        print(f"wrote {args.output} ({tokenizer.vocabulary_size()} tokens)")
    elif args.verb == "prepare":
        _require(args, "input", "vocabulary", "output")
        from keras_electra.data import prepare_tfrecords
        from keras_electra.data import tokenizer_from_vocabulary

        from keras_electra.training.run_lock import RunLock

        tokenizer = tokenizer_from_vocabulary(
            args.vocabulary, False if args.cased else None
        )
        with RunLock(args.output):
            result = prepare_tfrecords(
                args.input, tokenizer, args.output, num_shards=args.shards,
                sequence_length=args.sequence_length, seed=args.seed,
            )
        print(json.dumps(result, indent=2, default=str))
    elif args.verb == "pretrain":
        from keras_electra.jobs import pretrain

        config = pretrain.PretrainConfig.from_args(args)
        _print_pretraining(pretrain.run(config))
    elif args.verb == "finetune":
        _require(args, "model", "output")
        result = workflows.run_finetuning(
            args.model, args.output, task=args.task, epochs=args.epochs,
            batch_size=args.batch_size, sequence_length=args.sequence_length,
            learning_rate=args.learning_rate,
            layerwise_decay=args.layerwise_decay,
            max_train_examples=args.max_train_examples, seed=args.seed,
            random_init=args.random_init,
            lowercase=False if args.cased else None,
        )
        print(json.dumps(result, indent=2))
    elif args.verb == "evaluate":
        _require(args, "model")
        print(json.dumps(workflows.run_evaluation(
            args.model, args.task, args.split, batch_size=args.batch_size,
            sequence_length=args.sequence_length, seed=args.seed,
            allow_overlap=args.allow_overlap), indent=2))
    elif args.verb == "export":
        _require(args, "model", "output")
        _check_export_backend()
        quantizations = [
            None if q == "float32" else q for q in args.quantization
        ]
        artifacts = workflows.run_export(
            args.model, args.output, formats=args.format,
            quantizations=quantizations, sequence_length=args.sequence_length,
            metadata=args.metadata,
        )
        for path, size in artifacts.items():
            print(f"{size / 1e6:8.2f} MB  {path}")
    elif args.verb == "inspect":
        _require(args, "model", "text")
        scores = workflows.inspect_text(args.model, args.text)
        print(workflows.render_terminal(scores))
        if args.html:
            print("wrote", workflows.render_html(scores, args.text, args.html))
    elif args.verb == "demo":
        _check_export_backend()
        from keras_electra.demo import run_demo

        run_demo(args.output, steps=args.steps,
                 finetune_examples=args.finetune_examples, seed=args.seed)
    return 0


def _check_export_backend():
    import keras

    if keras.config.backend() != "tensorflow":
        raise SystemExit(
            "keras-electra: SavedModel and LiteRT export need the TensorFlow "
            f"backend (current: {keras.config.backend()}). Run with "
            "--backend tensorflow; weights saved under any backend load there."
        )


def _print_pretraining(result):
    history = result["history"]
    last = {k: round(v[-1], 4) for k, v in history.items() if v}
    print(json.dumps(last, indent=2))
    print(f"encoder to fine-tune: {result['encoder_dir']}")
    print(f"plot: {result['plot']}")
    print(f"{result['tokens_per_second']:.0f} tokens/s on "
          f"{result['replicas']} replica(s)")


if __name__ == "__main__":
    sys.exit(main())
