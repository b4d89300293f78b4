"""Streaming pre-training pipeline, bad input, TFRecords."""

import gzip
import random
import resource
import time

import numpy as np
import pytest
import tensorflow as tf

from keras_electra.data import CorpusReport
from keras_electra.data import ElectraTokenizer
from keras_electra.data import SegmentPacker
from keras_electra.data import bundled_corpus_files
from keras_electra.data import prepare_tfrecords
from keras_electra.data import pretraining_dataset
from keras_electra.data import tfrecord_dataset

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta",
         "theta", "iota", "kappa"]
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "."] + WORDS
CLS, SEP, PAD = 2, 3, 0


@pytest.fixture(scope="module")
def tokenizer():
    return ElectraTokenizer(vocabulary=VOCAB)


def write_corpus(path, n_docs=30, seed=0, gz=False):
    rng = random.Random(seed)
    docs = []
    for _ in range(n_docs):
        sentences = [
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
            + " ."
            for _ in range(rng.randint(2, 10))
        ]
        docs.append("\n".join(sentences))
    text = "\n\n".join(docs) + "\n"
    opener = gzip.open if gz else open
    with opener(path, "wt", encoding="utf-8") as f:
        f.write(text)
    return path


def check_layout(batch, sequence_length):
    """Every example is [CLS] A [SEP] (B [SEP]) [PAD]... with right ids."""
    ids, seg, mask = (batch[k].numpy() for k in
                      ("token_ids", "segment_ids", "padding_mask"))
    assert ids.dtype == seg.dtype == mask.dtype == np.int32
    for t, s, m in zip(ids, seg, mask):
        n = int(m.sum())
        assert m[:n].all() and not m[n:].any()
        assert t[0] == CLS and t[n - 1] == SEP
        assert (t[n:] == PAD).all() and (s[n:] == 0).all()
        seps = np.flatnonzero(t[:n] == SEP)
        assert len(seps) in (1, 2)
        assert not np.isin(t[1:n], [CLS, PAD]).any()
        a_end = seps[0] + 1
        assert (s[:a_end] == 0).all()
        if len(seps) == 2:
            assert seps[1] == n - 1 and (s[a_end:n] == 1).all()
            assert n - a_end >= 2  # B has at least one token


def test_segment_packer_exact_layout():
    rng = random.Random(0)
    packer = SegmentPacker(16, CLS, SEP, PAD, rng, short_seq_prob=0.0,
                           single_segment_prob=0.0)
    # target 16 -> first segment target (16 - 3) // 2 = 6.
    assert packer.add_sentence([10, 11, 12, 13]) == []
    assert packer.add_sentence([20, 21, 22, 23, 24]) == []
    (example,) = packer.add_sentence([30, 31, 32, 33, 34, 35, 36, 37])
    token_ids, segment_ids, padding_mask = example
    # A = first sentence (next one would cross 6 only if the coin allows);
    # whatever the split, the layout rules hold and nothing exceeds 16.
    n = int(padding_mask.sum())
    assert n == 16
    assert token_ids[0] == CLS and token_ids[-1] == SEP
    sep = np.flatnonzero(token_ids == SEP)[0]
    assert list(segment_ids[: sep + 1]) == [0] * (sep + 1)
    assert list(segment_ids[sep + 1 :]) == [1] * (16 - sep - 1)
    # Deterministic for a given rng seed.
    assert token_ids.tolist() == [2, 10, 11, 12, 13, 3, 20, 21, 22, 23, 24,
                                  30, 31, 32, 33, 3]

    single = SegmentPacker(12, CLS, SEP, PAD, random.Random(0),
                           short_seq_prob=0.0, single_segment_prob=1.0)
    single.add_sentence([7, 8, 9])
    (example,) = single.end_document()
    assert example[0].tolist() == [2, 7, 8, 9, 3, 0, 0, 0, 0, 0, 0, 0]
    assert example[1].tolist() == [0] * 12
    assert example[2].tolist() == [1] * 5 + [0] * 7
    assert single.end_document() == []


def test_segment_packer_splits_overlong_sentence():
    packer = SegmentPacker(10, CLS, SEP, PAD, random.Random(1),
                           short_seq_prob=0.0, single_segment_prob=0.0)
    examples = packer.add_sentence(list(range(100, 130)))
    examples += packer.end_document()
    kept = [t for e in examples for t in e[0] if t >= 100]
    assert len(kept) >= 15  # the original would keep 8 of 30
    for t, s, m in examples:
        assert len(t) == 10 and t[0] == CLS


def test_dataset_shapes_layout_and_determinism(tmp_path, tokenizer):
    files = [write_corpus(str(tmp_path / "a.txt"), n_docs=15, seed=1),
             write_corpus(str(tmp_path / "b.txt.gz"), n_docs=15, seed=2,
                          gz=True)]

    def run(seed):
        ds = pretraining_dataset(files, tokenizer, sequence_length=32,
                                 batch_size=8, seed=seed, shuffle_buffer=64)
        return [b for b in ds], ds.report

    batches, report = run(seed=3)
    assert len(batches) >= 3
    for b in batches:
        assert set(b) == {"token_ids", "segment_ids", "padding_mask"}
        assert b["token_ids"].shape == (8, 32)
        check_layout(b, 32)
    assert report.files == 2 and report.documents == 30
    assert report.examples // 8 == len(batches)
    assert report.blank_lines == 28  # 14 separators per file
    two_segments = sum(int((b["segment_ids"].numpy().max(1) == 1).sum())
                       for b in batches)
    assert two_segments > len(batches) * 8 * 0.5

    again, _ = run(seed=3)
    for x, y in zip(batches, again):
        np.testing.assert_array_equal(x["token_ids"], y["token_ids"])
        np.testing.assert_array_equal(x["segment_ids"], y["segment_ids"])
    other, _ = run(seed=4)
    assert not np.array_equal(batches[0]["token_ids"], other[0]["token_ids"])


def test_dataset_static_shapes_and_repeat(tmp_path, tokenizer):
    path = write_corpus(str(tmp_path / "c.txt"), n_docs=5)
    ds = pretraining_dataset(path, tokenizer, sequence_length=16,
                             batch_size=4, seed=0, repeat=True,
                             shuffle_buffer=16)
    assert ds.element_spec["token_ids"].shape == (4, 16)
    report = ds.report
    n = sum(1 for _ in ds.take(15))
    assert n == 15
    # 60 examples need more than one pass over the 5 documents.
    assert 0 < report.examples < 60 and report.documents == 5


def test_bundled_corpus_first_batch():
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "of",
             "and", ",", ".", "a", "to", "in"]
    tok = ElectraTokenizer(vocabulary=vocab)
    ds = pretraining_dataset(bundled_corpus_files(), tok, sequence_length=64,
                             batch_size=16, seed=0, shuffle_buffer=100)
    batch = next(iter(ds))
    check_layout(batch, 64)
    ids = batch["token_ids"].numpy()
    assert (ids == 5).sum() > 10  # "the" is frequent in real English


def test_bad_input_report(tmp_path, tokenizer):
    good = tmp_path / "good.txt"
    good.write_text("alpha beta .\n\n\n   \ngamma delta .\n", encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.txt").write_bytes(b"\x7fELF\x00\x01\x02" * 100)
    (tmp_path / "latin1.txt").write_bytes(
        b"alpha caf\xe9 beta .\ngamma \xff\xfe delta .\nclean eta .\n")
    (tmp_path / "long.txt").write_text(
        "alpha " * 5000 + "\nbeta .\n", encoding="utf-8")
    report = CorpusReport()
    ds = pretraining_dataset(str(tmp_path / "*.txt"), tokenizer,
                             sequence_length=16, batch_size=2, seed=0,
                             max_line_chars=600, report=report)
    batches = list(ds)
    assert batches and ds.report is report
    assert report.files == 5
    assert report.empty_files == 1
    assert [p.split("/")[-1] for p, _ in report.skipped_files] == [
        "binary.txt"]
    assert "NUL" in report.skipped_files[0][1]
    assert report.invalid_utf8_lines == 2
    assert report.cut_lines == 1
    assert report.lines == 5 + 3 + 2
    assert report.blank_lines == 3  # "", "" and "   " in good.txt
    # The cut line holds at most 600 chars = 100 "alpha " words.
    assert report.tokens <= 2 + 2 + 100 + 1 + 3 + 4 + 4 + 10
    assert "1 skipped" in report.summary()


def test_missing_files_raise(tmp_path, tokenizer):
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        pretraining_dataset(str(tmp_path / "missing.txt"), tokenizer)
    with pytest.raises(FileNotFoundError, match=r"none-\*\.txt"):
        pretraining_dataset(str(tmp_path / "none-*.txt"), tokenizer)
    (tmp_path / "bin.txt").write_bytes(b"\x00" * 10)
    with pytest.raises(ValueError, match="No usable text.*bin.txt: binary"):
        pretraining_dataset(str(tmp_path / "bin.txt"), tokenizer)


def test_streams_large_file_with_bounded_memory(tmp_path, tokenizer):
    path = tmp_path / "big.txt"
    line = ("alpha beta gamma delta epsilon zeta eta theta iota kappa . " * 4
            + "\n").encode()
    block = line * 1000 + b"\n"
    with open(path, "wb") as f:
        for _ in range(50 * 2**20 // len(block) + 1):
            f.write(block)
    assert path.stat().st_size > 50 * 2**20
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.time()
    ds = pretraining_dataset(str(path), tokenizer, sequence_length=128,
                             batch_size=32, seed=0, shuffle_buffer=256)
    n = sum(1 for _ in ds.take(20))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                - before) / 1024
    assert n == 20
    assert time.time() - start < 30
    assert grown_mb < 40, f"peak RSS grew by {grown_mb:.0f} MB"


def test_tfrecords_round_trip_and_sharding(tmp_path, tokenizer):
    files = [write_corpus(str(tmp_path / f"{i}.txt"), n_docs=12, seed=i)
             for i in range(3)]
    out = prepare_tfrecords(files, tokenizer, str(tmp_path / "shards"),
                            num_shards=4, sequence_length=32, seed=0,
                            progress=False)
    assert len(out["files"]) == 4
    total = out["examples"]
    assert total == out["report"].examples > 0
    counts = [sum(1 for _ in tf.data.TFRecordDataset(f))
              for f in out["files"]]
    assert sum(counts) == total and max(counts) - min(counts) <= 1

    ds = tfrecord_dataset(out["pattern"], batch_size=4, sequence_length=32,
                          seed=0)
    batches = list(ds)
    assert len(batches) == total // 4
    for b in batches:
        assert b["token_ids"].shape == (4, 32)
        check_layout(b, 32)

    seen = []
    for pipeline_id in range(2):
        ctx = tf.distribute.InputContext(
            num_input_pipelines=2, input_pipeline_id=pipeline_id,
            num_replicas_in_sync=2)
        worker = tfrecord_dataset(out["pattern"], batch_size=4,
                                  sequence_length=32, shuffle_buffer=0,
                                  input_context=ctx)
        # Global batch 4 over 2 replicas: 2 examples per replica batch.
        assert worker.element_spec["token_ids"].shape == (2, 32)
        rows = [tuple(r) for b in worker
                for r in b["token_ids"].numpy().tolist()]
        # This worker reads shards pipeline_id, pipeline_id + 2 only.
        assert len(rows) == sum(counts[pipeline_id::2]) // 2 * 2
        seen += rows
    all_rows = [tuple(r) for b in tfrecord_dataset(
        out["pattern"], batch_size=1, sequence_length=32, shuffle_buffer=0)
        for r in b["token_ids"].numpy().tolist()]
    assert len(all_rows) == total
    remaining = list(all_rows)
    for row in seen:  # disjoint: every row read once in all
        remaining.remove(row)
    with pytest.raises(ValueError, match="input pipelines"):
        tfrecord_dataset(out["pattern"], 4, input_context=(
            tf.distribute.InputContext(8, 0, 8)))
