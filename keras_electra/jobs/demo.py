"""The `demo` job: the whole pipeline on the bundled data, in minutes."""

import dataclasses

from keras_electra.jobs.options import JobConfig
from keras_electra.jobs.options import option
from keras_electra.jobs.options import require_tensorflow

NAME = "demo"
HELP = "The whole pipeline on the bundled data, in minutes."


@dataclasses.dataclass
class DemoConfig(JobConfig):
    """The `demo` job's options (see `keras_electra.demo.run_demo`).

    Example:
    ```python
    from keras_electra.jobs.demo import DemoConfig, run
    run(DemoConfig(output="/tmp/demo", steps=20, finetune_examples=200))
    ```
    """

    output: str = option("saved_models/electra_tiny_demo", "Demo folder.")
    steps: int = option(600, "Pre-training steps.", type=int)
    finetune_examples: int = option(
        4000, "Training snippets used.", type=int)
    seed: int = option(0, "Seed of every step.", type=int)


def run(config):
    """Run the demo; returns its summary (also printed)."""
    from keras_electra.demo import run_demo

    config.validate()
    require_tensorflow("The demo (it ends with SavedModel and LiteRT export)")
    return run_demo(config.output, steps=config.steps,
                    finetune_examples=config.finetune_examples,
                    seed=config.seed)


def report(config, summary):
    pass  # run_demo prints its own summary


# The config the command line is built from.
Config = DemoConfig
