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

def run_pretraining(files, output_dir, lowercase=None, tfrecords=None,
                    callbacks=None, verbose="auto", steps_per_epoch=None,
                    shuffle_buffer=2000, **options):
    """Pre-train (or resume pre-training) ELECTRA on text files.

    The Python spelling of `keras_electra.jobs.pretrain.run` (the job
    behind `keras-electra pretrain`), kept for scripts written against it:
    `files` is `PretrainConfig.input`, `output_dir` its `output`,
    `lowercase=False` its `cased=True`, and `**options` any other field
    (`vocabulary`, `preset`, `steps`, `batch_size`, `sequence_length`,
    `seed`, `init_from`, `objective`, `precision`, `model_options`,
    `strategy`, ...: see `PretrainConfig` or `keras-electra pretrain
    --help`). `callbacks`, `verbose`, `steps_per_epoch` and
    `shuffle_buffer` are passed to `run`. Returns its result (`history`,
    `encoder_dir`, `discriminator_dir`, `generator_dir`, `plot`, ...).

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
        cased=lowercase is False, **options)
    return pretrain.run(
        config, callbacks=callbacks, verbose=verbose,
        steps_per_epoch=steps_per_epoch, shuffle_buffer=shuffle_buffer,
    )


__all__ = [
    "TASKS", "VOCAB_FILE", "inspect_text", "load_task", "load_tokenizer",
    "render_html", "render_terminal", "run_evaluation", "run_export",
    "run_finetuning", "run_pretraining", "special_token_ids", "train_vocab",
]
