"""Bad input and accidents: named errors, no hangs, nothing written lost.

Each test drives the command line where a user would meet the problem
(every subprocess has a timeout, so a hang fails the test instead of CI).
"""

import contextlib
import gzip
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time

import h5py
import keras
import numpy as np
import pytest

from keras_electra.data import bundled_corpus_files

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCAB = os.path.join(ROOT, "keras_electra", "data", "corpus", "vocab.txt")
tf_only = pytest.mark.skipif(
    keras.config.backend() != "tensorflow",
    reason="CLI runs use the TensorFlow backend (CI budget)",
)
# A small run: 12 steps, epochs (and backups) of 4 steps, seeded.
RUN = ["--vocabulary", VOCAB, "--steps", "12", "--batch-size", "8",
       "--sequence-length", "32", "--backup-every", "4", "--seed", "3"]


def cli(*args, cwd, timeout=300, preexec_fn=None, wait=True):
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    command = [sys.executable, "-m", "keras_electra.cli", *map(str, args)]
    if not wait:
        return subprocess.Popen(
            command, cwd=cwd, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, preexec_fn=preexec_fn,
        )
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True,
        timeout=timeout, preexec_fn=preexec_fn,
    )


def cli_here(*args, cwd):
    """`keras-electra ARGS` run in this process, as `cli` runs it in a new
    one: same exit code, stdout and stderr, without the ~10 s of imports a
    new process pays. For runs that cannot hang and need nothing a process
    fixes at start (devices, backend); the others use `cli`.
    """
    from keras_electra import cli as command_line

    stdout, stderr = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(stdout), \
                contextlib.redirect_stderr(stderr):
            try:
                code = command_line.main([str(a) for a in args])
            except SystemExit as e:  # argparse, and refused config files
                code = e.code if isinstance(e.code, int) else 2
                if isinstance(e.code, str):
                    print(e.code, file=sys.stderr)
    finally:
        os.chdir(previous)
    return subprocess.CompletedProcess(
        args, code, stdout.getvalue(), stderr.getvalue())


def unusable_folder(folder):
    """Every kind of file that holds no usable text."""
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.txt").write_text("\n   \n\t\n")
    (folder / "image.bin").write_bytes(b"\x89PNG\x00\x01" * 500)
    text = "".join(f"line {i} of {i * 7919 % 10007} words\n"
                   for i in range(20000)).encode()
    truncated = gzip.compress(text)
    (folder / "cut.txt.gz").write_bytes(truncated[: len(truncated) // 2])
    corrupt = bytearray(gzip.compress(text))
    middle = len(corrupt) // 2
    corrupt[middle:middle + 60] = b"x" * 60
    (folder / "corrupt.txt.gz").write_bytes(bytes(corrupt))
    return folder


def small_corpus(folder):
    folder.mkdir()
    with gzip.open(bundled_corpus_files()[0], "rt", encoding="utf-8") as f:
        (folder / "book.txt").write_text(f.read()[:150_000])
    return folder


def vocabulary_size():
    with open(VOCAB, encoding="utf-8") as f:
        return len(f.read().splitlines())


def weights(path):
    arrays = {}
    with h5py.File(path, "r") as f:
        f.visititems(
            lambda name, item: arrays.__setitem__(name, item[()])
            if isinstance(item, h5py.Dataset) else None
        )
    return arrays


def assert_bitwise_equal(path_a, path_b, minimum=50):
    a, b = weights(path_a), weights(path_b)
    assert sorted(a) == sorted(b) and len(a) > minimum
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


@tf_only
def test_unusable_inputs_stop_with_every_file_named(tmp_path):
    bad = unusable_folder(tmp_path / "bad")
    reasons = {
        "empty.txt": "empty (0 bytes)",
        "blank.txt": "only blank lines (3 lines)",
        "image.bin": "binary",
        "cut.txt.gz": "truncated gzip",
        "corrupt.txt.gz": "corrupt gzip",
    }
    commands = {
        "vocab": ["vocab", "--input", bad, "--output", tmp_path / "v.txt"],
        "prepare": ["prepare", "--input", bad, "--vocabulary", VOCAB,
                    "--output", tmp_path / "shards", "--shards", "2"],
        "pretrain": ["pretrain", "--input", bad, "--output",
                     tmp_path / "run", *RUN],
    }
    for verb, args in commands.items():
        out = cli(*args, cwd=tmp_path, timeout=240)
        assert out.returncode == 2, (verb, out.stderr[-2000:])
        message = out.stderr.strip().splitlines()[-1]
        assert "No usable text in the 5 input file(s)" in message, verb
        for name, reason in reasons.items():
            assert f"{name}: {reason}" in message, (verb, name, message)
    assert not (tmp_path / "v.txt").exists()
    assert not (tmp_path / "shards").exists() or not os.listdir(
        tmp_path / "shards")  # no empty shards left behind

    # Shards that hold no example: refused up front, no endless loop.
    import tensorflow as tf

    (tmp_path / "empty_shards").mkdir()
    for i in range(2):
        tf.io.TFRecordWriter(
            str(tmp_path / "empty_shards" / f"pretrain-{i:05d}-of-00002.tfrecord")
        ).close()
    out = cli("pretrain", "--tfrecords", tmp_path / "empty_shards" / "*.tfrecord",
              "--output", tmp_path / "run2", *RUN, cwd=tmp_path, timeout=240)
    assert out.returncode == 2, out.stderr[-2000:]
    assert "hold no example" in out.stderr and "pretrain-00001" in out.stderr


def test_corrupt_gzip_is_skipped_and_the_report_comes_first(
    tmp_path, caplog
):
    from keras_electra.data import ElectraTokenizer
    from keras_electra.data import pretraining_dataset

    corpus = small_corpus(tmp_path / "corpus")
    bad = unusable_folder(tmp_path / "bad")
    for name in ("cut.txt.gz", "corrupt.txt.gz"):
        os.replace(bad / name, corpus / name)
    tokenizer = ElectraTokenizer(vocabulary=VOCAB)
    caplog.set_level("INFO", logger="keras_electra.data")
    ds = pretraining_dataset(str(corpus), tokenizer, sequence_length=32,
                             batch_size=8, seed=0, repeat=True)
    # Logged when the dataset is made, before any batch is asked for.
    first = [r.getMessage() for r in caplog.records
             if r.name == "keras_electra.data"]
    assert len(first) == 1 and first[0].startswith(
        "Corpus report (first 512 lines"), first
    skipped = dict((os.path.basename(p), r) for p, r in ds.report.skipped_files)
    assert sorted(skipped) == ["corrupt.txt.gz", "cut.txt.gz"]
    assert skipped["cut.txt.gz"].startswith("truncated gzip")
    assert skipped["corrupt.txt.gz"].startswith("corrupt gzip")
    assert next(iter(ds))["token_ids"].shape == (8, 32)
    # Fewer examples than one batch, without repeat: nothing would train.
    with pytest.raises(ValueError, match="fewer than one batch of 100000"):
        pretraining_dataset(str(corpus), tokenizer, sequence_length=32,
                            batch_size=100000, seed=0)


def _victim_preexec():
    os.setsid()


@tf_only
@pytest.mark.slow(first=True)
def test_seeded_runs_equal_and_kill_resume_keeps_everything(tmp_path):
    corpus = small_corpus(tmp_path / "corpus")
    runs = {name: tmp_path / name for name in ("a", "b", "c")}
    # A stale lock (a process that has ended) must not block run a.
    runs["a"].mkdir()
    (runs["a"] / ".keras-electra.lock").write_text(json.dumps(
        {"pid": 2 ** 22 + 12345, "host": socket.gethostname()}))
    procs = {
        name: cli("pretrain", "--input", corpus, "--output", folder, *RUN,
                  cwd=tmp_path, wait=False)
        for name, folder in runs.items()
    }
    from keras_electra.training import read_backup_state

    first_backup = runs["c"] / "backups" / "ckpt-0000000004"
    deadline = time.time() + 400
    while read_backup_state(str(first_backup)) is None:
        assert procs["c"].poll() is None, procs["c"].communicate()[0][-3000:]
        assert time.time() < deadline, "no backup appeared"
        time.sleep(0.05)
    os.kill(procs["c"].pid, signal.SIGKILL)
    procs["c"].wait()
    assert procs["c"].returncode == -signal.SIGKILL
    victim_pid = procs["c"].pid
    for name in ("a", "b"):
        output, _ = procs[name].communicate(timeout=400)
        assert procs[name].returncode == 0, output[-3000:]
    assert not (runs["c"] / "discriminator").exists()

    # Another job on a folder in use is refused, naming the holder.
    from keras_electra.training import RunLock

    with RunLock(runs["c"]):
        out = cli("pretrain", "--input", corpus, "--output", runs["c"], *RUN,
                  cwd=tmp_path)
    assert out.returncode == 2
    assert f"in use by pid {os.getpid()} on host '{socket.gethostname()}'" in (
        out.stderr)

    # The same command resumes the killed run (its lock is stale).
    out = cli("pretrain", "--input", corpus, "--output", runs["c"], *RUN,
              cwd=tmp_path, timeout=400)
    assert out.returncode == 0, out.stderr[-3000:]
    for model in ("discriminator", "generator"):
        # The casing of the vocabulary's folder travels with each model.
        casing = json.loads(
            (runs["c"] / model / "tokenizer_config.json").read_text())
        assert casing["do_lower_case"] is True
        # The encoder, then the head (keras-hub's task layout).
        for file, minimum in (("model.weights.h5", 50),
                              ("task.weights.h5", 2)):
            name = f"{model}/{file}"
            assert_bitwise_equal(runs["a"] / name, runs["b"] / name, minimum)
            assert_bitwise_equal(runs["a"] / name, runs["c"] / name, minimum)
    # History and plot of the resumed run cover the epochs before the kill.
    history = json.loads((runs["c"] / "history.json").read_text())
    reference = json.loads((runs["a"] / "history.json").read_text())
    assert len(reference["loss"]) == 3 and history == reference
    # The killed process' TensorBoard events were flushed as written.
    import tensorflow as tf

    logs = runs["c"] / "logs" / "train"
    killed = [n for n in os.listdir(logs) if f".{victim_pid}." in n]
    assert len(killed) == 1
    steps = [
        event.step
        for event in tf.compat.v1.train.summary_iterator(str(logs / killed[0]))
        for value in event.summary.value if value.tag == "epoch_loss"
    ]
    assert steps[:1] == [4]
    for name in ("a", "c"):
        assert not (runs[name] / ".keras-electra.lock").exists()

    # A full disk (here: a file size limit) while backing up: a clean
    # error naming the backup, the last complete backup and models kept.
    def small_files():
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4_000_000, 4_000_000))

    longer = [*RUN[:2], "--steps", "20", *RUN[4:]]
    out = cli("pretrain", "--input", corpus, "--output", runs["c"], *longer,
              cwd=tmp_path, timeout=400, preexec_fn=small_files)
    assert out.returncode == 2, (out.returncode, out.stderr[-3000:])
    assert "Writing the backup of step 16" in out.stderr
    assert "ckpt-0000000012) is kept" in out.stderr
    assert read_backup_state(
        str(runs["c"] / "backups" / "ckpt-0000000012")) is not None
    assert_bitwise_equal(runs["a"] / "discriminator/model.weights.h5",
                         runs["c"] / "discriminator/model.weights.h5")


def _write_csv(path, rows, header="text,label"):
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return str(path)


def test_fine_tuning_files_errors_name_file_and_line(tmp_path):
    from keras_electra.workflows import load_task

    header_only = _write_csv(tmp_path / "h.csv", [])
    with pytest.raises(ValueError, match=r"h.csv: no data rows below"):
        load_task(f"csv:{header_only}", "train")
    one_row = _write_csv(tmp_path / "one.csv", ["a fine film,1"])
    with pytest.raises(ValueError, match=r"one.csv: 1 data row\(s\)"):
        load_task(f"csv:{one_row}", "train")
    negative = _write_csv(
        tmp_path / "neg.csv", ["good,1", "bad,0", "unknown,-1"])
    with pytest.raises(ValueError, match=r"neg.csv, line 4: label -1"):
        load_task(f"csv:{negative}", "train")
    rows = [f"text {i},{[0, 1, 5][i % 3]}" for i in range(30)]
    gaps = _write_csv(tmp_path / "gaps.csv", rows)
    texts, labels, names = load_task(f"csv:{gaps}", "train")
    assert names == ["0", "1", "5"]
    assert sorted(set(labels.tolist())) == [0, 1, 2]
    assert len(texts) == 24 and all(
        names[y] == str([0, 1, 5][int(t.split()[1]) % 3])
        for t, y in zip(texts, labels)
    )
    other = _write_csv(tmp_path / "other.csv", rows[:-1] + ["text 29,7"])
    with pytest.raises(ValueError, match=r"other.csv, line 31: label 7 is "
                       r"not one of the model's labels \['0', '1', '5'\]"):
        load_task(f"csv:{other}", "test", label_names=names)


@pytest.mark.multibackend
def test_checkpoint_loading_compares_config_and_weights(tmp_path):
    from keras_electra.models import ElectraDiscriminator

    folder = tmp_path / "model"
    ElectraDiscriminator.from_preset(
        "electra_tiny", vocabulary_size=100
    ).save_to_preset(str(folder))
    weights_file = str(folder / "model.weights.h5")

    # config.json says 2 layers, the weights hold 4: refused, named.
    fewer = tmp_path / "fewer"
    fewer.mkdir()
    config = json.loads((folder / "config.json").read_text())  # backbone
    backbone = config["config"]
    backbone["num_layers"] = backbone["num_groups"] = 2
    (fewer / "config.json").write_text(json.dumps(config))
    for name in ("model.weights.h5", "metadata.json"):
        (fewer / name).write_bytes((folder / name).read_bytes())
    with pytest.raises(ValueError) as error:
        ElectraDiscriminator.from_preset(str(fewer))
    message = str(error.value)
    assert str(fewer / "model.weights.h5") in message
    assert "32 arrays in the file that the model does not have" in message
    assert "transformer_encoder_2" in message

    # An override that changes shapes: each array with both shapes.
    with pytest.raises(ValueError) as error:
        ElectraDiscriminator.from_preset(str(folder), intermediate_dim=256)
    message = str(error.value)
    assert weights_file in message
    assert ("_feedforward_intermediate_dense/vars/0: expected (128, 256), "
            "found (128, 512)") in message
    assert "intermediate_dim" in message

    # A truncated weights file: named, with its size.
    cut = tmp_path / "cut"
    cut.mkdir()
    for name in ("config.json", "metadata.json"):
        (cut / name).write_bytes((folder / name).read_bytes())
    data = (folder / "model.weights.h5").read_bytes()
    (cut / "model.weights.h5").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"Cannot read the weights file "
                       r"'.*cut/model.weights.h5' \(\d+ bytes\): it is "
                       "truncated"):
        ElectraDiscriminator.from_preset(str(cut))
    # Nothing was half-assigned: the intact folder still loads.
    assert ElectraDiscriminator.from_preset(str(folder)).count_params() > 0


@tf_only
def test_cli_names_a_model_folder_that_does_not_fit(tmp_path):
    from keras_electra.models import ElectraDiscriminator

    folder = tmp_path / "model"
    ElectraDiscriminator.from_preset(
        "electra_tiny", vocabulary_size=vocabulary_size()
    ).save_to_preset(str(folder))
    (folder / "vocab.txt").write_text(open(VOCAB).read())
    # The backbone's config.json and the task's task.json both say 2 layers.
    config = json.loads((folder / "config.json").read_text())
    config["config"]["num_layers"] = config["config"]["num_groups"] = 2
    (folder / "config.json").write_text(json.dumps(config))
    task = json.loads((folder / "task.json").read_text())
    task["config"]["backbone"]["config"].update(config["config"])
    (folder / "task.json").write_text(json.dumps(task))
    out = cli("inspect", "--model", folder, "--text", "the whale", cwd=tmp_path)
    assert out.returncode == 2
    assert f"'{folder}/model.weights.h5' does not fit the model" in out.stderr
    assert "layers/electra_transformer_encoder_2/" in out.stderr
    assert f"built from '{folder}/task.json'" in out.stderr


def test_run_lock_refuses_live_holders_and_replaces_stale_ones(tmp_path):
    from keras_electra.training import RunFolderLocked
    from keras_electra.training import RunLock

    folder = tmp_path / "run"
    sleeper = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; sys.path.insert(0, %r)\n"
        "from keras_electra.training.run_lock import RunLock\n"
        "with RunLock(%r):\n"
        "    print('locked', flush=True); time.sleep(60)\n"
    ) % (ROOT, str(folder))], stdout=subprocess.PIPE, text=True)
    try:
        assert sleeper.stdout.readline().strip() == "locked"
        with pytest.raises(RunFolderLocked, match=(
            f"in use by pid {sleeper.pid} on host '{socket.gethostname()}'"
        )):
            RunLock(folder).acquire()
    finally:
        sleeper.kill()
        sleeper.wait()
    # The killed holder's lock file is stale: taken over, then released.
    assert (folder / ".keras-electra.lock").exists()
    with RunLock(folder):
        holder = json.loads((folder / ".keras-electra.lock").read_text())
        assert holder["pid"] == os.getpid()
        with RunLock(folder):  # re-entrant in one process
            pass
        assert (folder / ".keras-electra.lock").exists()
    assert not (folder / ".keras-electra.lock").exists()
    # Another host's lock cannot be checked: refused, with the way out.
    (folder / ".keras-electra.lock").write_text(
        json.dumps({"pid": 1, "host": "elsewhere"}))
    with pytest.raises(RunFolderLocked, match="no longer runs on 'elsewhere'"):
        RunLock(folder).acquire()
