"""The `prepare` job: pack text into sharded TFRecords, once."""

import dataclasses
import json

from keras_electra.jobs.options import JobConfig
from keras_electra.jobs.options import option

NAME = "prepare"
HELP = "Pack text into sharded TFRecords, once."


@dataclasses.dataclass
class PrepareConfig(JobConfig):
    """The `prepare` job's options.

    Example:
    ```python
    from keras_electra.data import bundled_corpus_files
    from keras_electra.data import bundled_vocabulary_file
    from keras_electra.jobs.prepare import PrepareConfig, run
    run(PrepareConfig(input=bundled_corpus_files(),
                      vocabulary=bundled_vocabulary_file(),
                      output="/tmp/shards", shards=2))
    ```
    """

    required = ("input", "vocabulary", "output")

    input: list = option(None, "Text files, folders or globs.", nargs="+")
    vocabulary: str = option(None, "vocab.txt.")
    output: str = option(None, "Folder for the shards.")
    shards: int = option(8, "Number of TFRecord shards.", type=int)
    cased: bool = option(
        False, "Do not lower-case (default: as the vocabulary's "
        "tokenizer_config.json says, written by `vocab`; without one, cased "
        "if the vocabulary holds capitals).", action="store_true")
    sequence_length: int = option(128, "Tokens per example.", type=int)
    seed: int = option(0, "Seed of the packing and shard order.", type=int)


def run(config):
    """Write the shards; returns `prepare_tfrecords`' summary."""
    from keras_electra.data import prepare_tfrecords
    from keras_electra.data import tokenizer_from_vocabulary
    from keras_electra.training.run_lock import RunLock

    config.validate()
    tokenizer = tokenizer_from_vocabulary(
        config.vocabulary, False if config.cased else None
    )
    with RunLock(config.output):
        return prepare_tfrecords(
            config.input, tokenizer, config.output, num_shards=config.shards,
            sequence_length=config.sequence_length, seed=config.seed,
        )


def report(config, result):
    print(json.dumps(result, indent=2, default=str))


# The config the command line is built from.
Config = PrepareConfig
