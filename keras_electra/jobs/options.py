"""One definition per option: job configs that build their CLI flags.

A job's config is a dataclass whose fields are made with `option()`: the
default, the help text, the choices and any argparse detail live on the
field, so the Python call (`PretrainConfig(steps=100)`), the command line
(`--steps 100`, built by `add_arguments`) and config files
(`--config run.toml`, keys named like the fields) read the same
definition. `validate()` checks choices and the job's own rules for Python
callers too.
"""

import dataclasses
import json


def option(default=None, help="", choices=None, flag=None, **argparse_kwargs):
    """A config field with its command-line flag.

    Args:
        default: the default value (lists are copied per instance).
        help: str. The flag's help text (and the field's documentation).
        choices: tuple or None. The allowed values, checked by `validate()`.
        flag: str or None. The flag name; defaults to `--field-name`.
        **argparse_kwargs: passed to `ArgumentParser.add_argument` (`type`,
            `nargs`, `action`, `const`, ...).

    Example:
    ```python
    import dataclasses
    from keras_electra.jobs.options import JobConfig, option

    @dataclasses.dataclass
    class Config(JobConfig):
        steps: int = option(100, "Training steps.", type=int)

    assert Config(steps=5).steps == 5
    ```
    """
    metadata = {
        "help": help, "choices": choices, "flag": flag,
        "argparse": argparse_kwargs,
    }
    if isinstance(default, list):
        return dataclasses.field(
            default_factory=lambda: list(default), metadata=metadata
        )
    return dataclasses.field(default=default, metadata=metadata)


def flag_of(field):
    """The command-line flag of a config field (`--batch-size`).

    Example:
    ```python
    import dataclasses
    from keras_electra.jobs.options import flag_of
    from keras_electra.jobs.pretrain import PretrainConfig
    fields = {f.name: f for f in dataclasses.fields(PretrainConfig)}
    assert flag_of(fields["batch_size"]) == "--batch-size"
    ```
    """
    return field.metadata.get("flag") or "--" + field.name.replace("_", "-")


@dataclasses.dataclass
class JobConfig:
    """Base of the job configs: flags, validation, config-file keys.

    Example:
    ```python
    import argparse
    from keras_electra.jobs.pretrain import PretrainConfig
    parser = argparse.ArgumentParser()
    PretrainConfig.add_arguments(parser)
    config = PretrainConfig.from_args(parser.parse_args(["--output", "r"]))
    assert config.output == "r"
    ```
    """

    # Fields the command line must give (a config file may give them too).
    required = ()

    @classmethod
    def _help_order(cls):
        """The fields, the job's own first, then those of its bases."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        ordered = []
        for klass in cls.__mro__:
            for name in getattr(klass, "__annotations__", {}):
                if name in fields and fields[name] not in ordered:
                    ordered.append(fields[name])
        return ordered

    @classmethod
    def add_arguments(cls, parser):
        """Add one flag per field to an `argparse` parser (the job's own
        fields first, then shared ones such as the distribution flags)."""
        for field in cls._help_order():
            meta = field.metadata
            if "argparse" not in meta:
                continue
            flag = flag_of(field)
            kwargs = dict(meta["argparse"])
            if meta["choices"] is not None and "action" not in kwargs:
                kwargs["choices"] = meta["choices"]
            default = (
                field.default if field.default is not dataclasses.MISSING
                else field.default_factory()
            )
            help_text = meta["help"]
            if default is not None and default is not False and default not in (
                [], ()
            ):
                help_text = f"{help_text} Default: {default}."
            parser.add_argument(
                flag, dest=field.name, default=default,
                help=help_text.replace("%", "%%"), **kwargs,
            )

    @classmethod
    def from_args(cls, args):
        """The config of a parsed `argparse.Namespace` (unknown keys left)."""
        names = {f.name for f in dataclasses.fields(cls)}
        config = cls(**{k: v for k, v in vars(args).items() if k in names})
        missing = [
            "--" + name.replace("_", "-") for name in cls.required
            if getattr(config, name) in (None, [], "")
        ]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}.")
        return config

    def validate(self):
        """Raise `ValueError` naming the field whose value is not allowed."""
        for field in dataclasses.fields(self):
            choices = field.metadata.get("choices")
            value = getattr(self, field.name)
            values = value if isinstance(value, (list, tuple)) else [value]
            if choices is not None and any(v not in choices for v in values):
                flag = flag_of(field)
                raise ValueError(
                    f"{flag} must be one of {', '.join(map(str, choices))}. "
                    f"Received: {value!r}"
                )
        return self

    @classmethod
    def documented(cls):
        """`{field: help}`: the options as the `--help` text lists them."""
        return {
            f.name: f.metadata.get("help", "") for f in dataclasses.fields(cls)
        }


STRATEGIES = ("auto", "default", "mirrored", "multi_worker", "tpu",
              "data_parallel")


@dataclasses.dataclass
class DistributedConfig(JobConfig):
    """Base of the training jobs' configs: the distribution flags.

    Example:
    ```python
    from keras_electra.jobs.finetune import FinetuneConfig
    assert FinetuneConfig(strategy="mirrored", devices=2).validate()
    ```
    """

    strategy: str = option(
        "auto", "Distribution: auto (the GPUs, a TF_CONFIG cluster or a "
        "TPU when present), default (one device), mirrored (the GPUs, or "
        "--devices logical CPUs), multi_worker (TF_CONFIG), tpu (--tpu), "
        "data_parallel (JAX). The batch size is the global batch, split "
        "across the replicas.", choices=STRATEGIES)
    tpu: str = option(None, "TPU name or address (for --strategy tpu).")
    devices: int = option(
        None, "Replicas for mirrored / data-parallel training; on a host "
        "without GPUs the CPU is split into this many logical devices "
        "(TensorFlow).", type=int)

    def validate(self):
        super().validate()
        if self.devices is not None and self.devices < 1:
            raise ValueError(
                f"--devices must be >= 1. Received: {self.devices}")
        return self


def make_strategy(config):
    """The strategy a `DistributedConfig` names (logical CPUs made first).

    Example:
    ```python
    from keras_electra.jobs.options import make_strategy
    from keras_electra.jobs.pretrain import PretrainConfig
    strategy = make_strategy(PretrainConfig(strategy="default"))
    ```
    """
    import keras

    from keras_electra.training import configure_logical_cpus
    from keras_electra.training import get_strategy

    devices = config.devices
    if keras.backend.backend() == "tensorflow" and devices and devices > 1:
        import tensorflow as tf

        if not tf.config.list_physical_devices("GPU"):
            configure_logical_cpus(devices)
    if config.strategy == "default" and devices in (None, 1):
        devices = None
    return get_strategy(config.strategy, tpu=config.tpu, devices=devices)


def parse_options(text, flag):
    """Parse `key=value,key=value` into a dict (values read as JSON).

    A dict (from a config file) passes through; `None` gives `{}`.

    Example:
    ```python
    parse_options("mask_rate=0.25,tie_embeddings=false", "--model-options")
    # {"mask_rate": 0.25, "tie_embeddings": False}
    ```
    """
    if text is None:
        return {}
    if isinstance(text, dict):
        return dict(text)
    options = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(
                f"{flag}: '{item}' is not key=value (in '{text}')."
            )
        try:
            options[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            options[key.strip()] = value.strip()
    return options


def require_tensorflow(what):
    """Raise `ValueError` (the CLI's exit 2) unless Keras runs on TensorFlow.

    Example:
    ```python
    from keras_electra.jobs.options import require_tensorflow
    require_tensorflow("SavedModel and LiteRT export")  # on TensorFlow: ok
    ```
    """
    import keras

    backend = keras.config.backend()
    if backend != "tensorflow":
        raise ValueError(
            f"{what} needs the TensorFlow backend (current: {backend}). Run "
            "with --backend tensorflow; weights saved under any backend load "
            "there."
        )
