"""The `predict` job: a fine-tuned model's predictions for a file.

The input is a file of the model's format without labels (a label column
or tags, when present, are ignored): a table's text (and pair) columns, a
CoNLL file's words, SQuAD questions, or a table of texts for the embedder.
Predictions go to a JSON Lines file, one line per input example, with its
`line` in the input: `label` and `probabilities` (classifier), `words` and
`tags` (tagger), `id`, `answer`, `score` and `start_char` (qa), `text` and
`embedding` (embedder).
"""

import dataclasses
import json
import os

from keras_electra.jobs import heads
from keras_electra.jobs.finetune import FileOptions
from keras_electra.jobs.finetune import with_saved_columns
from keras_electra.jobs.options import option

NAME = "predict"
HELP = "Predictions of a fine-tuned model for a file (JSON Lines)."


@dataclasses.dataclass
class PredictConfig(FileOptions):
    """The `predict` job's options.

    Example:
    ```python
    from keras_electra.jobs.predict import PredictConfig, run
    run(PredictConfig(model="saved_models/electra_tiny_demo/classifier",
                      input="reviews.csv", output="/tmp/predictions.jsonl"))
    ```
    """

    required = ("model", "input")

    model: str = option(None, "Fine-tuned model folder.")
    input: str = option(None, "File of inputs (the model's format).")
    output: str = option(
        None, "JSON Lines file to write. Default: <input>.predictions.jsonl.")
    batch_size: int = option(64, "Batch size.", type=int)


def run(config):
    """Write the predictions; returns `{"output", "count", "skipped_rows"}`."""
    from keras_electra.jobs.evaluate import load_task_model

    config.validate()
    model, head, names = load_task_model(config.model)
    config = with_saved_columns(config, config.model)
    rows = heads.read(head, config.input, config, labeled=False)
    predictions = heads.predict(head, model, rows, names, config.batch_size)
    output = config.output or config.input + ".predictions.jsonl"
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    temp = output + ".partial"
    with open(temp, "w", encoding="utf-8") as f:
        for line, prediction in zip(rows.lines, predictions):
            f.write(json.dumps({"line": line, **prediction},
                               ensure_ascii=False) + "\n")
    os.replace(temp, output)
    return {"output": output, "count": len(predictions), "head": head,
            "skipped_rows": rows.skipped}


def report(config, result):
    print(f"Wrote {result['count']} {result['head']} predictions to "
          f"{result['output']}"
          + (f" ({result['skipped_rows']} bad rows skipped)"
             if result["skipped_rows"] else ""))


# The config the command line is built from.
Config = PredictConfig
