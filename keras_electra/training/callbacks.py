"""Atomic, step-based training backups for exact mid-epoch resume.

Why not `keras.callbacks.BackupAndRestore`? Read in Keras 3.15
(`keras/src/callbacks/backup_and_restore.py`): with `save_freq=N` it saves
every N batches, but on restart it restores only `model._initial_epoch`, so
the interrupted epoch is run again from its first batch on weights that have
already seen part of it (replayed data, extra optimizer steps). It also
overwrites `latest.weights.h5` in place and writes its metadata afterwards,
so a kill during a save can leave a truncated file or a weights/metadata
pair from different steps. `StepBackup` instead:

- saves every `backup_every` steps into `ckpt-<step>/` (model weights and
  optimizer state including `iterations` via `save_weights`, plus the
  `SeedGenerator` states, which are model variables but not weights and
  which `save_weights` does NOT store), written to a
  hidden temporary folder and renamed into place (atomic on POSIX), with a
  `state.json` holding the step and a SHA-256 of the weights file;
- keeps the newest `keep` backups;
- is read by `latest_backup()`, which ignores temporary folders and any
  backup whose state is missing or whose checksum does not match.

The data position is not stored: `pretrain()` rebuilds the deterministic
input stream and skips the consumed batches.
"""

import errno
import hashlib
import json
import os
import re
import shutil
import uuid

import keras
import numpy as np

from keras_electra.models.checked_weights import load_weights_checked
from keras_electra.models.checked_weights import weights_file_bytes
from keras_electra.models.checked_weights import writable_bytes
from keras_electra.training.run_lock import pid_alive as _pid_alive

WEIGHTS_FILE = "model.weights.h5"
STATE_FILE = "state.json"
_BACKUP_NAME = re.compile(r"^ckpt-(\d+)$")
_TEMP_PREFIX = ".tmp-"


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup_steps(backup_dir):
    """`(step, path)` of folders named like backups, newest first.

    They may be incomplete; `read_backup_state` tells.

    Example:
    ```python
    from keras_electra.training.callbacks import backup_steps
    assert backup_steps("/tmp/no_such_backup_dir") == []
    ```
    """
    if not os.path.isdir(backup_dir):
        return []
    found = []
    for name in os.listdir(backup_dir):
        match = _BACKUP_NAME.match(name)
        if match:
            found.append((int(match.group(1)), os.path.join(backup_dir, name)))
    return sorted(found, reverse=True)


def read_backup_state(path):
    """Return the `state.json` dict of a complete backup, else `None`.

    A backup is complete when `state.json` parses, names the folder's step,
    and the weights file matches the recorded size and SHA-256.

    Example:
    ```python
    from keras_electra.training import latest_backup, read_backup_state
    path = latest_backup("/tmp/electra_backups")
    state = read_backup_state(path) if path else None
    ```
    """
    try:
        with open(os.path.join(path, STATE_FILE)) as f:
            state = json.load(f)
        match = _BACKUP_NAME.match(os.path.basename(os.path.normpath(path)))
        weights = os.path.join(path, WEIGHTS_FILE)
        if not match or int(match.group(1)) != state["step"]:
            return None
        if os.path.getsize(weights) != state["weights_bytes"]:
            return None
        if _sha256(weights) != state["weights_sha256"]:
            return None
        return state
    except (OSError, ValueError, KeyError, TypeError):
        return None


def latest_backup(backup_dir):
    """Path of the newest complete backup in `backup_dir`, or `None`.

    Temporary (half-written) folders and backups failing
    `read_backup_state` are skipped, falling back to older ones.

    Example:
    ```python
    from keras_electra.training import latest_backup
    assert latest_backup("/tmp/no_such_backup_dir") is None
    ```
    """
    for _, path in backup_steps(backup_dir):
        if read_backup_state(path) is not None:
            return path
    return None


def write_backup(model, backup_dir, step, keep=2, extra_state=None):
    """Atomically save `model`'s training state as `backup_dir/ckpt-<step>`.

    Writes `model.weights.h5` (weights, optimizer variables) and
    `state.json` (step, checksum, and the seed states) into a hidden temporary folder, syncs them to disk and
    renames the folder into place; then deletes all but the newest `keep`
    complete backups and stale temporary folders of this process.

    Args:
        model: a built, compiled `keras.Model`.
        backup_dir: str.
        step: int. Number of training steps taken.
        keep: int. Backups to keep. Defaults to `2`.
        extra_state: dict. Added to `state.json`. Defaults to `None`.

    Returns:
        str: the backup folder.

    Example:
    ```python
    import keras
    from keras_electra.training import write_backup, latest_backup
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("adam", "mse")
    write_backup(model, "/tmp/example_backups", step=0)
    assert latest_backup("/tmp/example_backups").endswith("ckpt-0000000000")
    ```
    """
    os.makedirs(backup_dir, exist_ok=True)
    final = os.path.join(backup_dir, f"ckpt-{step:010d}")
    if os.path.isdir(final) and read_backup_state(final) is not None:
        return final
    needed, room = weights_file_bytes(model), writable_bytes(backup_dir)
    if room < needed:
        # Refuse before HDF5 starts: a weights write that fails half-way
        # leaves HDF5 in a state that can crash the process later.
        raise OSError(
            errno.ENOSPC,
            f"{needed} bytes needed for {WEIGHTS_FILE}, {room} writable",
            backup_dir,
        )
    temp = os.path.join(
        backup_dir, f"{_TEMP_PREFIX}{step:010d}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    )
    os.makedirs(temp)
    try:
        _write_into(model, temp, step, extra_state)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    if os.path.isdir(final):  # an incomplete folder with this name
        shutil.rmtree(final)
    os.rename(temp, final)
    _fsync(backup_dir)
    prune_backups(backup_dir, keep)
    return final


def _write_into(model, temp, step, extra_state):
    weights = os.path.join(temp, WEIGHTS_FILE)
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    model.save_weights(weights)
    state = {
        "format": 1,
        "step": int(step),
        "optimizer_iterations": (
            None
            if model.optimizer is None
            else int(keras.ops.convert_to_numpy(model.optimizer.iterations))
        ),
        "weights_bytes": os.path.getsize(weights),
        "weights_sha256": _sha256(weights),
    }
    names, values = _state_variables(model)
    state["state_variables"] = {
        "paths": names,
        "values": [keras.ops.convert_to_numpy(v).tolist() for v in values],
    }
    state.update(extra_state or {})
    with open(os.path.join(temp, STATE_FILE), "w") as f:
        json.dump(state, f)
        f.flush()
        os.fsync(f.fileno())
    _fsync(weights)


def prune_backups(backup_dir, keep=2):
    """Delete all but the newest `keep` complete backups, and leftovers.

    Removes incomplete backup folders older than the newest complete one
    and temporary folders left by processes that died while saving.

    Example:
    ```python
    from keras_electra.training import prune_backups
    prune_backups("/tmp/no_such_backup_dir", keep=2)
    ```
    """
    if not os.path.isdir(backup_dir):
        return
    complete = 0
    for _, path in backup_steps(backup_dir):
        if read_backup_state(path) is None:
            if complete:
                shutil.rmtree(path, ignore_errors=True)
            continue
        complete += 1
        if complete > keep:
            shutil.rmtree(path, ignore_errors=True)
    for name in os.listdir(backup_dir):
        if name.startswith(_TEMP_PREFIX):
            pid = name[len(_TEMP_PREFIX) :].split("-")
            if len(pid) > 1 and pid[1].isdigit() and _pid_alive(int(pid[1])):
                continue
            shutil.rmtree(os.path.join(backup_dir, name), ignore_errors=True)


def restore_backup(model, path):
    """Load a backup written by `write_backup` into `model`; return its state.

    The model must be built and compiled with the same architecture and
    optimizer; the optimizer is built first if needed, so its variables
    (including `iterations`, which drives the learning-rate schedule) are
    restored too.

    Example:
    ```python
    import keras
    from keras_electra.training import restore_backup, write_backup
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("adam", "mse")
    path = write_backup(model, "/tmp/example_backups", step=0)
    assert restore_backup(model, path)["step"] == 0
    ```
    """
    state = read_backup_state(path)
    if state is None:
        raise ValueError(f"Not a complete backup: {path}")
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    load_weights_checked(
        model, os.path.join(path, WEIGHTS_FILE),
        context="The backup was written by a differently sized model: "
        "resume with the same preset and options, or use a new run folder.",
    )
    saved = state.get("state_variables", {"paths": [], "values": []})
    names, variables = _state_variables(model)
    if [_base_path(n) for n in names] != [
        _base_path(n) for n in saved["paths"]
    ]:
        raise ValueError(
            f"The backup {path} holds state variables {saved['paths']} but "
            f"the model has {names}: it was written by a different model."
        )
    for variable, value in zip(variables, saved["values"]):
        variable.assign(np.asarray(value, dtype=variable.dtype))
    return state


def _base_path(path):
    # Keras uniquifies names per process (`seed_generator_1`); ignore that.
    return re.sub(r"_\d+(?=/|$)", "", path)


def _state_variables(model):
    """Model variables that are not weights: the `SeedGenerator` states.

    `save_weights` stores `model.weights` and the optimizer, but not the
    seed states (checked in Keras 3.15), so backups keep them in
    `state.json`.
    """
    weight_ids = {id(v) for v in model.weights}
    variables = [v for v in model.variables if id(v) not in weight_ids]
    return [v.path for v in variables], variables


class BackupError(OSError):
    """A backup could not be written (disk full, permissions, ...).

    Training stops at that step; the newest complete backup is kept, so the
    same command resumes from it once the cause is fixed.

    Example:
    ```python
    try:
        result = pretrain(model, dataset_fn, steps=1000, backup_dir="runs/b")
    except BackupError as e:
        print(e)  # names the step, the folder and the backup kept
    ```
    """


class StepBackup(keras.callbacks.Callback):
    """Back up the full training state atomically every `backup_every` steps.

    Counts optimizer steps from `initial_step` (set `step` before each
    `fit()` call that continues a run); works with `steps_per_execution`.
    Also saves when training ends. Only the chief worker should write to the
    shared `backup_dir` (see `pretrain`). Restoring is done by
    `restore_backup(model, latest_backup(backup_dir))` before `fit()`.

    It also keeps the run's epoch logs in `history` (a dict of metric name
    -> list, like `History.history`) and writes them into every backup, so
    a resumed run's curves start where the killed one's did (a backup due
    on an epoch's last step is written after that epoch's logs). A backup
    that fails (a full disk, say) stops training cleanly: the error is kept
    in `error`, the half-written folder removed and the older backups left.

    Args:
        backup_dir: str.
        backup_every: int. Steps between backups. Defaults to `1000`.
        keep: int. Backups to keep. Defaults to `2`.
        initial_step: int. Steps already taken. Defaults to `0`.
        history: dict. Epoch logs of the run so far (from the backup it
            resumes). Defaults to `None` (empty).

    Example:
    ```python
    import numpy as np
    import keras
    from keras_electra.training import StepBackup, latest_backup
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    backup = StepBackup("/tmp/example_step_backups", backup_every=2)
    model.fit(np.ones((8, 3)), np.ones((8, 1)), batch_size=2, verbose=0,
              callbacks=[backup])
    assert backup.step == 4 and len(backup.history["loss"]) == 1
    ```
    """

    def __init__(self, backup_dir, backup_every=1000, keep=2, initial_step=0,
                 history=None):
        super().__init__()
        if backup_every < 1 or keep < 1:
            raise ValueError(
                "`backup_every` and `keep` must be >= 1. Received "
                f"backup_every={backup_every}, keep={keep}."
            )
        self.backup_dir = backup_dir
        self.backup_every = backup_every
        self.keep = keep
        self.step = initial_step
        self.history = {k: list(v) for k, v in (history or {}).items()}
        self.error = None
        self._last_saved = initial_step
        self._last_batch = -1
        self._due = False

    def on_train_begin(self, logs=None):
        self._last_saved = self.step

    def on_epoch_begin(self, epoch, logs=None):
        self._last_batch = -1

    def on_train_batch_end(self, batch, logs=None):
        # `batch` is the index of the last step of the execution.
        self.step += batch - self._last_batch
        self._last_batch = batch
        if self.step - self._last_saved >= self.backup_every:
            last_of_epoch = batch + 1 >= (self.params or {}).get("steps", 0)
            if last_of_epoch:
                self._due = True  # after this epoch's logs
            else:
                self.save()

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        if self._due:
            self.save()

    def on_train_end(self, logs=None):
        if self.step != self._last_saved and self.error is None:
            self.save()

    def save(self):
        """Write a backup of the current state now."""
        self._due = False
        try:
            write_backup(
                self.model, self.backup_dir, self.step, keep=self.keep,
                extra_state={"history": self.history},
            )
        except OSError as e:
            self.error = BackupError(
                f"Writing the backup of step {self.step} into "
                f"'{self.backup_dir}' failed: {e}. The newest complete "
                f"backup ({latest_backup(self.backup_dir)}) is kept; fix "
                "the cause (free disk space, ...) and run the same command "
                "to resume from it."
            )
            self.error.__cause__ = e
            self.model.stop_training = True
            return
        self._last_saved = self.step


class TensorBoardScalars(keras.callbacks.Callback):
    """Training scalars for TensorBoard, flushed as they are written.

    `keras.callbacks.TensorBoard` queues events and flushes them every two
    minutes or at the end of `fit()`, so a process killed mid-run leaves an
    empty events file. This writes every metric every `update_freq` steps
    and at each epoch end, tagged with the optimizer's global step (so a
    resumed run continues the same curves), and flushes each time.

    Needs TensorFlow (for `tf.summary`), on any Keras backend.

    Args:
        log_dir: str. Events go to `log_dir/train`.
        update_freq: int. Steps between batch-level points. Defaults to
            `50`.

    Example:
    ```python
    import numpy as np
    import keras
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(np.ones((8, 3)), np.ones((8, 1)), batch_size=2, verbose=0,
              callbacks=[TensorBoardScalars("/tmp/example_logs")])
    ```
    """

    def __init__(self, log_dir, update_freq=50):
        super().__init__()
        self.log_dir = log_dir
        self.update_freq = update_freq
        self._writer = None
        self._step = 0
        self._last_batch = -1

    def on_train_begin(self, logs=None):
        self._step = int(
            keras.ops.convert_to_numpy(self.model.optimizer.iterations)
        )

    def on_epoch_begin(self, epoch, logs=None):
        self._last_batch = -1

    def _write(self, prefix, logs):
        import tensorflow as tf

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(
                os.path.join(self.log_dir, "train")
            )
        with self._writer.as_default():
            for key, value in (logs or {}).items():
                tf.summary.scalar(prefix + key, float(value), step=self._step)
        self._writer.flush()

    def on_train_batch_end(self, batch, logs=None):
        before = self._step
        self._step += batch - self._last_batch
        self._last_batch = batch
        if self.update_freq and (
            self._step // self.update_freq > before // self.update_freq
        ):
            self._write("batch_", logs)

    def on_epoch_end(self, epoch, logs=None):
        self._write("epoch_", logs)

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None
