"""The `pretrain` job: ELECTRA (or the masked-LM baseline) on text files.

One config (`PretrainConfig`) serves `keras-electra pretrain`, config files
and Python; `run(config)` pre-trains (or resumes) on one device or with a
distribution strategy (`strategy`: `auto`, `default`, `mirrored`,
`multi_worker`, `tpu`; JAX data parallel under `KERAS_BACKEND=jax`), the
global batch split across replicas, with the same backups, resume, logs and
plots either way.
"""

import dataclasses
import inspect
import json
import os
import time

from keras_electra.jobs.options import STRATEGIES  # noqa: F401
from keras_electra.jobs.options import DistributedConfig
from keras_electra.jobs.options import make_strategy
from keras_electra.jobs.options import option
from keras_electra.jobs.options import parse_options

NAME = "pretrain"
HELP = "Pre-train ELECTRA (resumes if killed)."
VOCAB_FILE = "vocab.txt"
RESERVED_MODEL_OPTIONS = ("mask_token_id", "unselectable_token_ids", "seed")


@dataclasses.dataclass
class PretrainConfig(DistributedConfig):
    """Everything `pretrain` takes; each field is also a flag.

    Example:
    ```python
    from keras_electra.data import bundled_corpus_files
    from keras_electra.jobs.pretrain import PretrainConfig, run
    config = PretrainConfig(input=bundled_corpus_files(), output="/tmp/run",
                            vocabulary="/tmp/run/vocab.txt", steps=20,
                            batch_size=8, sequence_length=64)
    # run(config)  # after `keras-electra vocab` wrote the vocabulary
    ```
    """

    required = ("output",)

    input: list = option(
        None, "Text files, folders or globs.", nargs="+")
    tfrecords: str = option(None, "Glob of prepared shards instead.")
    output: str = option(None, "Run folder (backups, logs, models).")
    vocabulary: str = option(
        None, "vocab.txt (default OUTPUT/vocab.txt).")
    preset: str = option("electra_tiny", "Architecture preset.")
    steps: int = option(1000, "Training steps.", type=int)
    batch_size: int = option(
        32, "Global batch size (split across replicas).", type=int)
    sequence_length: int = option(128, "Tokens per example.", type=int)
    learning_rate: float = option(
        None, "Peak learning rate (default: the preset's).", type=float)
    warmup_steps: int = option(
        None, "Warm-up steps (default: the preset's, at most 10% of "
        "--steps).", type=int)
    backup_every: int = option(200, "Steps between backups.", type=int)
    init_from: str = option(
        None, "Discriminator folder to continue (a pre-trainer's "
        "save_to_preset folder brings its generator too).")
    generator_init_from: str = option(None, "Generator folder.")
    objective: str = option(
        "electra", "electra (replaced-token detection) or mlm (the "
        "BERT-style baseline).", choices=("electra", "mlm"))
    output_bias: str = option(
        "unigram", "Start of the masked-LM vocabulary bias in a fresh run: "
        "corpus log-frequencies or zero (original code).",
        choices=("unigram", "zero"))
    precision: str = option(
        "float32", "matmul_bfloat16: bfloat16 dense projections and "
        "attention products, the rest float32 (the fastest setting "
        "measured on CPUs with AMX / AVX-512 BF16).",
        choices=("float32", "matmul_bfloat16"))
    model_options: str = option(
        None, "Pre-trainer arguments as key=value pairs, e.g. "
        "'mask_rate=0.25,discriminator_loss_weight=10' (a table in a "
        "config file).")
    generator_options: str = option(
        None, "Generator size overrides, e.g. "
        "'hidden_dim=128,num_heads=2,intermediate_dim=512'.")
    dropout: float = option(
        None, "Dropout of both models (default: the preset's, the paper's "
        "0.1); also the attention dropout unless --attention-dropout.",
        type=float)
    attention_dropout: float = option(
        None, "Dropout on the attention probabilities (default: the "
        "preset's, the paper's 0.1). 0 lets attention use fused kernels "
        "(torch SDPA, XLA, cuDNN): faster.", type=float)
    cased: bool = option(
        False, "Do not lower-case (default: as the vocabulary's "
        "tokenizer_config.json says, written by `vocab`; without one, cased "
        "if the vocabulary holds capitals).", action="store_true")
    seed: int = option(0, "Seed of initialisation, masking, sampling and "
                       "data order.", type=int)
    def validate(self):
        super().validate()
        if not self.input and not self.tfrecords:
            raise ValueError("give --input or --tfrecords.")
        self.model_options = _options(self.model_options, "--model-options")
        self.generator_options = _options(
            self.generator_options, "--generator-options")
        clashing = sorted(set(RESERVED_MODEL_OPTIONS) & set(self.model_options))
        if clashing:
            raise ValueError(
                f"model_options may not set {', '.join(clashing)}: "
                "pre-training takes them from the vocabulary and `seed`."
            )
        _check_model_options(self)
        if "vocabulary_size" in self.generator_options:
            raise ValueError(
                "generator_options may not set vocabulary_size: it comes "
                "from the vocabulary."
            )
        if self.generator_options and (
            self.objective == "mlm" or self.generator_init_from
        ):
            raise ValueError(
                "generator_options resize a fresh ELECTRA generator; they do "
                "not apply to objective 'mlm' or with generator_init_from."
            )
        return self


def _options(value, flag):
    return parse_options(value, flag)


def _trainer_class(objective):
    from keras_electra.models import MaskedLMPretrainer
    from keras_electra.models import ReplacedTokenDetector

    return MaskedLMPretrainer if objective == "mlm" else ReplacedTokenDetector


def _check_model_options(config):
    trainer_class = _trainer_class(config.objective)
    accepted = set(inspect.signature(trainer_class.__init__).parameters)
    unknown = sorted(set(config.model_options) - accepted)
    if unknown:
        valid = sorted(accepted - set(RESERVED_MODEL_OPTIONS) - {
            "self", "kwargs", "generator", "discriminator"})
        raise ValueError(
            f"Unknown model_options {', '.join(unknown)} for "
            f"{trainer_class.__name__} (objective '{config.objective}'). "
            f"Valid options: {', '.join(valid)}."
        )


def special_token_ids(tokenizer):
    """Ids the masker must never choose: `[PAD]`, `[CLS]`, `[SEP]`, `[MASK]`.

    Example:
    ```python
    from keras_electra.data import ElectraTokenizer
    from keras_electra.jobs.pretrain import special_token_ids
    tokenizer = ElectraTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]",
                                  "[MASK]", "a"])
    assert special_token_ids(tokenizer) == [0, 2, 3, 4]
    ```
    """
    return [
        tokenizer.pad_token_id,
        tokenizer.cls_token_id,
        tokenizer.sep_token_id,
        tokenizer.mask_token_id,
    ]


def _schedule(config, steps_per_epoch):
    from keras_electra.models.electra_presets import PRESETS

    training = PRESETS.get(config.preset, {}).get("training", {})
    learning_rate = config.learning_rate or training.get(
        "learning_rate", 5e-4)
    warmup_steps = config.warmup_steps
    if warmup_steps is None:
        warmup_steps = min(training.get("warmup_steps", 10000),
                           config.steps // 10)
    steps_per_epoch = steps_per_epoch or min(
        config.backup_every, max(10, config.steps // 40))
    return {"learning_rate": learning_rate, "warmup_steps": warmup_steps,
            "steps_per_epoch": steps_per_epoch}


def _dataset_fn(config, tokenizer, shuffle_buffer):
    from keras_electra.data import pretraining_dataset
    from keras_electra.data import tfrecord_dataset

    def dataset_fn():
        if config.tfrecords:
            return tfrecord_dataset(
                config.tfrecords, config.batch_size,
                sequence_length=config.sequence_length, seed=config.seed,
                repeat=True, shuffle_buffer=shuffle_buffer,
            )
        return pretraining_dataset(
            config.input, tokenizer, sequence_length=config.sequence_length,
            batch_size=config.batch_size, seed=config.seed, repeat=True,
            shuffle_buffer=shuffle_buffer,
        )

    return dataset_fn


def _overrides(config, tokenizer):
    """(fresh-model overrides, dropout overrides) of the preset config."""
    from keras_electra.models.electra_presets import PRESETS
    from keras_electra.models.preset_loader import preset_config

    overrides = {"vocabulary_size": tokenizer.vocabulary_size()}
    if config.preset in PRESETS:
        limit = preset_config(config.preset)["max_sequence_length"]
        overrides["max_sequence_length"] = max(limit, config.sequence_length)
    dropouts = {}
    if config.dropout is not None:
        dropouts["dropout"] = config.dropout
    if config.attention_dropout is not None:
        dropouts["attention_dropout"] = config.attention_dropout
    overrides.update(dropouts)
    return overrides, dropouts


def _check_vocabulary(backbone, tokenizer, config):
    if backbone.vocabulary_size != tokenizer.vocabulary_size():
        raise ValueError(
            f"The model's vocabulary_size ({backbone.vocabulary_size}) "
            f"differs from the vocabulary '{config.vocabulary}' "
            f"({tokenizer.vocabulary_size()} tokens). Continue pre-training "
            "with the checkpoint's own vocab.txt."
        )


def build_pretrainer(config, tokenizer):
    """The uncompiled pre-trainer a config asks for (seeded first).

    Example:
    ```python
    from keras_electra.data import bundled_vocabulary_file
    from keras_electra.data import tokenizer_from_vocabulary
    from keras_electra.jobs.pretrain import PretrainConfig, build_pretrainer
    tokenizer = tokenizer_from_vocabulary(bundled_vocabulary_file())
    model = build_pretrainer(PretrainConfig(input=["x.txt"]).validate(),
                             tokenizer)
    ```
    """
    import keras

    from keras_electra.models import ElectraDiscriminator
    from keras_electra.models import ElectraGenerator
    from keras_electra.models import MaskedLMPretrainer
    from keras_electra.models import ReplacedTokenDetector
    from keras_electra.models.preset_loader import pretrainer_part

    # Weight initialisation and the dropout layers' seeds draw from the
    # global generators: derive them from `seed` (the masker's and
    # sampler's seeds are `seed` itself), so a run is reproducible.
    keras.utils.set_random_seed(config.seed)
    overrides, dropouts = _overrides(config, tokenizer)
    masking = dict(
        mask_token_id=tokenizer.mask_token_id,
        unselectable_token_ids=special_token_ids(tokenizer),
        seed=config.seed, **config.model_options,
    )
    if config.objective == "mlm":
        model = MaskedLMPretrainer.from_preset(
            config.init_from or config.preset,
            **(dropouts if config.init_from else overrides),
            preprocessor=None,  # fed packed tf.data blocks
            **masking,
        )
        _check_vocabulary(model.generator.backbone, tokenizer, config)
        return model
    fresh_generator = {**overrides, **config.generator_options}
    discriminator = ElectraDiscriminator.from_preset(
        config.init_from or config.preset,
        **(dropouts if config.init_from else overrides),
    )
    # A detector saved with `save_to_preset` holds its generator too.
    generator_from = config.generator_init_from or (
        config.init_from
        if config.init_from
        and pretrainer_part(config.init_from, "generator") != config.init_from
        else None
    )
    if generator_from and config.generator_options:
        raise ValueError(
            "generator_options resize a fresh ELECTRA generator, but the "
            f"generator comes from '{generator_from}'."
        )
    generator = ElectraGenerator.from_preset(
        generator_from or config.preset,
        **(dropouts if generator_from else fresh_generator),
    )
    _check_vocabulary(discriminator.backbone, tokenizer, config)
    return ReplacedTokenDetector(generator, discriminator, **masking)


def _model_fn(config, tokenizer, schedule, dataset_fn):
    """The zero-argument builder `pretrain()` calls in the strategy scope."""

    def build():
        model = build_pretrainer(config, tokenizer)
        model.compile(
            learning_rate=schedule["learning_rate"],
            warmup_steps=schedule["warmup_steps"],
            train_steps=config.steps,
        )
        if config.precision == "matmul_bfloat16":
            from keras_electra.training import set_matmul_dtype_policy

            set_matmul_dtype_policy(model, "mixed_bfloat16")
        if config.output_bias == "unigram" and not config.init_from:
            from keras_electra.data import unigram_log_prior

            model.generator.initialize_output_bias(unigram_log_prior(
                dataset_fn().as_numpy_iterator(),
                tokenizer.vocabulary_size(),
                exclude_ids=special_token_ids(tokenizer),
            ))
        return model

    return build


def _write_history(folder, result):
    # `result["history"]` covers the whole run, earlier (killed) processes
    # included: it comes back from the backups.
    path = os.path.join(folder, "history.json")
    history = {
        key: [float(v) for v in values]
        for key, values in result["history"].items()
    }
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(history, f)
    os.replace(tmp, path)
    return history


def _save_outputs(config, folder, result, tokenizer, schedule, seconds):
    from keras_electra.data import save_tokenizer_files
    from keras_electra.training.flops import pretraining_flops_per_example
    from keras_electra.training.plots import plot_pretraining

    model = result["model"]
    history = _write_history(folder, result)
    trained = result["step"] - result["start_step"]
    summary = {
        "history": history,
        "seconds": seconds,
        "steps": result["step"],
        "start_step": result["start_step"],
        "tokens_per_second": trained * config.batch_size
        * config.sequence_length / max(seconds, 1e-9),
        "flops_per_example": pretraining_flops_per_example(
            model, config.sequence_length),
        "replicas": result.get("replicas", 1),
    }
    if config.objective == "mlm":
        folders = {"encoder_dir": (model.generator, "masked_lm")}
    else:
        folders = {
            "discriminator_dir": (model.discriminator, "discriminator"),
            "generator_dir": (model.generator, "generator"),
        }
    for key, (sub_model, name) in folders.items():
        path = os.path.join(folder, name)
        sub_model.save_to_preset(path)
        save_tokenizer_files(tokenizer, path)
        summary[key] = path
    summary.setdefault("encoder_dir", summary.get("discriminator_dir"))
    summary["plot"] = plot_pretraining(
        history, os.path.join(folder, "pretraining.png"),
        steps_per_epoch=schedule["steps_per_epoch"],
    )
    return summary


def report(config, result):
    """What `keras-electra pretrain` prints at the end."""
    history = result["history"]
    last = {k: round(v[-1], 4) for k, v in history.items() if v}
    print(json.dumps(last, indent=2))
    print(f"encoder to fine-tune: {result['encoder_dir']}")
    print(f"plot: {result['plot']}")
    print(f"{result['tokens_per_second']:.0f} tokens/s on "
          f"{result['replicas']} replica(s)")
    if result.get("start_step"):
        print(f"resumed from the backup of step {result['start_step']}")


def run(config, callbacks=None, verbose="auto", steps_per_epoch=None,
        shuffle_buffer=2000):
    """Pre-train (or resume) as `config` says; see `PretrainConfig`.

    Builds the pre-trainer of `config.preset` sized to the vocabulary,
    streams the text (or reads prepared TFRecords), trains with
    `keras_electra.training.pretrain` under the chosen strategy (atomic
    backups in `OUTPUT/backups`; the same call resumes a killed run),
    writes TensorBoard logs to `OUTPUT/logs`, `history.json` and
    `pretraining.png`, and saves the discriminator and generator (or the
    masked LM) as preset folders with the vocabulary. In a multi-worker
    job the chief writes `OUTPUT`, every other worker
    `OUTPUT/workers/worker-<i>`.

    Args:
        config: `PretrainConfig`.
        callbacks: list of `keras.callbacks.Callback`, added to the
            TensorBoard logger. Defaults to `None`.
        verbose: passed to `fit()`. Defaults to `"auto"`.
        steps_per_epoch: int. Logging period. Defaults to
            `min(backup_every, max(10, steps // 40))`.
        shuffle_buffer: int. Examples in the shuffle buffer. Defaults to
            `2000`.

    Returns:
        dict with `history`, `encoder_dir`, `discriminator_dir` and
        `generator_dir` (ELECTRA), `plot`, `seconds`, `steps`,
        `start_step` (the step a killed run resumed at, else 0),
        `replicas`, `tokens_per_second`, `flops_per_example`.

    Example:
    ```python
    from keras_electra.jobs.pretrain import PretrainConfig, run
    run(PretrainConfig(input=["corpus/"], output="/tmp/run", steps=20))
    ```
    """
    from keras_electra.data import save_tokenizer_files
    from keras_electra.data import tokenizer_from_vocabulary
    from keras_electra.training import TensorBoardScalars
    from keras_electra.training import num_replicas
    from keras_electra.training import pretrain
    from keras_electra.training.pretrain import worker_folder
    from keras_electra.training.run_lock import RunLock

    config.validate()
    strategy = make_strategy(config)
    folder = worker_folder(config.output)
    with RunLock(folder):
        config.vocabulary = config.vocabulary or os.path.join(
            config.output, VOCAB_FILE)
        if not os.path.exists(config.vocabulary):
            raise FileNotFoundError(
                f"Vocabulary '{config.vocabulary}' not found. Train one "
                "first (`keras-electra vocab`) or pass --vocabulary."
            )
        tokenizer = tokenizer_from_vocabulary(
            config.vocabulary, False if config.cased else None)
        save_tokenizer_files(tokenizer, folder)
        schedule = _schedule(config, steps_per_epoch)
        dataset_fn = _dataset_fn(config, tokenizer, shuffle_buffer)
        logger = TensorBoardScalars(
            log_dir=os.path.join(folder, "logs"), update_freq=50)
        start = time.time()
        result = pretrain(
            _model_fn(config, tokenizer, schedule, dataset_fn), dataset_fn,
            steps=config.steps,
            backup_dir=os.path.join(config.output, "backups"),
            steps_per_epoch=schedule["steps_per_epoch"],
            backup_every=config.backup_every, strategy=strategy,
            callbacks=[logger] + list(callbacks or []), verbose=verbose,
        )
        result["replicas"] = num_replicas(strategy)
        return _save_outputs(config, folder, result, tokenizer, schedule,
                             time.time() - start)


# The config the command line is built from.
Config = PretrainConfig
