"""Data parallelism: strategy selection, MirroredStrategy exactness,
multi-worker training on loopback, static shapes under XLA, JAX DataParallel.

Multi-device TensorFlow tests run in subprocesses (this file is also their
script): logical CPU devices must be configured before TensorFlow
initializes, which a shared pytest process cannot guarantee.
"""

import argparse
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")
tensorflow_only = pytest.mark.skipif(
    BACKEND != "tensorflow",
    reason="tf.distribute strategies exist only on the TensorFlow backend",
)
DOMINANT_TOKEN = 5


def deterministic_rtd(seed=0):
    """A tiny detector whose training step draws no effective randomness.

    - `mask_rate=0.99` on 16 real tokens: k = round(15.84) = 16, capped by
      the 14 selectable ones: every selectable token is masked, so the set
      does not depend on the random ranking (only the slot order does, and
      both losses are means over slots, so order only changes float
      rounding).
    - `mask_token_rate=1.0`: every masked token becomes `[MASK]`.
    - The generator's output bias for one token (absent from the data) is
      100, while Gumbel noise from the float32 uniform lies in [-3.1, 20.8]:
      every Gumbel-max sample is that token, whatever the noise.
    """
    sys.path.insert(0, HERE)
    from test_replaced_token_detector import tiny_rtd

    rtd = tiny_rtd(seed=seed, mask_rate=0.99, mask_token_rate=1.0)
    bias = np.zeros(rtd.generator.lm_head._bias.shape, "float32")
    bias[DOMINANT_TOKEN] = 100.0
    rtd.generator.lm_head._bias.assign(bias)
    return rtd


def token_data(rows, length=16, seed=0):
    sys.path.insert(0, HERE)
    from test_replaced_token_detector import batch

    data = batch(size=rows, length=length, seed=seed)
    ids = data["token_ids"]
    ids[ids == DOMINANT_TOKEN] = DOMINANT_TOKEN + 1
    return data


def mirrored_main(out, clip_fix=True):
    from keras_electra.training import configure_logical_cpus

    configure_logical_cpus(2)  # before TensorFlow initializes
    import keras
    import tensorflow as tf

    from keras_electra.training import clip_after_all_reduce
    from keras_electra.training import distribution_scope
    from keras_electra.training import get_strategy
    from keras_electra.training import num_replicas

    keras.utils.set_random_seed(0)
    data = token_data(16)
    initial = None
    results = {}
    for name, kind in (("one", "default"), ("two", "mirrored")):
        strategy = get_strategy(kind)
        with distribution_scope(strategy):
            rtd = deterministic_rtd()
            rtd.compile(
                learning_rate=1e-3, warmup_steps=0, train_steps=100,
                jit_compile=False,
            )
            if clip_fix:
                clip_after_all_reduce(rtd.optimizer)
        if initial is None:
            initial = rtd.get_weights()
        rtd.set_weights(initial)
        losses = []
        record = keras.callbacks.LambdaCallback(
            on_train_batch_end=lambda b, logs: losses.append(
                [float(logs[k]) for k in ("loss", "generator_loss",
                                          "discriminator_loss")]
            )
        )
        # Two global batches of 8: each replica of "two" gets 4 rows.
        dataset = tf.data.Dataset.from_tensor_slices(data).batch(
            8, drop_remainder=True
        )
        rtd.fit(dataset, epochs=1, verbose=0, callbacks=[record])
        results[name] = {
            "replicas": num_replicas(strategy),
            "losses": losses,
            "iterations": int(rtd.optimizer.iterations.numpy()),
        }
        np.savez(f"{out}.{name}.npz", *rtd.get_weights())
    np.savez(f"{out}.initial.npz", *initial)

    # A dataset distributed by distribute_dataset(): per-replica batches,
    # which fit() takes as they are.
    from keras_electra.training import distribute_dataset

    def dataset_fn(batch_size, input_context):
        dataset = tf.data.Dataset.from_tensor_slices(data)
        return dataset.batch(batch_size, drop_remainder=True).repeat()

    distributed = distribute_dataset(dataset_fn, 8, strategy)
    first = next(iter(distributed))["token_ids"]
    results["per_replica_shapes"] = [
        list(t.shape) for t in strategy.experimental_local_results(first)
    ]
    rtd.fit(distributed, steps_per_epoch=1, epochs=1, verbose=0)
    results["two"]["iterations_after_distributed"] = int(
        rtd.optimizer.iterations.numpy()
    )
    with open(out, "w") as f:
        json.dump(results, f)


def worker_main(out, backup_dir):
    import keras
    import tensorflow as tf

    from keras_electra.training import get_strategy
    from keras_electra.training import pretrain

    strategy = get_strategy()  # "auto": multi-worker from TF_CONFIG
    assert isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
    keras.utils.set_random_seed(0)
    data = token_data(32)

    def model_fn():
        sys.path.insert(0, HERE)
        from test_replaced_token_detector import tiny_rtd

        rtd = tiny_rtd(seed=0)
        rtd.compile(learning_rate=1e-3, warmup_steps=0, train_steps=100,
                    jit_compile=False)
        return rtd

    def dataset_fn():
        options = tf.data.Options()
        policy = tf.data.experimental.AutoShardPolicy.DATA
        options.experimental_distribute.auto_shard_policy = policy
        dataset = tf.data.Dataset.from_tensor_slices(data)
        dataset = dataset.shuffle(32, seed=1).batch(8, drop_remainder=True)
        return dataset.with_options(options)

    result = pretrain(
        model_fn, dataset_fn, steps=4, backup_dir=backup_dir,
        backup_every=2, strategy=strategy, verbose=0,
    )
    rtd = result["model"]
    np.savez(out, *[np.asarray(v) for v in rtd.variables])
    with open(out + ".json", "w") as f:
        json.dump(
            {"replicas": strategy.num_replicas_in_sync, "step": result["step"],
             "iterations": int(rtd.optimizer.iterations.numpy())},
            f,
        )


def run_script(args, env=None, timeout=300):
    env = dict(os.environ if env is None else env)
    env.update(TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    return subprocess.Popen(
        [sys.executable, os.path.join(HERE, "test_distribution.py")] + args,
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )


def finish(process, timeout=300):
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output.decode()[-3000:]


def free_ports(count):
    sockets = []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def load_npz(path):
    arrays = np.load(path)
    return [arrays[f"arr_{i}"] for i in range(len(arrays.files))]


@tensorflow_only
def test_mirrored_two_replicas_match_one_device(tmp_path):
    """Same losses and updated weights on 1 device and on 2 replicas.

    Under `MirroredStrategy` every replica reads the same `SeedGenerator`
    state and draws numbers for its own half batch, so the masks and
    samples of a 2-replica step are not those of the 1-device step on the
    full batch (rows 4-7 get the draws of rows 0-3). An exact comparison
    therefore needs a step whose random draws cannot change the result:
    `deterministic_rtd()` masks every selectable token with `[MASK]` and
    makes every Gumbel-max sample the same token. Everything else (the
    generator and discriminator forward and backward passes, the
    1 x MLM + 50 x RTD loss with its replica scaling, the gradient
    all-reduce, global-norm clipping and AdamW with weight decay) runs
    as in real training, for two steps.

    Clipping to a global norm of 1.0 is active here (the MLM loss is ~100),
    so this also checks `clip_after_all_reduce`: with Keras' own order
    (clip per replica, then sum; run the script with `--keras-clipping`)
    the weights differ by ~3e-4 after two steps.
    """
    out = str(tmp_path / "mirrored.json")
    finish(run_script(["--mode", "mirrored", "--out", out]))
    results = json.loads(open(out).read())
    assert results["one"]["replicas"] == 1
    assert results["two"]["replicas"] == 2
    assert results["one"]["iterations"] == results["two"]["iterations"] == 2
    assert results["per_replica_shapes"] == [[4, 16], [4, 16]]
    assert results["two"]["iterations_after_distributed"] == 3
    one = np.array(results["one"]["losses"])
    two = np.array(results["two"]["losses"])
    assert one.shape == two.shape == (2, 3)
    # The RTD loss is 50 x discriminator loss plus a real MLM loss.
    assert one[0, 1] > 1.0 and one[0, 2] > 0.1
    np.testing.assert_allclose(two, one, rtol=1e-5, atol=1e-5)

    initial = load_npz(out + ".initial.npz")
    single = load_npz(out + ".one.npz")
    mirrored = load_npz(out + ".two.npz")
    moved = max(float(np.abs(a - b).max()) for a, b in zip(initial, single))
    assert moved > 1e-4  # training changed the weights
    worst = max(float(np.abs(a - b).max()) for a, b in zip(single, mirrored))
    assert worst <= 1e-5, worst


@tensorflow_only
def test_multi_worker_mirrored_two_processes_end_identical(tmp_path):
    ports = free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    backup_dir = str(tmp_path / "backups")
    workers = []
    for index in range(2):
        env = dict(os.environ)
        env["TF_CONFIG"] = json.dumps(
            {"cluster": cluster, "task": {"type": "worker", "index": index}}
        )
        out = str(tmp_path / f"worker{index}.npz")
        workers.append(run_script(
            ["--mode", "worker", "--out", out, "--backup-dir", backup_dir],
            env=env,
        ))
    for worker in workers:
        finish(worker)
    summaries = [
        json.loads(open(tmp_path / f"worker{i}.npz.json").read())
        for i in range(2)
    ]
    assert summaries[0] == summaries[1] == {
        "replicas": 2, "step": 4, "iterations": 4
    }
    first = load_npz(tmp_path / "worker0.npz")
    second = load_npz(tmp_path / "worker1.npz")
    assert len(first) == len(second) > 50
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    # The chief writes the shared folder, the other worker its own.
    assert sorted(os.listdir(backup_dir)) == [
        "ckpt-0000000002", "ckpt-0000000004", "workers"
    ]
    assert sorted(os.listdir(os.path.join(backup_dir, "workers", "worker-1")))[
        -1
    ] == "ckpt-0000000004"


@tensorflow_only
@pytest.mark.slow
def test_jit_compiled_train_step_has_static_shapes():
    import keras
    import tensorflow as tf

    sys.path.insert(0, HERE)
    from test_replaced_token_detector import tiny_rtd

    rtd = tiny_rtd(seed=0)
    rtd.compile(learning_rate=1e-3, warmup_steps=0, train_steps=10,
                jit_compile=True)
    traced = []
    train_step = rtd.train_step

    def recording_train_step(data):
        traced.append({k: tuple(v.shape) for k, v in data.items()})
        return train_step(data)

    rtd.train_step = recording_train_step
    dataset = tf.data.Dataset.from_tensor_slices(token_data(10, length=24))
    dataset = dataset.batch(4, drop_remainder=True)  # 10 rows: 2 full batches
    history = rtd.fit(dataset, epochs=1, verbose=0)
    assert rtd.jit_compile is True
    assert traced, "the training step was never traced"
    for shapes in traced:  # symbolic shapes seen by the XLA-compiled step
        assert shapes == {k: (4, 24) for k in shapes}, shapes
    assert int(rtd.optimizer.iterations.numpy()) == 2
    assert np.isfinite(history.history["loss"][0])
    assert keras.backend.backend() == "tensorflow"


@pytest.mark.multibackend
def test_get_strategy_on_this_backend():
    import keras

    from keras_electra.training import distribution_scope
    from keras_electra.training import get_strategy
    from keras_electra.training import num_replicas

    backend = keras.backend.backend()
    with pytest.raises(ValueError, match="Unknown strategy kind"):
        get_strategy("horovod")
    strategy = get_strategy()
    with distribution_scope(strategy):
        layer = keras.layers.Dense(2)
        layer.build((None, 3))
    if backend == "tensorflow":
        import tensorflow as tf

        assert strategy is tf.distribute.get_strategy()
        assert num_replicas(strategy) == 1
        with pytest.raises(ValueError, match="TF_CONFIG"):
            get_strategy("multi_worker")
        with pytest.raises(RuntimeError, match="Could not connect to the TPU"):
            get_strategy("tpu", tpu="no-such-tpu")
    elif backend == "jax":
        assert strategy is None or num_replicas(strategy) >= 2
    else:
        assert strategy is None
        with pytest.raises(ValueError, match="single device"):
            get_strategy("mirrored")


@pytest.mark.multibackend
@pytest.mark.skipif(BACKEND != "jax", reason="keras.distribution is JAX-only")
@pytest.mark.slow
def test_jax_data_parallel_trains():
    import keras
    import tensorflow as tf

    from keras_electra.training import distribution_scope
    from keras_electra.training import get_strategy
    from keras_electra.training import num_replicas

    sys.path.insert(0, HERE)
    from test_replaced_token_detector import tiny_rtd

    distribution = get_strategy("data_parallel")
    assert isinstance(distribution, keras.distribution.DataParallel)
    devices = keras.distribution.list_devices()
    assert num_replicas(distribution) == len(devices) >= 1
    with distribution_scope(distribution):
        rtd = tiny_rtd(seed=0)
        # Eager steps: XLA-compiling the whole step costs minutes on a
        # loaded 2-core CI machine; the data and variable layouts come from
        # the distribution either way.
        rtd.compile(learning_rate=1e-3, warmup_steps=0, train_steps=10,
                    jit_compile=False)
        before = [np.asarray(w) for w in rtd.weights]
        dataset = tf.data.Dataset.from_tensor_slices(token_data(8))
        history = rtd.fit(
            dataset.batch(4, drop_remainder=True), epochs=1, verbose=0
        )
    assert int(np.asarray(rtd.optimizer.iterations)) == 2
    assert np.isfinite(history.history["loss"][0])
    moved = max(
        float(np.abs(a - np.asarray(b)).max())
        for a, b in zip(before, rtd.weights)
    )
    assert moved > 1e-5


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["mirrored", "worker"], required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--backup-dir")
    parser.add_argument("--keras-clipping", action="store_true")
    args = parser.parse_args()
    if args.mode == "mirrored":
        mirrored_main(args.out, clip_fix=not args.keras_clipping)
    else:
        worker_main(args.out, args.backup_dir)
