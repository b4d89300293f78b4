"""The jobs behind `keras-electra`: one module per job, one config each.

Each job module has `NAME`, `HELP`, a config dataclass (a
`jobs.options.JobConfig`: its fields are the job's flags, defaults, choices
and help), `run(config)` and `report(config, result)` (what the command
line prints). The command line is built from them, so a flag is defined
once; Python calls build the same configs.

- `vocab`: `VocabConfig`; `prepare`: `PrepareConfig`;
- `pretrain`: `PretrainConfig` (any strategy; resumable);
- `finetune`: `FinetuneConfig` (classifier, tagger, qa, embedder, from
  files); `evaluate`: `EvaluateConfig`; `predict`: `PredictConfig`;
- `index`: `IndexConfig`; `search`: `SearchConfig` (the embedder's index);
- `export`: `ExportConfig`; `inspect`: `InspectConfig`; `demo`: `DemoConfig`.

Example:
```python
from keras_electra.jobs import pretrain
from keras_electra.jobs import search
result = pretrain.run(pretrain.PretrainConfig(
    input=["corpus/"], output="runs/my", steps=1000))
```
"""

from keras_electra.jobs import demo
from keras_electra.jobs import evaluate
from keras_electra.jobs import export
from keras_electra.jobs import finetune
from keras_electra.jobs import index
from keras_electra.jobs import inspect
from keras_electra.jobs import predict
from keras_electra.jobs import prepare
from keras_electra.jobs import pretrain
from keras_electra.jobs import search
from keras_electra.jobs import vocab
from keras_electra.jobs.demo import DemoConfig
from keras_electra.jobs.evaluate import EvaluateConfig
from keras_electra.jobs.export import ExportConfig
from keras_electra.jobs.finetune import FinetuneConfig
from keras_electra.jobs.index import IndexConfig
from keras_electra.jobs.inspect import InspectConfig
from keras_electra.jobs.predict import PredictConfig
from keras_electra.jobs.prepare import PrepareConfig
from keras_electra.jobs.pretrain import PretrainConfig
from keras_electra.jobs.search import SearchConfig
from keras_electra.jobs.vocab import VocabConfig

JOBS = (vocab, prepare, pretrain, finetune, evaluate, predict, index, search,
        export, inspect, demo)

__all__ = [
    "JOBS", "DemoConfig", "EvaluateConfig", "ExportConfig", "FinetuneConfig",
    "IndexConfig", "InspectConfig", "PredictConfig", "PrepareConfig",
    "PretrainConfig", "SearchConfig", "VocabConfig",
]
