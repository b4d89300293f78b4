"""`keras-electra`: the command line of keras_electra.

Verbs: `vocab`, `prepare`, `pretrain`, `finetune`, `evaluate`, `predict`,
`index`, `search`, `export`, `inspect` and `demo`. Every flag can also come from a config file
(`--config run.toml` or `.json`, keys named like the flags with
underscores); flags given on the command line win. The verbs, their flags
and their logic live in `keras_electra.jobs` (one module and one config
dataclass per job); this module builds the parser from them.

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
import contextlib
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
    from keras_electra.jobs import JOBS

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
    for job in JOBS:
        p = verbs.add_parser(job.NAME, help=job.HELP, description=job.HELP)
        p.add_argument("--config", help="TOML or JSON file of flag values.")
        job.Config.add_arguments(p)
    return parser


def _flag_dests(verb):
    """`{flag_name: field}` where they differ (`no_metadata`: `metadata`)."""
    import dataclasses

    from keras_electra.jobs import JOBS

    job = {job.NAME: job for job in JOBS}[verb]
    dests = {}
    for field in dataclasses.fields(job.Config):
        flag = field.metadata.get("flag")
        if flag:
            dests[flag.lstrip("-").replace("-", "_")] = field.name
    return dests


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
        dests = _flag_dests(args.verb)
        config = {dests.get(k, k): v for k, v in config.items()}
        explicit = {
            dests.get(name, name) for name in (
                a.lstrip("-").split("=")[0].replace("-", "_")
                for a in (argv if argv is not None else sys.argv[1:])
                if a.startswith("--")
            )
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


class _StderrHandler(logging.StreamHandler):
    """Writes to `sys.stderr` as it is at each message, so `main()` called
    twice in one process (a notebook, a test with redirected streams)
    reports into the stream of the current call."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def _show_library_logs():
    # The corpus report and other INFO messages of keras_electra.
    logger = logging.getLogger("keras_electra")
    if not logger.handlers:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("keras-electra: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def _run(args):
    from keras_electra.jobs import JOBS

    job = {job.NAME: job for job in JOBS}[args.verb]
    config = job.Config.from_args(args)
    # Progress (Keras' bars: steps, time per step, ETA) goes to stderr, so
    # stdout holds the job's report (JSON for most jobs) alone.
    with contextlib.redirect_stdout(sys.stderr):
        result = job.run(config)
    job.report(config, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
