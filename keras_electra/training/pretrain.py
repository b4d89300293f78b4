"""Resumable pre-training with plain `fit()`."""

import inspect
import json
import os

import keras

from keras_electra.keras_workarounds import multi_worker_fit
from keras_electra.models.checked_weights import load_weights_checked
from keras_electra.training.callbacks import BackupError
from keras_electra.training.callbacks import StepBackup
from keras_electra.training.callbacks import latest_backup
from keras_electra.training.callbacks import prune_backups
from keras_electra.training.callbacks import restore_backup
from keras_electra.training.distribution import clip_after_all_reduce
from keras_electra.training.distribution import distribution_scope
from keras_electra.training.run_lock import RunLock


def worker_index():
    """`(index, is_chief)` of this process in a multi-worker job."""
    config = os.environ.get("TF_CONFIG")
    if config and keras.backend.backend() == "tensorflow":
        config = json.loads(config)
        task = config.get("task", {})
        cluster = config.get("cluster", {})
        task_type, index = task.get("type", "worker"), int(task.get("index", 0))
        if task_type == "chief":
            return 0, True
        has_chief = bool(cluster.get("chief"))
        return index + int(has_chief), (task_type == "worker" and index == 0
                                        and not has_chief)
    if keras.backend.backend() == "jax":
        import jax

        return jax.process_index(), jax.process_index() == 0
    return 0, True


def worker_folder(folder):
    """`folder` for the chief, `folder/workers/worker-<i>` for worker i.

    Every worker holds the same state; non-chief workers write their own
    copy so that they never race the chief on the shared folder.

    Example:
    ```python
    from keras_electra.training.pretrain import worker_folder
    worker_folder("runs/my")  # "runs/my" in a one-process run
    ```
    """
    index, chief = worker_index()
    if chief:
        return folder
    return os.path.join(folder, "workers", f"worker-{index}")


def _symbolic_build(model, element_spec):
    """Build `model` from the dataset's spec without running it.

    A symbolic call creates the variables without drawing random numbers,
    so the `SeedGenerator` states stay at their initial values (a real
    call on a batch would advance them).
    """
    if isinstance(element_spec, tuple):
        element_spec = element_spec[0]
    inputs = keras.tree.map_structure(
        lambda spec: keras.KerasTensor(spec.shape, dtype=spec.dtype.name),
        element_spec,
    )
    model(inputs)


def dataset_at(dataset_fn, start_step):
    """The input stream of global batches, positioned at `start_step`.

    If `dataset_fn` takes a `start_step` argument it is called with it and
    must return the stream from that batch on (the efficient route for big
    corpora, e.g. skipping whole files). Otherwise `dataset_fn()` is
    repeated and `start_step` batches are skipped, which replays the input
    pipeline up to there: the function must be deterministic (fixed shuffle
    seeds, `deterministic=True` maps).

    Args:
        dataset_fn: callable returning a `tf.data.Dataset` of global batches.
        start_step: int. Number of batches already consumed.

    Example:
    ```python
    import numpy as np
    import tensorflow as tf
    from keras_electra.training.pretrain import dataset_at
    fn = lambda: tf.data.Dataset.from_tensor_slices(np.arange(10)).batch(2)
    first = next(iter(dataset_at(fn, 3)))
    assert first.numpy().tolist() == [6, 7]
    ```
    """
    parameters = inspect.signature(dataset_fn).parameters
    if "start_step" in parameters:
        return dataset_fn(start_step=start_step)
    dataset = dataset_fn().repeat()
    return dataset.skip(start_step) if start_step else dataset


def load_initial_weights(model, init_from):
    """Load model weights only: optimizer state and seeds stay fresh.

    For continued pre-training from weights without (usable) optimizer
    state. The model must be built (`pretrain()` builds it first). `init_from` is a `.weights.h5` file, a `.keras` file, or a backup
    folder of `pretrain()` (its newest backup). Everything but the model's
    weights (optimizer variables, `iterations`, `SeedGenerator` states) is
    put back to its value before loading, so training starts at step 0 with
    a fresh learning-rate schedule.

    To continue from a discriminator and generator saved with
    `save_to_preset` (or imported from Hugging Face), build the model from
    them instead: `ReplacedTokenDetector.from_preset(discriminator_dir,
    generator=generator_dir)`, compile it, and call `pretrain()` with a new
    `backup_dir`.

    Example:
    ```python
    import keras
    from keras_electra.training.pretrain import load_initial_weights
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("adam", "mse")
    model.save_weights("/tmp/init.weights.h5")
    load_initial_weights(model, "/tmp/init.weights.h5")
    ```
    """
    if os.path.isdir(init_from):
        path = latest_backup(init_from)
        if path is None:
            raise ValueError(f"No complete backup in init_from={init_from!r}.")
        init_from = os.path.join(path, "model.weights.h5")
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    weight_ids = {id(v) for v in model.weights}
    keep = [v for v in model.variables if id(v) not in weight_ids]
    if model.optimizer is not None:
        keep += list(model.optimizer.variables)
    saved = [keras.ops.convert_to_numpy(v) for v in keep]
    if init_from.endswith(".keras"):
        source = keras.saving.load_model(init_from, compile=False)
        model.set_weights(source.get_weights())
    elif init_from.endswith(".weights.h5"):
        load_weights_checked(model, init_from)
    else:
        raise ValueError(
            "`init_from` must be a `.weights.h5` file, a `.keras` file or a "
            f"pretrain() backup folder. Received init_from={init_from!r}."
        )
    for variable, value in zip(keep, saved):
        variable.assign(value)


def pretrain(
    model,
    dataset_fn,
    steps,
    backup_dir,
    steps_per_epoch=None,
    backup_every=1000,
    keep=2,
    init_from=None,
    strategy=None,
    callbacks=None,
    verbose="auto",
):
    """Run (or resume) pre-training for `steps` steps with `fit()`.

    Restartable with the same call: if `backup_dir` holds a complete backup,
    the model weights, optimizer state (so `optimizer.iterations` and the
    learning-rate schedule), and the model's `SeedGenerator` states are
    restored, and the input stream is rebuilt from `dataset_fn` and advanced
    past the consumed batches (see `dataset_at`), so no batch is replayed or
    skipped. With deterministic data and kernels the result equals an
    uninterrupted run. A backup is written atomically every `backup_every`
    steps and at the end (see `StepBackup`); a finished run called again
    returns at once.

    A resume mid-epoch runs the rest of that epoch as one `fit()` call,
    then the remaining epochs as another, so epoch-level logs of the
    interrupted epoch cover only its second part.

    Without a backup, `init_from` (weights without optimizer state, see
    `load_initial_weights`) initializes the model and training starts at
    step 0. `init_from` is ignored once the run has its own backups, so a
    restarted continued pre-training resumes rather than starting over.

    Distribution: build and compile the model in `distribution_scope(
    strategy)` or pass a zero-argument `model` function and `strategy`.
    `dataset_fn` yields global batches; Keras splits them across replicas.
    The optimizer is made to clip the all-reduced gradient
    (`clip_after_all_reduce`).
    In multi-worker training every worker runs the same call; the chief
    writes to `backup_dir`, other workers to `backup_dir/workers/worker-<i>`.

    Args:
        model: a compiled `keras.Model`, or a callable returning one (called
            in `distribution_scope(strategy)`).
        dataset_fn: callable returning a deterministic `tf.data.Dataset` of
            global batches (inputs only for `ReplacedTokenDetector`), with
            static shapes (`drop_remainder=True`) for XLA and TPUs. May take
            a `start_step` argument (see `dataset_at`).
        steps: int. Total training steps.
        backup_dir: str. Folder of this run's backups.
        steps_per_epoch: int. Steps between epoch-end callbacks and logs.
            Defaults to `min(steps, backup_every)`.
        backup_every: int. Defaults to `1000`.
        keep: int. Backups kept. Defaults to `2`.
        init_from: str. Initial weights for a fresh run. Defaults to `None`.
        strategy: what `get_strategy()` returned; used to build `model`
            when it is a callable. Defaults to `None`.
        callbacks: list of `keras.callbacks.Callback`. Defaults to `None`.
        verbose: passed to `fit()`. Defaults to `"auto"`.

    Returns:
        dict: `{"model", "start_step", "step", "history"}`: the trained
        model, where this call started, where it ended, and the epoch logs
        of the whole run (those of earlier, interrupted calls come back
        from the backup, see `StepBackup`).

    Raises:
        RunFolderLocked: another live process trains into `backup_dir`.
        BackupError: a backup could not be written (training stopped
            there; the previous complete backup is kept).

    Example:
    ```python
    import numpy as np
    import tensorflow as tf
    from keras_electra.models import ReplacedTokenDetector
    from keras_electra.training import pretrain

    ids = np.random.default_rng(0).integers(5, 8192, (64, 32)).astype("int32")
    ids[:, 0], ids[:, -1] = 2, 3
    data = {"token_ids": ids, "segment_ids": np.zeros_like(ids),
            "padding_mask": np.ones_like(ids)}

    def dataset_fn():
        ds = tf.data.Dataset.from_tensor_slices(data)
        return ds.shuffle(64, seed=0).batch(8, drop_remainder=True)

    rtd = ReplacedTokenDetector.from_preset("electra_tiny", seed=0)
    rtd.compile(learning_rate=1e-3, train_steps=20, warmup_steps=2)
    result = pretrain(rtd, dataset_fn, steps=20, steps_per_epoch=10,
                      backup_dir="/tmp/electra_run", backup_every=5)
    assert result["step"] == 20
    ```
    """
    if steps < 1:
        raise ValueError(f"`steps` must be >= 1. Received steps={steps}.")
    steps_per_epoch = steps_per_epoch or min(steps, backup_every)
    if callable(model) and not isinstance(model, keras.Model):
        with distribution_scope(strategy):
            model = model()
    if model.optimizer is None:
        raise ValueError(
            "pretrain() needs a compiled model; call model.compile() first."
        )
    scope = (
        model.distribute_strategy.scope()
        if hasattr(model, "distribute_strategy")
        else distribution_scope(None)
    )
    clip_after_all_reduce(model.optimizer)
    with scope:
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
    if not model.built:
        _symbolic_build(model, dataset_at(dataset_fn, 0).element_spec)
    own_dir = worker_folder(backup_dir)
    with RunLock(own_dir):
        return _fit_with_backups(
            model, dataset_fn, steps, own_dir, steps_per_epoch,
            backup_every, keep, init_from, callbacks, verbose,
        )


def agreed_backup(model, own_dir):
    """The backup to resume from: this worker's newest complete one, or in
    multi-worker training the newest step every worker holds.

    A SIGKILL can stop the workers between their writes of one step's
    backups; resuming each from its own newest would then run different
    step counts, and their collectives would wait for each other forever.
    The workers agree on the smallest of their newest steps (a collective,
    `workers_minimum`), which each still holds (two backups are kept).

    Example:
    ```python
    from keras_electra.models import ReplacedTokenDetector
    rtd = ReplacedTokenDetector.from_preset("electra_tiny")
    assert agreed_backup(rtd, "/tmp/no_backups_here") is None
    ```
    """
    from keras_electra.training.callbacks import backup_steps
    from keras_electra.training.callbacks import read_backup_state
    from keras_electra.training.distribution import workers_minimum

    complete = {step: path for step, path in backup_steps(own_dir)
                if read_backup_state(path) is not None}
    newest = max(complete, default=0)
    strategy = getattr(model, "distribute_strategy", None)
    agreed = workers_minimum(newest, strategy)
    if agreed == 0:
        return None
    if agreed not in complete:
        raise BackupError(
            f"The workers' newest common backup is step {agreed}, but "
            f"'{own_dir}' holds complete backups of steps "
            f"{sorted(complete)} only; remove the backups of every worker "
            "to start over, or restore the missing one."
        )
    return complete[agreed]


def _fit_with_backups(model, dataset_fn, steps, own_dir, steps_per_epoch,
                      backup_every, keep, init_from, callbacks, verbose):
    prune_backups(own_dir, keep)
    step = 0
    history = {}
    latest = agreed_backup(model, own_dir)
    if latest is not None:
        state = restore_backup(model, latest)
        step, history = state["step"], state.get("history", {})
    elif init_from is not None:
        load_initial_weights(model, init_from)
    start_step = step

    multi_worker_fit(model, dataset_at(dataset_fn, 0))

    backup = StepBackup(
        own_dir, backup_every=backup_every, keep=keep, history=history
    )
    while step < steps:
        epoch, offset = divmod(step, steps_per_epoch)
        if offset:  # finish the interrupted epoch
            run_steps, epochs = min(steps_per_epoch - offset, steps - step), 1
        elif steps - step >= steps_per_epoch:
            run_steps = steps_per_epoch
            epochs = (steps - step) // steps_per_epoch
        else:  # a last, shorter epoch
            run_steps, epochs = steps - step, 1
        backup.step = step
        model.fit(
            dataset_at(dataset_fn, step),
            initial_epoch=epoch,
            epochs=epoch + epochs,
            steps_per_epoch=run_steps,
            # The backup runs last, so what the other callbacks write for
            # a step (logs, events) is on disk before its backup exists.
            callbacks=list(callbacks or []) + [backup],
            verbose=verbose,
        )
        if backup.error is not None:
            raise backup.error
        if backup.step != step + run_steps * epochs:
            # fit() stopped early (a callback or an exhausted dataset).
            step = backup.step
            break
        step = backup.step
    history = backup.history
    return {
        "model": model,
        "start_step": start_step,
        "step": step,
        "history": history,
    }
