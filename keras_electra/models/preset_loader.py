"""Reading and writing preset folders, and dispatch to checkpoint importers.

A keras_electra preset folder holds `config.json` (the serialized model),
`model.weights.h5` and `metadata.json`. Folders in Hugging Face or keras-hub
format are recognized from their `config.json` and handed to
`keras_electra.convert`.
"""

import copy
import datetime
import json
import os

import keras

from keras_electra.models.checked_weights import load_weights_checked
from keras_electra.models.electra_presets import PRESETS

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"


def preset_names():
    """Return the sorted names of the built-in presets.

    Example:
    ```python
    assert "electra_small" in preset_names()
    ```
    """
    return sorted(PRESETS)


def preset_config(preset, role="discriminator"):
    """Return a copy of the backbone config of a built-in preset.

    Args:
        preset: str. A built-in preset name.
        role: str. `"discriminator"` or `"generator"`.

    Example:
    ```python
    config = preset_config("electra_small", "generator")
    assert config["hidden_dim"] == 64
    ```
    """
    if preset not in PRESETS:
        raise ValueError(
            f"Unknown preset '{preset}'. Valid presets: "
            f"{', '.join(preset_names())}; or pass the path of a preset, "
            "Hugging Face or keras-hub checkpoint folder."
        )
    return dict(PRESETS[preset][role])


def _split_kwargs(kwargs, backbone_cls):
    import inspect

    names = set(inspect.signature(backbone_cls.__init__).parameters)
    backbone_kwargs = {k: v for k, v in kwargs.items() if k in names}
    task_kwargs = {k: v for k, v in kwargs.items() if k not in names}
    return backbone_kwargs, task_kwargs


def check_task_kwargs(cls, task_kwargs):
    """Raise if `task_kwargs` holds a name `cls` does not take.

    `keras.Model` accepts unknown keywords silently, so without this check
    a typo (`hiden_dim=64`) would build the default model.

    Example:
    ```python
    from keras_electra.models import ElectraClassifier
    check_task_kwargs(ElectraClassifier, {"num_classes": 2})
    ```
    """
    import inspect

    from keras_electra.models.electra_backbone import ElectraBackbone

    backbone_args = set(inspect.signature(ElectraBackbone.__init__).parameters)
    backbone_args -= {"self", "kwargs"}
    if issubclass(cls, ElectraBackbone):
        accepted = set()
    else:
        parameters = inspect.signature(cls.__init__).parameters
        accepted = {
            name for name, p in parameters.items()
            if p.kind is not p.VAR_KEYWORD and name not in ("self", "backbone")
        } | {"name", "trainable"}
    unknown = sorted(set(task_kwargs) - accepted)
    if unknown:
        takes = (
            f"{cls.__name__} takes {', '.join(sorted(accepted))} and"
            if accepted else f"{cls.__name__} takes only"
        )
        raise ValueError(
            f"Unexpected arguments for {cls.__name__}.from_preset: "
            f"{', '.join(unknown)}. {takes} backbone arguments "
            f"({', '.join(sorted(backbone_args))})."
        )


def build_from_backbone(cls, backbone, **task_kwargs):
    """Return `backbone` itself for backbone classes, else `cls(backbone)`."""
    from keras_electra.models.electra_backbone import ElectraBackbone

    check_task_kwargs(cls, task_kwargs)
    if issubclass(cls, ElectraBackbone):
        return backbone
    return cls(backbone=backbone, **task_kwargs)


def read_config(path):
    """Read a folder's `config.json`, with an error naming the file."""
    config_path = os.path.join(path, CONFIG_FILE)
    if not os.path.exists(config_path):
        raise FileNotFoundError(
            f"'{path}' is not a preset folder: it has no {CONFIG_FILE}."
        )
    try:
        with open(config_path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{config_path} is not valid JSON: {e}") from e


def load_preset(cls, preset, load_weights=True, **kwargs):
    """Build or load `cls` from a preset name or folder.

    See `ElectraModel.from_preset` for the accepted forms.

    Example:
    ```python
    from keras_electra.models import ElectraGenerator
    generator = load_preset(ElectraGenerator, "electra_tiny")
    ```
    """
    from keras_electra.models.electra_backbone import ElectraBackbone

    preset = os.fspath(preset)
    if preset in PRESETS:
        backbone_kwargs, task_kwargs = _split_kwargs(kwargs, ElectraBackbone)
        config = preset_config(preset, cls.preset_role)
        config.update(backbone_kwargs)
        return build_from_backbone(cls, ElectraBackbone(**config), **task_kwargs)

    path = os.path.expanduser(preset)
    if not os.path.isdir(path):
        raise ValueError(
            f"Unknown preset '{preset}': it is neither a built-in preset "
            f"({', '.join(preset_names())}) nor an existing folder."
        )
    config = read_config(path)
    registered = config.get("registered_name", "") or ""
    if registered.startswith("keras_electra>"):
        return _load_own(cls, path, config, load_weights, **kwargs)
    if registered.startswith("keras_hub>"):
        from keras_electra.convert import keras_hub_checkpoint

        return keras_hub_checkpoint.load(cls, path, load_weights, **kwargs)
    if config.get("model_type") in ("electra", "bert"):
        from keras_electra.convert import huggingface

        return huggingface.load(cls, path, load_weights, **kwargs)
    raise ValueError(
        f"Cannot tell the format of '{path}': its {CONFIG_FILE} is neither a "
        "keras_electra preset, a keras-hub preset, nor a Hugging Face ELECTRA "
        f"or BERT config (model_type={config.get('model_type')!r})."
    )


def _load_own(cls, path, config, load_weights, **kwargs):
    from keras_electra.models.electra_backbone import ElectraBackbone

    # Like the Hugging Face and keras-hub loaders: backbone arguments
    # override the saved backbone config, task arguments the saved task's
    # when it is the class asked for (else they build the new task).
    backbone_kwargs, task_kwargs = _split_kwargs(kwargs, ElectraBackbone)
    check_task_kwargs(cls, task_kwargs)
    config = copy.deepcopy(config)
    inner = config.setdefault("config", {})
    saved_backbone = inner.get("backbone")
    if isinstance(saved_backbone, dict):
        saved_backbone.setdefault("config", {}).update(backbone_kwargs)
    else:
        inner.update(backbone_kwargs)
    saved_cls = keras.saving.get_registered_object(config["registered_name"])
    if task_kwargs and isinstance(saved_cls, type) and issubclass(
        saved_cls, cls
    ):
        # The saved model is returned as it is, so it must be built with them.
        inner.update(task_kwargs)
        task_kwargs = {}
    saved = keras.saving.deserialize_keras_object(config)
    if load_weights:
        weights_path = os.path.join(path, WEIGHTS_FILE)
        if not os.path.exists(weights_path):
            raise FileNotFoundError(
                f"Preset folder '{path}' has no {WEIGHTS_FILE}; pass "
                "load_weights=False to build the architecture only."
            )
        load_weights_checked(
            saved, weights_path,
            context=(
                f"The model was built from '{path}/config.json' with the "
                f"overrides {kwargs}: change only arguments that keep the "
                "weight shapes (dropout, ...), or load with "
                "load_weights=False."
                if kwargs else
                f"The model was built from '{path}/config.json': the config "
                "and the weights come from different models."
            ),
        )
    if isinstance(saved, cls):
        return saved
    if issubclass(cls, ElectraBackbone):
        backbone = getattr(saved, "backbone", None)
        if backbone is None:
            raise ValueError(f"'{path}' holds no ElectraBackbone.")
        return backbone
    if isinstance(saved, ElectraBackbone):
        return build_from_backbone(cls, saved, **task_kwargs)
    if hasattr(saved, "backbone"):
        return build_from_backbone(cls, saved.backbone, **task_kwargs)
    raise ValueError(
        f"'{path}' holds a {type(saved).__name__}, which cannot be loaded as "
        f"a {cls.__name__}."
    )


def _atomic_write(path, write):
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save_preset(model, preset_dir):
    """Write `model` to `preset_dir` (see `ElectraModel.save_to_preset`)."""
    from keras_electra import __version__

    os.makedirs(preset_dir, exist_ok=True)
    config = keras.saving.serialize_keras_object(model)

    def write_json(data):
        def write(tmp):
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=2, sort_keys=True)

        return write

    _atomic_write(
        os.path.join(preset_dir, WEIGHTS_FILE),
        lambda tmp: _save_h5(model, tmp),
    )
    _atomic_write(os.path.join(preset_dir, CONFIG_FILE), write_json(config))
    metadata = {
        "keras_electra_version": __version__,
        "keras_version": keras.__version__,
        "parameter_count": int(model.count_params()),
        "date_saved": datetime.datetime.now(datetime.timezone.utc).isoformat(),
    }
    _atomic_write(
        os.path.join(preset_dir, METADATA_FILE), write_json(metadata)
    )


def _save_h5(model, tmp):
    # `save_weights` insists on a `.weights.h5` suffix.
    staging = tmp + ".weights.h5"
    model.save_weights(staging)
    os.replace(staging, tmp)
