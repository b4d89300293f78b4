"""One place that picks the distribution strategy for every backend.

TensorFlow uses `tf.distribute` strategies; JAX uses `keras.distribution`
(`DataParallel`); PyTorch trains on one device. Models, optimizers and
metrics must be created inside `distribution_scope(strategy)`.

How Keras 3 `fit()` feeds a `tf.distribute` strategy (checked in
`keras/src/backend/tensorflow/trainer.py`, Keras 3.15): the model records the
strategy whose scope it was created in; `fit()` wraps a `tf.data.Dataset`
with `strategy.experimental_distribute_dataset`, so **each batch of the
dataset is a global batch**, split evenly across replicas (and auto-sharded
across workers). A dataset that is already distributed
(`distribute_dataset()` below, built with
`strategy.distribute_datasets_from_function`) is used as is. Either way the
loss of `ReplacedTokenDetector` is a `keras.losses` reduction, which Keras
divides by the replica count, so gradients equal the single-device ones.

Gradient clipping: Keras 3.15's TensorFlow optimizer clips each replica's
gradient *before* the cross-replica all-reduce (`BaseOptimizer.
_backend_apply_gradients` calls `_clip_gradients`, then the TF
`_backend_update_step` all-reduces). With `global_clipnorm` (ELECTRA clips
to 1.0) the update under `MirroredStrategy` is then not the single-device
one. `clip_after_all_reduce(optimizer)` moves the all-reduce in front of
the clipping; `build_in_scope` and `pretrain` apply it. JAX's
`DataParallel` computes the global gradient first, so it is unaffected.
"""

import contextlib
import json
import os

import keras

from keras_electra.keras_workarounds import clip_after_all_reduce  # noqa: F401

KINDS = ("auto", "default", "mirrored", "multi_worker", "tpu", "data_parallel")


def _tf():
    import tensorflow as tf

    return tf


def _check_kind(kind):
    if kind not in KINDS:
        raise ValueError(
            f"Unknown strategy kind. Expected one of {KINDS}. Received "
            f"kind={kind!r}."
        )


def _tf_config_workers():
    """Number of workers in the `TF_CONFIG` cluster (0 when unset)."""
    config = os.environ.get("TF_CONFIG")
    if not config:
        return 0
    cluster = json.loads(config).get("cluster", {})
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


def configure_logical_cpus(count):
    """Split the host CPU into `count` logical devices (TensorFlow only).

    Lets `MirroredStrategy` be tested without GPUs. It must run before
    TensorFlow initializes its devices (before any op or strategy is
    created), so call it first thing in a fresh process.

    Args:
        count: int. Number of logical CPU devices.

    Returns:
        list of str: the logical CPU device names.

    Example:
    ```python
    from keras_electra.training import configure_logical_cpus, get_strategy
    configure_logical_cpus(2)  # first thing in the process
    strategy = get_strategy("mirrored")
    assert strategy.num_replicas_in_sync == 2
    ```
    """
    tf = _tf()
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * count
        )
    except RuntimeError as error:
        existing = tf.config.list_logical_devices("CPU")
        if len(existing) == count:
            return [d.name for d in existing]
        raise RuntimeError(
            f"Cannot create {count} logical CPU devices: TensorFlow is "
            f"already initialized with {len(existing)}. Call "
            "configure_logical_cpus() before any TensorFlow op runs (for "
            f"example in a fresh subprocess). Original error: {error}"
        ) from error
    return [d.name for d in tf.config.list_logical_devices("CPU")]


def _tf_strategy(kind, tpu, devices):
    tf = _tf()
    if kind == "auto":
        if tpu is not None:
            kind = "tpu"
        elif _tf_config_workers() > 1:
            kind = "multi_worker"
        elif devices is not None or len(tf.config.list_logical_devices("GPU")) > 1:
            kind = "mirrored"
        else:
            kind = "default"
    if kind == "default":
        return tf.distribute.get_strategy()
    if kind in ("mirrored", "data_parallel"):
        if devices is None:
            gpus = tf.config.list_logical_devices("GPU")
            devices = gpus or tf.config.list_logical_devices("CPU")
            devices = [d.name for d in devices]
        elif isinstance(devices, int):
            gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
            cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
            available = gpus or cpus
            if devices > len(available):
                raise ValueError(
                    f"Requested {devices} devices but only {len(available)} "
                    f"are visible: {available}. For CPU tests call "
                    "configure_logical_cpus() first."
                )
            devices = available[:devices]
        return tf.distribute.MirroredStrategy(devices=list(devices))
    if kind == "multi_worker":
        if not os.environ.get("TF_CONFIG"):
            raise ValueError(
                "kind='multi_worker' reads the cluster from the TF_CONFIG "
                "environment variable, which is not set. Set TF_CONFIG on "
                "every worker, e.g. {'cluster': {'worker': ['host1:port', "
                "'host2:port']}, 'task': {'type': 'worker', 'index': 0}}."
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    # kind == "tpu"
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(
            tpu=tpu or ""
        )
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except Exception as error:  # URLError, NotFoundError, ValueError, ...
        raise RuntimeError(
            f"Could not connect to the TPU {tpu!r}. Pass the TPU name or "
            "address (`tpu='my-tpu'`, `'grpc://10.0.0.2:8470'`, or `'local'` "
            "on a TPU VM) on a machine that can reach it. Original error: "
            f"{type(error).__name__}: {error}"
        ) from error
    return tf.distribute.TPUStrategy(resolver)


def _jax_distribution(kind, tpu, devices):
    if kind in ("default",):
        return None
    if kind == "multi_worker":
        # Multi-host JAX: every process calls keras.distribution.initialize()
        # (coordinator address, process count and id from the environment)
        # before building the mesh over all global devices.
        keras.distribution.initialize()
    if isinstance(devices, int):
        devices = keras.distribution.list_devices()[:devices]
    if devices is None:
        devices = keras.distribution.list_devices()
    if kind == "auto" and len(devices) < 2:
        return None
    return keras.distribution.DataParallel(devices=list(devices))


def get_strategy(kind="auto", tpu=None, devices=None):
    """Pick the distribution strategy for the current Keras backend.

    TensorFlow:
    - `"default"`: the default (one-device) strategy.
    - `"mirrored"`: `tf.distribute.MirroredStrategy` over `devices` (names
      or a count; defaults to all GPUs, else all logical CPUs, see
      `configure_logical_cpus`).
    - `"multi_worker"`: `tf.distribute.MultiWorkerMirroredStrategy`; the
      cluster comes from `TF_CONFIG`.
    - `"tpu"`: `tf.distribute.TPUStrategy` through a `TPUClusterResolver`
      for `tpu`; raises `RuntimeError` naming the TPU when none is reachable.
    - `"auto"`: TPU if `tpu` is given, multi-worker if `TF_CONFIG` lists
      more than one worker, mirrored if `devices` is given or more than one
      GPU is visible, otherwise default.

    JAX: `keras.distribution.DataParallel` over `devices` (defaults to all
    devices; `"auto"` returns `None`, no distribution, on one device). It is
    not set globally; use `distribution_scope()`. For several hosts use
    `"multi_worker"`, which calls `keras.distribution.initialize()` first.

    PyTorch: Keras' torch trainer runs on one device; `"default"` and
    `"auto"` return `None` and multi-device requests raise `ValueError`.

    Args:
        kind: str. One of `"auto"`, `"default"`, `"mirrored"`,
            `"multi_worker"`, `"tpu"`, `"data_parallel"` (an alias of
            `"mirrored"`). Defaults to `"auto"`.
        tpu: str. TPU name or address (TensorFlow). Defaults to `None`.
        devices: list of str or int. Devices for mirrored/data-parallel
            training, or their number. Defaults to `None` (all).

    Returns:
        A `tf.distribute.Strategy` (TensorFlow), a
        `keras.distribution.Distribution` or `None` (JAX), `None` (PyTorch).

    Example:
    ```python
    from keras_electra.models import ReplacedTokenDetector
    from keras_electra.training import distribution_scope, get_strategy
    strategy = get_strategy()
    with distribution_scope(strategy):
        rtd = ReplacedTokenDetector.from_preset("electra_tiny", seed=0)
        rtd.compile(learning_rate=1e-3, train_steps=100, warmup_steps=10)
    ```
    """
    _check_kind(kind)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return _tf_strategy(kind, tpu, devices)
    if backend == "jax":
        if kind == "tpu" and tpu is not None:
            raise ValueError(
                "On JAX, TPUs are ordinary local devices: run on a TPU VM and "
                f"pass kind='data_parallel' without `tpu`. Received tpu={tpu!r}."
            )
        return _jax_distribution(kind, tpu, devices)
    many = (
        kind in ("mirrored", "multi_worker", "tpu", "data_parallel")
        or tpu is not None
        or (isinstance(devices, int) and devices > 1)
        or (devices is not None and not isinstance(devices, int) and len(devices) > 1)
    )
    if many:
        raise ValueError(
            f"The {backend} backend trains on a single device in keras_electra "
            "(Keras' torch trainer has no multi-device strategy). Use "
            "KERAS_BACKEND=tensorflow or jax for data parallelism. Received "
            f"kind={kind!r}, tpu={tpu!r}, devices={devices!r}."
        )
    return None


def distribution_scope(strategy=None):
    """Context manager under which models, optimizers and metrics are built.

    TensorFlow: `strategy.scope()` (the current strategy when `None`). JAX:
    `distribution.scope()` for a `keras.distribution.Distribution`. `None`
    on JAX or PyTorch: a no-op context.

    Args:
        strategy: what `get_strategy()` returned. Defaults to `None`.

    Example:
    ```python
    import keras
    from keras_electra.training import distribution_scope, get_strategy
    with distribution_scope(get_strategy("default")):
        layer = keras.layers.Dense(2)
    ```
    """
    if strategy is None:
        if keras.backend.backend() == "tensorflow":
            return _tf().distribute.get_strategy().scope()
        return contextlib.nullcontext()
    return strategy.scope()


def num_replicas(strategy=None):
    """Number of data-parallel replicas of `strategy` (1 when `None`).

    Example:
    ```python
    from keras_electra.training import get_strategy, num_replicas
    assert num_replicas(get_strategy("default")) == 1
    ```
    """
    if strategy is None:
        return 1
    if hasattr(strategy, "num_replicas_in_sync"):
        return strategy.num_replicas_in_sync
    mesh = getattr(strategy, "device_mesh", None)
    if mesh is not None:
        return int(mesh.shape[0])
    return 1


def build_in_scope(model_fn, strategy=None):
    """Call `model_fn()` (which builds and compiles a model) in the scope.

    Creates model, optimizer and metric variables on the strategy's devices,
    builds the optimizer (so its state can be restored before `fit()`), and
    makes it clip the all-reduced gradient (`clip_after_all_reduce`).

    Args:
        model_fn: callable with no arguments returning a compiled
            `keras.Model`.
        strategy: what `get_strategy()` returned. Defaults to `None`.

    Returns:
        The model.

    Example:
    ```python
    from keras_electra.models import ReplacedTokenDetector
    from keras_electra.training import build_in_scope, get_strategy

    def model_fn():
        rtd = ReplacedTokenDetector.from_preset("electra_tiny", seed=0)
        rtd.compile(learning_rate=1e-3, train_steps=100, warmup_steps=10)
        return rtd

    rtd = build_in_scope(model_fn, get_strategy())
    assert rtd.optimizer.built
    ```
    """
    with distribution_scope(strategy):
        model = model_fn()
        if model.optimizer is not None:
            clip_after_all_reduce(model.optimizer)
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
    return model


def is_multi_worker(strategy):
    """Whether `strategy` spans several processes (TF multi-worker / TPU
    pods count their hosts; JAX and one-process strategies do not).

    Example:
    ```python
    from keras_electra.training import get_strategy, is_multi_worker
    assert not is_multi_worker(get_strategy("default"))
    ```
    """
    if strategy is None or keras.backend.backend() != "tensorflow":
        return False
    tf = _tf()
    return isinstance(
        strategy, tf.distribute.MultiWorkerMirroredStrategy
    ) and _tf_config_workers() > 1


def workers_minimum(value, strategy):
    """The smallest of an integer every worker of `strategy` passes.

    A collective all-gather, so every worker must call it at the same
    point. With one process it returns `value`.

    Example:
    ```python
    from keras_electra.training import get_strategy, workers_minimum
    assert workers_minimum(7, get_strategy("default")) == 7
    ```
    """
    if not is_multi_worker(strategy):
        return int(value)
    tf = _tf()

    @tf.function
    def gather():
        per_replica = strategy.run(
            lambda: tf.constant([value], dtype=tf.int64))
        return tf.reduce_min(strategy.gather(per_replica, axis=0))

    return int(gather())


def distribute_dataset(dataset_fn, global_batch_size, strategy=None):
    """Build a per-replica-batched, per-worker-sharded input pipeline.

    With a `tf.distribute` strategy this is
    `strategy.distribute_datasets_from_function`: `dataset_fn` is called once
    per input pipeline (worker) with the per-replica batch size
    (`InputContext.get_per_replica_batch_size(global_batch_size)`) and the
    `tf.distribute.InputContext`, and should shard by
    `input_context.input_pipeline_id` when it reads files. `fit()` accepts
    the result as is. Without a strategy (JAX, PyTorch, `None`),
    `dataset_fn(global_batch_size, None)` is returned: Keras' JAX trainer
    splits each global batch across the `DataParallel` mesh itself.

    Alternatively pass `fit()` a plain `tf.data.Dataset` of global batches:
    Keras distributes it with `experimental_distribute_dataset`.

    Args:
        dataset_fn: callable `(batch_size, input_context) -> tf.data.Dataset`
            yielding batches of `batch_size`.
        global_batch_size: int. Must be divisible by the replica count.
        strategy: what `get_strategy()` returned. Defaults to `None`.

    Example:
    ```python
    import numpy as np
    import tensorflow as tf
    from keras_electra.training import distribute_dataset, get_strategy

    ids = np.ones((64, 16), "int32")

    def dataset_fn(batch_size, input_context):
        ds = tf.data.Dataset.from_tensor_slices(ids)
        if input_context is not None:
            ds = ds.shard(input_context.num_input_pipelines,
                          input_context.input_pipeline_id)
        return ds.batch(batch_size, drop_remainder=True).repeat()

    data = distribute_dataset(dataset_fn, 8, get_strategy())
    ```
    """
    replicas = num_replicas(strategy)
    if global_batch_size % replicas:
        raise ValueError(
            f"The global batch size must be divisible by the number of "
            f"replicas. Received global_batch_size={global_batch_size} with "
            f"{replicas} replicas."
        )
    tf_strategy = keras.backend.backend() == "tensorflow" and hasattr(
        strategy, "distribute_datasets_from_function"
    )
    if not tf_strategy:
        return dataset_fn(global_batch_size, None)

    def per_worker(input_context):
        batch_size = input_context.get_per_replica_batch_size(global_batch_size)
        return dataset_fn(batch_size, input_context)

    return strategy.distribute_datasets_from_function(per_worker)
