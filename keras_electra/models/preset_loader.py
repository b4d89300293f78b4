"""Reading and writing preset folders, and dispatch to checkpoint importers.

A keras_electra preset folder holds `config.json` (the serialized model),
`model.weights.h5` and `metadata.json`. Folders in Hugging Face or keras-hub
format are recognized from their `config.json` and handed to the readers
`keras_electra.convert` registers (`register_folder_format`).
"""

import copy
import datetime
import json
import os

import keras

from keras_electra.keras_workarounds import flatten_layers
from keras_electra.models.checked_weights import current_layout
from keras_electra.models.checked_weights import load_weights_checked
from keras_electra.models.electra_presets import PRESETS

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"
# keras-hub's names for a task's own config and the weights outside its
# backbone.
TASK_CONFIG_FILE = "task.json"
TASK_WEIGHTS_FILE = "task.weights.h5"
# A pre-trainer's own config (masking, loss weights, preprocessor); its
# parts are preset folders of their own (see `save_pretrainer_preset`).
PRETRAINER_FILE = "pretrainer.json"


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

    ElectraBackbone = _backbone_class()

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
    ElectraBackbone = _backbone_class()

    check_task_kwargs(cls, task_kwargs)
    if issubclass(cls, ElectraBackbone):
        return backbone
    return cls(backbone=backbone, **task_kwargs)


def read_config(path, filename=CONFIG_FILE):
    """Read a folder's `config.json`, with an error naming the file."""
    config_path = os.path.join(path, filename)
    if not os.path.exists(config_path):
        raise FileNotFoundError(
            f"'{path}' is not a preset folder: it has no {filename}."
        )
    try:
        with open(config_path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{config_path} is not valid JSON: {e}") from e


def resolve_handle(preset):
    """The local folder of an `hf://` or `kaggle://` handle (else `preset`).

    `hf://owner/name` goes through `huggingface_hub.snapshot_download`,
    `kaggle://owner/model/framework/variation[/version]` through
    `kagglehub.model_download`; both answer from their local cache first
    (`HF_HUB_OFFLINE=1`, `HF_HOME`, `KAGGLEHUB_CACHE`), so a copy laid out
    as they lay it out loads without a network.

    Example:
    ```python
    assert resolve_handle("/tmp/my_electra") == "/tmp/my_electra"
    ```
    """
    if preset.startswith("hf://"):
        import huggingface_hub

        repo_id = preset[len("hf://"):].strip("/")
        try:
            return huggingface_hub.snapshot_download(repo_id)
        except Exception as e:
            raise ValueError(
                f"Could not fetch '{preset}' from the Hugging Face Hub or "
                f"its local cache ({type(e).__name__}: {e})."
            ) from e
    if preset.startswith("kaggle://"):
        import kagglehub

        handle = preset[len("kaggle://"):].strip("/")
        try:
            return kagglehub.model_download(handle)
        except Exception as e:
            raise ValueError(
                f"Could not fetch '{preset}' from Kaggle Models or its local "
                f"cache ({type(e).__name__}: {e}). Handles have the form "
                "kaggle://owner/model/keras/variation[/version]."
            ) from e
    return preset


def load_preset(cls, preset, load_weights=True, **kwargs):
    """Build or load `cls` from a preset name, folder or handle.

    See `ElectraPresetMixin.from_preset` for the accepted forms. Tasks
    whose class names a `preprocessor_cls` get one: the folder's vocabulary
    (or the bundled one for built-in names), cased as saved, with
    `sequence_length=` from the keywords (default: the preprocessor's,
    capped at the position table).

    Example:
    ```python
    from keras_electra.models import ElectraGenerator
    generator = load_preset(ElectraGenerator, "electra_tiny")
    ```
    """
    preset = os.fspath(preset)
    preprocessor_cls = getattr(cls, "preprocessor_cls", None)
    preprocessor = kwargs.pop("preprocessor", "auto")
    sequence_length = None
    if preprocessor_cls is not None:
        sequence_length = kwargs.pop("sequence_length", None)
    folder = None if preset in PRESETS else resolve_handle(preset)
    if folder is not None:
        folder = pretrainer_part(folder, cls.preset_role)
    model = _load_model(cls, preset if folder is None else folder,
                        load_weights, **kwargs)
    if preprocessor_cls is None:
        return model
    if preprocessor != "auto":
        model.preprocessor = preprocessor
    elif model.preprocessor is None:
        model.preprocessor = default_preprocessor(
            preprocessor_cls, model.backbone, folder, sequence_length
        )
    elif sequence_length:
        model.preprocessor.sequence_length = check_sequence_length(
            sequence_length, model.backbone)
    return model


def default_preprocessor(preprocessor_cls, backbone, folder=None,
                         sequence_length=None):
    """A preprocessor with the vocabulary of `folder` (or the bundled one).

    Returns `None` when `folder` holds no vocabulary (a Hugging Face folder
    without `vocab.txt`), or a built-in architecture was given a
    `vocabulary_size` smaller than the bundled vocabulary: the task then
    takes token ids only.

    Example:
    ```python
    from keras_electra.data import ElectraClassifierPreprocessor
    from keras_electra.models import ElectraBackbone
    backbone = ElectraBackbone.from_preset("electra_tiny")
    pre = default_preprocessor(ElectraClassifierPreprocessor, backbone)
    ```
    """
    from keras_electra.data import bundled_vocabulary_file
    from keras_electra.data import load_tokenizer

    builtin = folder is None
    if builtin:
        folder = os.path.dirname(bundled_vocabulary_file())
    try:
        tokenizer = load_tokenizer(folder)
    except FileNotFoundError:
        return None
    if builtin and tokenizer.vocabulary_size() > backbone.vocabulary_size:
        return None  # a built-in shape with a smaller vocabulary_size=
    if tokenizer.vocabulary_size() > backbone.vocabulary_size:
        raise ValueError(
            f"The vocabulary in '{folder}' has {tokenizer.vocabulary_size()} "
            f"tokens, but the model's embedding table only "
            f"{backbone.vocabulary_size}: they do not belong together."
        )
    kwargs = {}
    if sequence_length:
        kwargs["sequence_length"] = check_sequence_length(
            sequence_length, backbone)
    preprocessor = preprocessor_cls(tokenizer=tokenizer, **kwargs)
    # The class default (384 for question answering, 512 for some) is cut
    # to the position table; a length the caller asked for is checked.
    if preprocessor.sequence_length > backbone.max_sequence_length:
        preprocessor.sequence_length = backbone.max_sequence_length
    return preprocessor


def check_sequence_length(sequence_length, backbone):
    """`sequence_length`, or a `ValueError` when it is not an int >= 2 or
    the backbone's position table is shorter.

    Example:
    ```python
    from keras_electra.models import ElectraBackbone
    backbone = ElectraBackbone.from_preset("electra_tiny")
    assert check_sequence_length(128, backbone) == 128
    ```
    """
    if not isinstance(sequence_length, int) or sequence_length < 2:
        raise ValueError(
            "`sequence_length` must be an int >= 2 ([CLS] and [SEP] need two "
            f"positions). Received: sequence_length={sequence_length!r}"
        )
    limit = getattr(backbone, "max_sequence_length", None)
    if limit is not None and sequence_length > limit:
        raise ValueError(
            f"sequence_length={sequence_length} exceeds the model's "
            f"position table (max_sequence_length={limit}): pass "
            f"sequence_length={limit} or less."
        )
    return sequence_length


def _backbone_class():
    # Looked up by its registered name: `electra_backbone` imports
    # `electra_model`, whose `ElectraPresetMixin.from_preset` imports this
    # module, so an import here would close a cycle.
    return keras.saving.get_registered_object("keras_electra>ElectraBackbone")


# Readers of other libraries' folders: `(matches(config), load(cls, path,
# load_weights, **kwargs))`, registered by `keras_electra.convert` (which
# imports the models, so the models do not import it).
FOLDER_FORMATS = []


def register_folder_format(matches, load):
    """Teach `from_preset` another folder format.

    Args:
        matches: callable. Takes the folder's parsed `config.json`, returns
            whether `load` reads it.
        load: callable `(cls, path, load_weights, **kwargs)` returning the
            model.

    Example:
    ```python
    def matches(config):
        return config.get("model_type") == "my_electra"

    def load(cls, path, load_weights=True, **kwargs):
        raise NotImplementedError(path)

    register_folder_format(matches, load)
    FOLDER_FORMATS.pop()  # (undo, for this example)
    ```
    """
    FOLDER_FORMATS.append((matches, load))


def _load_model(cls, preset, load_weights, **kwargs):
    ElectraBackbone = _backbone_class()

    if preset in PRESETS:
        backbone_kwargs, task_kwargs = _split_kwargs(kwargs, ElectraBackbone)
        config = preset_config(preset, cls.preset_role)
        config.update(backbone_kwargs)
        return build_from_backbone(cls, ElectraBackbone(**config), **task_kwargs)

    path = os.path.expanduser(preset)
    if not os.path.isdir(path):
        raise ValueError(
            f"Unknown preset '{preset}': it is neither a built-in preset "
            f"({', '.join(preset_names())}), an existing folder, nor an "
            "hf:// or kaggle:// handle."
        )
    task = _load_task_folder(cls, path, load_weights, **kwargs)
    if task is not None:
        return task
    config = read_config(path)
    registered = config.get("registered_name", "") or ""
    if registered.startswith("keras_electra>"):
        return _load_own(cls, path, config, load_weights, **kwargs)
    for matches, load in FOLDER_FORMATS:
        if matches(config):
            return load(cls, path, load_weights, **kwargs)
    raise ValueError(
        f"Cannot tell the format of '{path}': its {CONFIG_FILE} is neither a "
        "keras_electra preset, a keras-hub preset, nor a Hugging Face ELECTRA "
        f"or BERT config (model_type={config.get('model_type')!r})."
    )


def _load_task_folder(cls, path, load_weights, **kwargs):
    """Load a keras-hub layout task folder (`task.json`) saved as `cls`.

    Returns `None` when there is no `task.json` of ours, or it holds
    another class: the backbone in `config.json` is then used.
    """
    ElectraBackbone = _backbone_class()

    task_path = os.path.join(path, TASK_CONFIG_FILE)
    if not os.path.exists(task_path):
        return None
    task_config = read_config(path, TASK_CONFIG_FILE)
    registered = task_config.get("registered_name") or ""
    saved_cls = keras.saving.get_registered_object(registered)
    if not (
        registered.startswith("keras_electra>")
        and isinstance(saved_cls, type)
        and issubclass(saved_cls, cls)
    ):
        return None
    backbone_kwargs, task_kwargs = _split_kwargs(kwargs, ElectraBackbone)
    check_task_kwargs(saved_cls, task_kwargs)
    config = copy.deepcopy(task_config)
    inner = config["config"]
    inner["backbone"].setdefault("config", {}).update(backbone_kwargs)
    new_head = any(
        key in task_kwargs and task_kwargs[key] != inner.get(key)
        for key in ("num_classes",)
    )
    inner.update(task_kwargs)
    task = keras.saving.deserialize_keras_object(config)
    if task.preprocessor is not None:
        task.preprocessor.load_preset_assets(path)
    if load_weights:
        _load_checked(task.backbone, path, kwargs, TASK_CONFIG_FILE)
        task_weights = os.path.join(path, TASK_WEIGHTS_FILE)
        if os.path.exists(task_weights) and not new_head:
            with current_layout(task_weights) as readable:
                keras.saving.load_weights(
                    task, readable, objects_to_skip=_head_skip(task)
                )
    return task


def _load_checked(model, path, kwargs, config_file=CONFIG_FILE):
    weights_path = os.path.join(path, WEIGHTS_FILE)
    if not os.path.exists(weights_path):
        raise FileNotFoundError(
            f"Preset folder '{path}' has no {WEIGHTS_FILE}; pass "
            "load_weights=False to build the architecture only."
        )
    load_weights_checked(
        model, weights_path,
        context=(
            f"The model was built from '{path}/{config_file}' with the "
            f"overrides {kwargs}: change only arguments that keep the "
            "weight shapes (dropout, ...), or load with "
            "load_weights=False."
            if kwargs else
            f"The model was built from '{path}/{config_file}': the config "
            "and the weights come from different models."
        ),
    )


def _load_own(cls, path, config, load_weights, **kwargs):
    ElectraBackbone = _backbone_class()

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
        _load_checked(saved, path, kwargs)
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


def _write_json(data):
    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, sort_keys=True)

    return write


def _pop_recursive(config, keys):
    for key in keys:
        config.pop(key, None)
    for value in config.values():
        if isinstance(value, dict):
            _pop_recursive(value, keys)


def save_task_preset(task, preset_dir):
    """Write a task in keras-hub's layout, which both loaders read.

    `config.json` / `model.weights.h5` hold the backbone, `task.json` the
    task (backbone and preprocessor configs inside, no compile state),
    `task.weights.h5` the weights outside the backbone; the preprocessor
    writes `preprocessor.json`, `tokenizer.json` and
    `assets/tokenizer/vocabulary.txt`, and `vocab.txt` plus
    `tokenizer_config.json` are added for Hugging Face tools.

    Example:
    ```python
    from keras_electra.models import ElectraTextClassifier
    model = ElectraTextClassifier.from_preset("electra_tiny", num_classes=2)
    save_task_preset(model, "/tmp/electra_tiny_classifier")
    ```
    """
    save_preset(task.backbone, preset_dir)
    config = keras.saving.serialize_keras_object(task)
    _pop_recursive(config, ("compile_config", "build_config"))
    task_weights = os.path.join(preset_dir, TASK_WEIGHTS_FILE)
    if task.has_task_weights():
        _atomic_write(
            task_weights,
            lambda tmp: _save_h5(task, tmp, lambda path: _save_head(task, path)),
        )
    elif os.path.exists(task_weights):
        os.remove(task_weights)
    if task.preprocessor is not None:
        from keras_electra.data import save_tokenizer_files

        task.preprocessor.save_to_preset(preset_dir)
        save_tokenizer_files(task.preprocessor.tokenizer, preset_dir)
    # Last: a folder with task.json is complete.
    _atomic_write(
        os.path.join(preset_dir, TASK_CONFIG_FILE), _write_json(config)
    )


def save_preset(model, preset_dir):
    """Write `model` to `preset_dir` (see `ElectraPresetMixin.save_to_preset`)."""
    import keras_hub

    from keras_electra.version import __version__

    if isinstance(model, keras_hub.models.Task):
        return save_task_preset(model, preset_dir)
    os.makedirs(preset_dir, exist_ok=True)
    for stale in (TASK_CONFIG_FILE, TASK_WEIGHTS_FILE):
        # An earlier task saved here would shadow this model on reload.
        if os.path.exists(os.path.join(preset_dir, stale)):
            os.remove(os.path.join(preset_dir, stale))
    config = keras.saving.serialize_keras_object(model)
    write_json = _write_json

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


def _save_head(task, path):
    # As `Task.save_task_weights`, without the optimizer state: a preset
    # holds weights (a training checkpoint is `model.save()`).
    keras.saving.save_weights(task, path, objects_to_skip=_head_skip(task))


def _head_skip(task):
    skip = list(flatten_layers(task.backbone))
    if getattr(task, "optimizer", None) is not None:  # compiled
        skip.append(task.optimizer)
    return skip


def _save_h5(model, tmp, save=None):
    # `save_weights` insists on a `.weights.h5` suffix.
    staging = tmp + ".weights.h5"
    (save or model.save_weights)(staging)
    os.replace(staging, tmp)


def save_pretrainer_preset(model, preset_dir):
    """Write a pre-trainer as preset folders that every loader reads.

    Each part named by `model.preset_parts` (`(subfolder, attribute,
    class)`; the first in `preset_dir` itself) is saved with its own
    `save_to_preset` and the pre-trainer's vocabulary, so the top folder is
    a discriminator (or masked-LM) preset that fine-tuning tasks and
    `keras_hub.models.Backbone.from_preset` read. The preprocessor writes
    its files to `preset_dir`, and `pretrainer.json`, written last (a folder
    without it is incomplete), holds the rest of the config.

    Example:
    ```python
    from keras_electra.models import ReplacedTokenDetector
    rtd = ReplacedTokenDetector.from_preset("electra_tiny")
    save_pretrainer_preset(rtd, "/tmp/electra_tiny_rtd")
    ```
    """
    from keras_electra.data import save_tokenizer_files

    os.makedirs(preset_dir, exist_ok=True)
    marker = os.path.join(preset_dir, PRETRAINER_FILE)
    if os.path.exists(marker):
        os.remove(marker)
    config = keras.saving.serialize_keras_object(model)
    _pop_recursive(config, ("compile_config", "build_config"))
    for subfolder, attribute, _ in model.preset_parts:
        folder = os.path.join(preset_dir, subfolder)
        getattr(model, attribute).save_to_preset(folder)
        if model.preprocessor is not None:
            save_tokenizer_files(model.preprocessor.tokenizer, folder)
        config["config"].pop(attribute)
    if model.preprocessor is not None:
        model.preprocessor.save_to_preset(preset_dir)
    _atomic_write(marker, _write_json(config))


def pretrainer_part(folder, role):
    """The folder of the `role` part when `folder` is a pre-trainer preset.

    A `ReplacedTokenDetector` folder keeps its generator in `generator/`:
    `ElectraGenerator.from_preset(folder)` reads that, every other class
    the top folder.

    Example:
    ```python
    assert pretrainer_part("/tmp/no_such_folder", "generator") == (
        "/tmp/no_such_folder")
    ```
    """
    part = os.path.join(folder, role)
    if os.path.exists(os.path.join(folder, PRETRAINER_FILE)) and (
        os.path.exists(os.path.join(part, CONFIG_FILE))
    ):
        return part
    return folder


def load_pretrainer_preset(cls, folder, load_weights=True, **kwargs):
    """Load a folder written by `save_pretrainer_preset`, or return `None`.

    `kwargs` may hold backbone overrides (applied to every part, for
    example `dropout`), `preprocessor` / `sequence_length`, and
    arguments of `cls` that replace the saved ones.

    Example:
    ```python
    from keras_electra.models import MaskedLMPretrainer
    assert load_pretrainer_preset(MaskedLMPretrainer, "/tmp/nothing") is None
    ```
    """
    if not os.path.exists(os.path.join(folder, PRETRAINER_FILE)):
        return None
    config = read_config(folder, PRETRAINER_FILE)
    if not (
        isinstance(config, dict)
        and isinstance(config.get("registered_name"), str)
        and isinstance(config.get("config"), dict)
    ):
        raise ValueError(
            f"'{folder}/{PRETRAINER_FILE}' is not a saved pre-trainer: it "
            "needs a 'registered_name' string and a 'config' object (as "
            "`save_to_preset` writes them)."
        )
    registered = config["registered_name"]
    saved_cls = keras.saving.get_registered_object(registered)
    if not (isinstance(saved_cls, type) and issubclass(saved_cls, cls)):
        raise ValueError(
            f"'{folder}/{PRETRAINER_FILE}' holds a {registered!r}, which "
            f"cannot be loaded as a {cls.__name__}. Load it with its own "
            "class, or load its parts (ElectraDiscriminator / "
            "ElectraGenerator / a fine-tuning task) from the folder."
        )
    backbone_kwargs, kwargs = _split_kwargs(kwargs, _backbone_class())
    inner = dict(config["config"])
    preprocessor = kwargs.pop("preprocessor", "auto")
    sequence_length = kwargs.pop("sequence_length", None)
    if sequence_length and preprocessor is None:
        # Refused before any weights are read.
        raise ValueError(_needs_preprocessor(
            sequence_length, "`preprocessor=None` was passed"))
    saved_preprocessor = inner.pop("preprocessor", None)
    for subfolder, attribute, part_cls in saved_cls.preset_parts:
        inner[attribute] = part_cls.from_preset(
            os.path.join(folder, subfolder), load_weights=load_weights,
            **backbone_kwargs,
        )
    main = inner[saved_cls.preset_parts[0][1]]
    if isinstance(preprocessor, str) and preprocessor == "auto":
        preprocessor = None
        if saved_preprocessor is not None:
            # Registers the preprocessor classes: in a fresh process nothing
            # else has imported them yet.
            import keras_electra.data  # noqa: F401

            preprocessor = keras.layers.deserialize(saved_preprocessor)
            preprocessor.load_preset_assets(folder)
            if sequence_length:
                preprocessor.sequence_length = check_sequence_length(
                    sequence_length, main.backbone)
        elif sequence_length:
            # Saved without one: build the default over the folder's
            # vocabulary, as `from_preset` of an ordinary preset does.
            preprocessor = default_preprocessor(
                saved_cls.preprocessor_cls, main.backbone, folder,
                sequence_length,
            )
    if sequence_length and preprocessor is None:
        raise ValueError(_needs_preprocessor(
            sequence_length,
            f"'{folder}' was saved without one and holds no vocabulary"))
    inner.update(kwargs)
    inner["preprocessor"] = preprocessor
    return saved_cls.from_config(inner)


def _needs_preprocessor(sequence_length, why):
    return (
        f"sequence_length={sequence_length} needs a preprocessor, and "
        f"{why}: pass `preprocessor=` (an ElectraPretrainingPreprocessor), "
        "or leave out `sequence_length`."
    )
