"""The jobs behind `keras-electra`: one module per job, one config each.

Each job module has a config dataclass (`jobs.options.JobConfig`) from
which both its Python call and its command-line flags are built, and a
`run(config)` function.

- `pretrain`: `PretrainConfig`, `run` (any strategy; resumable).
"""

from keras_electra.jobs.pretrain import PretrainConfig

__all__ = ["PretrainConfig"]
