"""The `index` and `search` jobs: an embedder's nearest-neighbour index.

`index` embeds every non-blank line of a text file with a fine-tuned
`ElectraTextEmbedder` folder and saves the vectors and texts
(`EmbeddingIndex.save`: `vectors.npy`, `texts.json`, and `index.json`
naming the model); `search` embeds queries and prints the closest texts
by cosine similarity.
"""

import dataclasses
import json
import os

from keras_electra.jobs.options import JobConfig
from keras_electra.jobs.options import option

NAME = "index"
HELP = "Build an embedder's search index from a text file."


@dataclasses.dataclass
class IndexConfig(JobConfig):
    """The `index` job's options.

    Example:
    ```python
    from keras_electra.jobs.index import IndexConfig, run
    run(IndexConfig(model="runs/embedder", input="passages.txt",
                    output="runs/index"))
    ```
    """

    required = ("model", "input", "output")

    model: str = option(None, "Embedder folder (finetune --head embedder).")
    input: str = option(None, "Text file: one passage a line.")
    output: str = option(None, "Index folder.")
    batch_size: int = option(64, "Batch size.", type=int)


def _embedder(model_dir):
    from keras_electra.jobs.evaluate import load_task_model

    model, head, _ = load_task_model(model_dir)
    if head != "embedder":
        raise ValueError(
            f"'{model_dir}' holds a {head}; an index needs an embedder "
            "(finetune --head embedder).")
    return model


def run(config):
    """Embed and save; returns `{"output", "count"}`."""
    from keras_electra.jobs.task_files import read_lines
    from keras_electra.models import EmbeddingIndex

    config.validate()
    texts, _ = read_lines(config.input)
    model = _embedder(config.model)
    index = EmbeddingIndex(model, model.preprocessor, config.batch_size)
    index.add(texts=texts).save(config.output)
    with open(os.path.join(config.output, "index.json"), "w") as f:
        json.dump({"model": os.path.abspath(config.model),
                   "input": os.path.abspath(config.input),
                   "count": len(texts)}, f, indent=2)
    return {"output": config.output, "count": len(texts)}


def report(config, result):
    print(f"Indexed {result['count']} texts in {result['output']}")


def load_index(folder, model_dir=None, batch_size=64):
    """An index folder with its embedder (the one `index.json` names).

    Example:
    ```python
    index = load_index("runs/index")
    hits = index.search("a quiet harbour town", k=3)
    ```
    """
    from keras_electra.models import EmbeddingIndex

    if model_dir is None:
        path = os.path.join(folder, "index.json")
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"'{path}' not found; give the embedder with --model.")
        with open(path) as f:
            model_dir = json.load(f)["model"]
    model = _embedder(model_dir)
    return EmbeddingIndex.load(folder, model, model.preprocessor, batch_size)


# The config the command line is built from.
Config = IndexConfig
