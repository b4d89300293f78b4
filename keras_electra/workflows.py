"""The jobs behind `keras-electra`, under their earlier names.

The jobs live in `keras_electra.jobs` (one module and one config per job);
this module keeps the function names scripts were written against.

Example:
```python
from keras_electra.workflows import run_finetuning  # = jobs.finetune's
```
"""

from keras_electra.data.tokenizer_config import load_tokenizer
from keras_electra.jobs.evaluate import run_evaluation
from keras_electra.jobs.export import run_export
from keras_electra.jobs.finetune import run_finetuning
from keras_electra.jobs.inspect import inspect_text
from keras_electra.jobs.inspect import render_html
from keras_electra.jobs.inspect import render_terminal
from keras_electra.jobs.pretrain import VOCAB_FILE
from keras_electra.jobs.pretrain import special_token_ids
from keras_electra.jobs.task_data import TASKS
from keras_electra.jobs.task_data import load_task
from keras_electra.jobs.vocab import train_vocab

def run_pretraining(
    files,
    output_dir,
    vocabulary=None,
    preset="electra_tiny",
    steps=1000,
    batch_size=32,
    sequence_length=128,
    learning_rate=None,
    warmup_steps=None,
    seed=0,
    backup_every=200,
    steps_per_epoch=None,
    init_from=None,
    generator_init_from=None,
    tfrecords=None,
    shuffle_buffer=2000,
    objective="electra",
    output_bias="unigram",
    precision="float32",
    model_options=None,
    generator_options=None,
    callbacks=None,
    verbose="auto",
    lowercase=None,
    attention_dropout=None,
    dropout=None,
    strategy="auto",
    tpu=None,
    devices=None,
):
    """Pre-train (or resume pre-training) ELECTRA on text files.

    The Python spelling of `keras_electra.jobs.pretrain.run` (the job
    behind `keras-electra pretrain`), kept for scripts written against it:
    the arguments are the fields of `PretrainConfig` (`files` is `input`,
    `output_dir` is `output`).

    Builds the `ReplacedTokenDetector` of `preset` sized to the vocabulary,
    streams `files` (or reads prepared `tfrecords`) through the packing
    pipeline, trains with `keras_electra.training.pretrain` (atomic backups
    in `output_dir/backups`; the same call resumes a killed run), writes
    TensorBoard logs to `output_dir/logs`, a `history.json`, PNG plots, and
    saves `output_dir/discriminator` and `output_dir/generator` as preset
    folders with the vocabulary.

    Args:
        files: list of str. Text files, folders or globs.
        output_dir: str.
        vocabulary: str. A `vocab.txt`. Defaults to `output_dir/vocab.txt`,
            which must then exist (see `train_vocab`).
        preset: str. Defaults to `"electra_tiny"`.
        steps: int. Training steps. Defaults to `1000`.
        batch_size: int. Global batch size. Defaults to `32`.
        sequence_length: int. Defaults to `128`.
        learning_rate: float. Defaults to the preset's.
        warmup_steps: int. Defaults to the preset's, capped at 10% of
            `steps`.
        seed: int. Defaults to `0`.
        backup_every: int. Defaults to `200`.
        steps_per_epoch: int. Logging period. Defaults to
            `min(backup_every, max(10, steps // 40))`.
        init_from: str. Discriminator folder (keras_electra, Hugging Face or
            keras-hub) to continue from. Defaults to `None`.
        generator_init_from: str. Generator folder to continue from.
        tfrecords: str. Glob of shards from `prepare_tfrecords`, used instead
            of `files`.
        shuffle_buffer: int. Examples in the shuffle buffer (filling it is
            the start-up cost). Defaults to `2000`.
        objective: str. `"electra"` (replaced-token detection) or `"mlm"`
            (the BERT-style baseline: the preset's discriminator-sized
            encoder trained as a masked LM with `MaskedLMPretrainer`; it is
            saved to `output_dir/masked_lm`). Defaults to `"electra"`.
        output_bias: str. How a fresh run starts the masked-LM vocabulary
            bias: `"unigram"` (log-frequencies of the first 50 batches, see
            `keras_electra.data.unigram_log_prior`; avoids the embedding
            degeneration short runs suffer) or `"zero"` (the original
            code). Ignored with `init_from` and when resuming. Defaults to
            `"unigram"`.
        precision: str. `"float32"` or `"matmul_bfloat16"`: bfloat16 dense
            projections, everything else float32
            (`keras_electra.training.set_matmul_dtype_policy`); variables,
            backups and the saved models stay float32. Defaults to
            `"float32"`.
        model_options: dict. Keyword arguments of the pre-trainer
            (`ReplacedTokenDetector`, or `MaskedLMPretrainer` for `"mlm"`):
            e.g. `{"mask_rate": 0.25}`, `{"discriminator_loss_weight": 10}`,
            `{"tie_embeddings": False}`. The vocabulary's `mask_token_id`
            and special ids and `seed` are set from the other arguments.
            They apply to a fresh run and to a resumed one alike (the model
            is rebuilt before its backup is restored), so resume with the
            same options. Defaults to `None` (the paper's settings).
        generator_options: dict. Overrides of the generator's preset
            config (ELECTRA only, fresh generators only), e.g. `{"hidden_dim":
            128, "num_heads": 2, "intermediate_dim": 512}` for a generator as
            wide as `electra_tiny`'s discriminator. Defaults to `None`.
        callbacks: list of `keras.callbacks.Callback`, added to the
            TensorBoard logger (they run every `steps_per_epoch` steps).
        verbose: passed to `fit()`.
        lowercase: bool or None. `None` (the default) reads the casing from
            the `tokenizer_config.json` beside the vocabulary (written by
            `train_vocab`), else infers it from the vocabulary; `False`
            forces a cased tokenizer (`True` is the same as `None`).
        attention_dropout: float or None. Dropout on the attention
            probabilities of both models. `None` (the default) keeps the
            preset's (the paper's 0.1, as `dropout`); `0.0` lets attention
            run through fused kernels (`keras.ops.dot_product_attention`).
        dropout: float or None. Dropout of both models (the preset's by
            default).
        strategy, tpu, devices: the distribution (see `PretrainConfig`).
            Defaults to `"auto"`: the GPUs, a TF_CONFIG cluster or a TPU
            when present, else one device.

    Returns:
        dict with `history`, `encoder_dir` (the folder to fine-tune:
        `discriminator_dir` for ELECTRA, the masked LM's for `"mlm"`),
        `discriminator_dir` and `generator_dir` (ELECTRA), `plot`,
        `seconds`, `tokens_per_second`, `flops_per_example` (training
        FLOPs, see `keras_electra.training.flops`).

    Example:
    ```python
    from keras_electra.data import bundled_corpus_files
    train_vocab(bundled_corpus_files(), "/tmp/run/vocab.txt", 2000)
    run_pretraining(bundled_corpus_files(), "/tmp/run", steps=20,
                    batch_size=8, sequence_length=64)
    ```
    """
    from keras_electra.jobs import pretrain

    config = pretrain.PretrainConfig(
        input=files, tfrecords=tfrecords, output=output_dir,
        vocabulary=vocabulary, preset=preset, steps=steps,
        batch_size=batch_size, sequence_length=sequence_length,
        learning_rate=learning_rate, warmup_steps=warmup_steps,
        backup_every=backup_every, init_from=init_from,
        generator_init_from=generator_init_from, objective=objective,
        output_bias=output_bias, precision=precision,
        model_options=model_options, generator_options=generator_options,
        dropout=dropout, attention_dropout=attention_dropout,
        cased=lowercase is False, seed=seed, strategy=strategy, tpu=tpu,
        devices=devices,
    )
    return pretrain.run(
        config, callbacks=callbacks, verbose=verbose,
        steps_per_epoch=steps_per_epoch, shuffle_buffer=shuffle_buffer,
    )


__all__ = [
    "TASKS", "VOCAB_FILE", "inspect_text", "load_task", "load_tokenizer",
    "render_html", "render_terminal", "run_evaluation", "run_export",
    "run_finetuning", "run_pretraining", "special_token_ids", "train_vocab",
]
