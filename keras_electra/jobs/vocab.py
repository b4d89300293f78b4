"""The `vocab` job: train a WordPiece vocabulary on text files."""

import dataclasses
import os

from keras_electra.jobs.options import JobConfig
from keras_electra.jobs.options import option

NAME = "vocab"
HELP = "Train a WordPiece vocabulary on text files."


@dataclasses.dataclass
class VocabConfig(JobConfig):
    """The `vocab` job's options.

    Example:
    ```python
    from keras_electra.data import bundled_corpus_files
    from keras_electra.jobs.vocab import VocabConfig, run
    run(VocabConfig(input=bundled_corpus_files(), output="/tmp/v/vocab.txt",
                    size=2000))
    ```
    """

    required = ("input", "output")

    input: list = option(None, "Text files, folders or globs.", nargs="+")
    output: str = option(None, "vocab.txt to write.")
    size: int = option(8192, "Vocabulary size.", type=int)
    cased: bool = option(
        False, "Keep case and accents (a cased vocabulary; "
        "tokenizer_config.json beside it records the choice).",
        action="store_true")


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


def run(config):
    """Train the vocabulary; returns the tokenizer (see `VocabConfig`)."""
    config.validate()
    return train_vocab(config.input, config.output, config.size,
                       lowercase=not config.cased)


def report(config, tokenizer):
    print(f"wrote {config.output} ({tokenizer.vocabulary_size()} tokens)")


# The config the command line is built from.
Config = VocabConfig
