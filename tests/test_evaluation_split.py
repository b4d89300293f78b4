"""`evaluate` scores the split a model was fine-tuned on (issue #24 item 1).

(This file also holds the CLI fine-tuning checks of label mapping and bad
rows, which lived in test_reliability.py: one fine-tuning run serves both.)

A model fine-tuned with `--seed 1` saves its split (`split.json`); evaluate
uses it by default and refuses texts the model was trained on.
"""

import json

import numpy as np
import pytest

from keras_electra.data import check_split
from keras_electra.data import load_rotten_tomatoes
from keras_electra.data import split_record
from test_reliability import VOCAB
from test_reliability import _write_csv
from test_reliability import cli_here
from test_reliability import tf_only
from test_reliability import vocabulary_size


def test_rotten_tomatoes_seed_mismatch_is_refused():
    train_1, _ = load_rotten_tomatoes("train", seed=1)
    test_1, _ = load_rotten_tomatoes("test", seed=1)
    test_0, _ = load_rotten_tomatoes("test", seed=0)
    record = split_record("rotten_tomatoes", 1,
                          {"train": train_1, "test": test_1})
    assert record["splits"]["test"]["in_train"] == 0
    checked = check_split(record, "rotten_tomatoes", 1, "test", test_1)
    assert checked == {"overlap_with_training": 0, "same_split": True}
    leaked = len(set(test_0) & set(train_1))
    assert leaked > len(test_0) // 2  # the issue counted 1,041 of 1,260
    with pytest.raises(ValueError) as error:
        check_split(record, "rotten_tomatoes", 0, "test", test_0)
    message = str(error.value)
    assert f"{leaked} of the {len(test_0)} 'test' examples" in message
    assert "split seed 1" in message and "--allow-overlap" in message
    checked = check_split(record, "rotten_tomatoes", 0, "test", test_0,
                          allow_overlap=True)
    assert checked == {"overlap_with_training": leaked, "same_split": False}
    # Scoring the training split itself is refused too.
    with pytest.raises(ValueError, match=f"{len(train_1)} of the "):
        check_split(record, "rotten_tomatoes", 1, "train", train_1)


def test_repeats_in_the_data_are_reported_not_refused():
    # A file holding a text twice can put it in train and test at one seed:
    # that is the data's own overlap, scored (and counted) at that seed.
    record = split_record("csv:x", 0, {"train": ["a", "b"],
                                       "test": ["b", "c"]})
    assert record["splits"]["test"]["in_train"] == 1
    assert check_split(record, "csv:x", 0, "test", ["b", "c"]) == {
        "overlap_with_training": 1, "same_split": True}
    with pytest.raises(ValueError, match="1 of the 2 'test' examples"):
        check_split(record, "csv:x", 0, "test", ["b", "d"])


@tf_only
@pytest.mark.slow
def test_finetune_seed_1_then_evaluate_scores_that_split(tmp_path):
    from keras_electra.models import ElectraDiscriminator
    from keras_electra.workflows import load_task
    from keras_electra.workflows import run_evaluation

    encoder = tmp_path / "encoder"
    ElectraDiscriminator.from_preset(
        "electra_tiny", vocabulary_size=vocabulary_size(), num_layers=1,
        num_groups=1,
    ).save_to_preset(str(encoder))
    (encoder / "vocab.txt").write_text(open(VOCAB).read())
    # Labels {0, 1, 5}: three classes named "0", "1", "5".
    rows = [f"review {i} of film {i * 37 % 101},{[0, 1, 5][i % 3]}"
            for i in range(200)]
    data = _write_csv(tmp_path / "reviews.csv", rows)
    task = f"csv:{data}"
    out = cli_here("finetune", "--model", encoder, "--output", tmp_path / "clf",
              "--task", task, "--epochs", "1", "--sequence-length", "16",
              "--seed", "1", "--cased", "--random-init",
              "--learning-rate", "0", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    # --random-init: the encoder's architecture with fresh weights (at
    # learning rate 0, any difference comes from the initialisation).
    from keras_electra.models import ElectraClassifier

    pretrained = ElectraDiscriminator.from_preset(str(encoder)).backbone
    fresh = ElectraClassifier.from_preset(str(tmp_path / "clf")).backbone
    assert [w.path for w in fresh.weights] == [
        w.path for w in pretrained.weights]
    assert all(
        not np.allclose(a.numpy(), b.numpy())
        for a, b in zip(fresh.weights, pretrained.weights)
        if a.path.endswith(("/kernel", "/embeddings"))
    )
    saved = json.loads((tmp_path / "clf" / "split.json").read_text())
    assert saved["task"] == task and saved["seed"] == 1
    assert {k: v["count"] for k, v in saved["splits"].items()} == {
        "train": 160, "validation": 20, "test": 20}
    labels = json.loads((tmp_path / "clf" / "labels.json").read_text())
    assert labels["labels"] == ["0", "1", "5"]
    # keras-hub's layout: the task in task.json, the encoder in config.json.
    config = json.loads((tmp_path / "clf" / "task.json").read_text())
    assert config["config"]["num_classes"] == 3
    casing = json.loads((tmp_path / "clf" / "tokenizer_config.json")
                        .read_text())
    assert casing["do_lower_case"] is False

    out = cli_here("evaluate", "--model", tmp_path / "clf", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout)
    assert result["task"] == task and result["seed"] == 1
    assert result["num_examples"] == 20
    assert result["overlap_with_training"] == 0 and result["same_split"]

    train_1 = set(load_task(task, "train", 1)[0])
    test_0 = load_task(task, "test", 0)[0]
    leaked = sum(t in train_1 for t in test_0)
    assert leaked > 0
    out = cli_here("evaluate", "--model", tmp_path / "clf", "--seed", "0",
              cwd=tmp_path)
    assert out.returncode == 2, out.stdout[-2000:]
    assert f"{leaked} of the 20 'test' examples of task '{task}' (split " \
        "seed 0) were training examples" in out.stderr
    result = run_evaluation(str(tmp_path / "clf"), seed=0,
                            allow_overlap=True, sequence_length=16)
    assert result["overlap_with_training"] == leaked
    assert result["seed"] == 0 and not result["same_split"]
    # A file with a label the model does not know: named file and line.
    bad = _write_csv(tmp_path / "bad.csv", rows[:-1] + ["snippet 199,7"])
    with pytest.raises(ValueError, match=r"bad.csv, line 201: label 7 is "
                       r"not one of the model's labels \['0', '1', '5'\]"):
        run_evaluation(str(tmp_path / "clf"), task=f"csv:{bad}")
