"""The `search` job: the texts of an index closest to each query."""

import dataclasses
import json

from keras_electra.jobs.options import JobConfig
from keras_electra.jobs.options import option

NAME = "search"
HELP = "Search an embedder's index (see `index`)."


@dataclasses.dataclass
class SearchConfig(JobConfig):
    """The `search` job's options.

    Example:
    ```python
    from keras_electra.jobs.search import SearchConfig, run
    hits = run(SearchConfig(index="runs/index", query=["a harbour town"]))
    ```
    """

    required = ("index",)

    index: str = option(None, "Index folder (written by `index`).")
    query: list = option(
        [], "Query texts.", nargs="*", flag="--query")
    queries: str = option(None, "Text file of queries, one a line.")
    k: int = option(5, "Results per query.", type=int)
    model: str = option(
        None, "Embedder folder. Default: the one the index was built with.")

    def validate(self):
        super().validate()
        if not self.query and not self.queries:
            raise ValueError("give --query TEXT ... or --queries FILE.")
        if self.k < 1:
            raise ValueError(f"--k must be >= 1. Received: {self.k}")
        return self


def run(config):
    """`[{"query", "hits": [{"index", "score", "text"}, ...]}, ...]`."""
    from keras_electra.jobs.index import load_index
    from keras_electra.jobs.task_files import read_lines

    config.validate()
    queries = list(config.query)
    if config.queries:
        queries += read_lines(config.queries)[0]
    index = load_index(config.index, config.model)
    hits = index.search(queries, k=config.k)
    return [{"query": q, "hits": h} for q, h in zip(queries, hits)]


def report(config, result):
    for entry in result:
        print(json.dumps(entry, ensure_ascii=False))


# The config the command line is built from.
Config = SearchConfig
