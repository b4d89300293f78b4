"""The job layer: one config per job for CLI and Python; strategies via the CLI.

`keras-electra pretrain --strategy mirrored --devices 2` (two logical CPUs)
and a two-process `--strategy multi_worker` run finish, resume after
SIGKILL, and end with the one-device run's losses (1e-5 for four steps).

Exact comparison needs a step whose random draws cannot change the result
(under MirroredStrategy each replica draws for its own half batch, see
`test_distribution.py`): no dropout, `mask_rate=0.99` (every selectable
token of the packed 32-token blocks is masked), `mask_token_rate=1.0`
(all become `[MASK]`) and a generator temperature of 1e-4 (every sample is
the generator's argmax). The rest (data, both forward and backward passes,
the loss and its replica scaling, the all-reduce, clipping, AdamW) runs as
in any pre-training run.
"""

import json
import os
import re
import signal
import time

import numpy as np
import pytest

from test_distribution import free_ports
from test_reliability import VOCAB
from test_reliability import cli
from test_reliability import cli_here
from test_reliability import small_corpus
from test_reliability import tf_only
from test_reliability import weights

DETERMINISTIC = [
    "--vocabulary", VOCAB, "--steps", "6", "--batch-size", "8",
    "--sequence-length", "32", "--backup-every", "2", "--seed", "3",
    "--dropout", "0", "--attention-dropout", "0",
    "--model-options", "mask_rate=0.99,mask_token_rate=1.0,temperature=1e-4",
]


def test_config_is_the_flags_and_validates():
    import argparse

    from keras_electra.jobs.pretrain import PretrainConfig

    parser = argparse.ArgumentParser()
    PretrainConfig.add_arguments(parser)
    args = parser.parse_args(["--output", "r", "--input", "a.txt", "b.txt",
                              "--strategy", "mirrored", "--devices", "2",
                              "--cased"])
    config = PretrainConfig.from_args(args)
    assert config.input == ["a.txt", "b.txt"] and config.devices == 2
    assert config.strategy == "mirrored" and config.cased is True
    assert PretrainConfig.from_args(parser.parse_args(["--output", "r"])) == (
        PretrainConfig(output="r"))
    with pytest.raises(ValueError, match="missing --output"):
        PretrainConfig.from_args(parser.parse_args([]))
    with pytest.raises(ValueError, match="--strategy must be one of auto"):
        PretrainConfig(input=["a"], strategy="ring").validate()
    with pytest.raises(ValueError, match="--input or --tfrecords"):
        PretrainConfig(output="r").validate()
    with pytest.raises(ValueError, match="mask_rat.*mask_rate"):
        PretrainConfig(input=["a"], model_options="mask_rat=0.2").validate()
    with pytest.raises(ValueError, match="--devices must be >= 1"):
        PretrainConfig(input=["a"], devices=0).validate()
    # Every field is documented in --help.
    assert all(PretrainConfig.documented().values())


def _run(tmp_path, corpus, name, *extra):
    out = cli("pretrain", "--input", corpus, "--output", tmp_path / name,
              *DETERMINISTIC, *extra, cwd=tmp_path, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return out


def _final(folder):
    found = {}
    for model in ("discriminator", "generator"):
        for file in ("model.weights.h5", "task.weights.h5"):  # encoder, head
            found.update({
                f"{model}/{file}/{k}": v
                for k, v in weights(folder / model / file).items()
            })
    return found


def _assert_close(a, b, atol):
    assert sorted(a) == sorted(b)
    worst = max(float(np.abs(a[k] - b[k]).max()) for k in a)
    print(f"largest weight difference: {worst:.2e}")
    assert worst <= atol, worst


def _kill_after_backup(folder, processes, step):
    """SIGKILL `processes` once the backup of `step` in `folder` is complete."""
    from keras_electra.training import read_backup_state

    first = folder / "backups" / f"ckpt-{step:010d}"
    deadline = time.time() + 400
    while read_backup_state(str(first)) is None:
        assert all(p.poll() is None for p in processes), [
            p.communicate()[0][-3000:] for p in processes]
        assert time.time() < deadline, "no backup appeared"
        time.sleep(0.05)
    for process in processes:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert not (folder / "discriminator").exists()


def _assert_matches_one_device(folder, one_device):
    """Losses and final weights of a resumed multi-replica run against the
    uninterrupted one-device run.

    Steps 1-2 agree to ~1e-7 (the 1e-5 of test_distribution.py); float
    rounding of the 2-replica sums grows to ~1e-4 of the generator loss by
    steps 5-6 (six AdamW steps). The weights agree to 1e-5 (largest
    difference ~1e-7); a resume that loses or repeats a step, or restarts
    AdamW's moments, moves weights by about the learning rate (~1e-4).
    """
    history = json.loads((folder / "history.json").read_text())
    for key in ("loss", "generator_loss", "discriminator_loss"):
        np.testing.assert_allclose(history[key][:2],
                                   one_device["history"][key][:2], rtol=1e-5)
        np.testing.assert_allclose(history[key], one_device["history"][key],
                                   rtol=1e-3)
    _assert_close(one_device["weights"], _final(folder), 1e-5)


def _start_workers(tmp_path, corpus, name):
    ports = free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    workers = []
    for index in range(2):
        os.environ["TF_CONFIG"] = json.dumps(
            {"cluster": cluster, "task": {"type": "worker", "index": index}})
        try:
            workers.append(cli(
                "pretrain", "--input", corpus, "--output", tmp_path / name,
                *DETERMINISTIC, "--strategy", "multi_worker", cwd=tmp_path,
                wait=False,
            ))
        finally:
            del os.environ["TF_CONFIG"]
    return workers


def _finish(workers):
    resumed = set()
    for worker in workers:
        output, _ = worker.communicate(timeout=600)
        assert worker.returncode == 0, output[-3000:]
        assert "on 2 replica(s)" in output
        resumed.update(re.findall(r"resumed from the backup of step (\d+)",
                                  output))
    return resumed


def _mirrored_resumes(tmp_path, corpus, one_device):
    # SIGKILL a mirrored run after its first backup; the same command
    # resumes it and ends where the uninterrupted one-device run did.
    folder = tmp_path / "two"
    victim = cli("pretrain", "--input", corpus, "--output", folder,
                 *DETERMINISTIC, "--strategy", "mirrored", "--devices", "2",
                 cwd=tmp_path, wait=False)
    _kill_after_backup(folder, [victim], step=2)
    two = _run(tmp_path, corpus, "two", "--strategy", "mirrored",
               "--devices", "2")
    assert "on 2 replica(s)" in two.stdout
    assert "resumed from the backup of step 2" in two.stdout
    _assert_matches_one_device(folder, one_device)


def _multi_worker_resumes(tmp_path, corpus, one_device):
    # SIGKILL both workers once the chief's backup of step 4 exists: the
    # other worker has written step 2's (it took part in step 3), its step
    # 4 may or may not be written yet. The same two commands agree on the
    # newest step both hold, both resume there, and end where the
    # uninterrupted one-device run did.
    chief = tmp_path / "mw"
    _kill_after_backup(chief, _start_workers(tmp_path, corpus, "mw"), step=4)
    resumed = _finish(_start_workers(tmp_path, corpus, "mw"))
    assert resumed in ({"2"}, {"4"}), resumed
    # The chief writes the run folder, the other worker its own.
    other = chief / "workers" / "worker-1"
    assert (chief / "discriminator").is_dir()
    assert (other / "discriminator").is_dir()
    assert (chief / "backups" / "workers" / "worker-1").is_dir()
    _assert_close(_final(chief), _final(other), 0.0)
    _assert_matches_one_device(chief, one_device)


@tf_only
@pytest.mark.slow(first=True)
def test_strategies_through_the_cli_resume_and_match_one_device(tmp_path):
    """One uninterrupted one-device run; a mirrored (two logical CPUs) and a
    two-process multi-worker run, each SIGKILLed after a backup and resumed
    by the same command, end where it did."""
    corpus = small_corpus(tmp_path / "corpus")
    # The reference run needs no process of its own.
    out = cli_here("pretrain", "--input", corpus, "--output", tmp_path / "one",
                   *DETERMINISTIC, "--strategy", "default", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "on 1 replica(s)" in out.stdout
    history = json.loads((tmp_path / "one" / "history.json").read_text())
    assert history["discriminator_loss"][0] > 0.01
    one_device = {"weights": _final(tmp_path / "one"), "history": history}
    _mirrored_resumes(tmp_path, corpus, one_device)
    _multi_worker_resumes(tmp_path, corpus, one_device)


def test_every_job_builds_its_flags_from_its_config(tmp_path):
    """One definition per flag: --help lists each config field (with its
    help text), config files use the flag names, README verbs exist."""
    import dataclasses
    import os
    import re

    import argparse

    from keras_electra.cli import parse_args
    from keras_electra.jobs import JOBS

    helps = {}
    for job in JOBS:
        parser = argparse.ArgumentParser()
        job.Config.add_arguments(parser)
        # Every field is a flag (parsed with its default) and documented.
        assert sorted(vars(parser.parse_args([]))) == sorted(
            f.name for f in dataclasses.fields(job.Config)), job.NAME
        helps[job.NAME] = " ".join(parser.format_help().split())
        for field in dataclasses.fields(job.Config):
            text = " ".join(field.metadata["help"].split()[:4])
            assert text and text in helps[job.NAME], (job.NAME, field.name)
    # A config file names a flag as on the command line.
    config = tmp_path / "export.toml"
    config.write_text('no_metadata = false\nformat = ["tflite"]\n')
    args = parse_args(["export", "--config", str(config), "--model", "m",
                       "--output", "o"])
    assert args.metadata is False and args.format == ["tflite"]
    # The README's command table names existing verbs and flags only.
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    readme = open(os.path.join(root, "README.md"), encoding="utf-8").read()
    table = readme.split("## Command line", 1)[1].split("```", 2)[1]
    listed = set(re.findall(r"^keras-electra (\w+)", table, re.M))
    assert listed == set(helps), sorted(set(helps) ^ listed)
    for line in table.splitlines():
        match = re.match(r"keras-electra (\w+)(.*)", line.strip())
        if not match:
            continue
        verb, rest = match.groups()
        assert verb in helps, verb
        for flag in re.findall(r"(--[a-z][a-z-]*)", rest):
            assert re.search(rf"{flag}\b", helps[verb]), (verb, flag)
