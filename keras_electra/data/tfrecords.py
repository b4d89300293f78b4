"""Write packed pre-training examples to sharded TFRecords once; read them."""

import logging
import os
import random

import tensorflow as tf

from keras_electra.data import text_files
from keras_electra.data.corpus_report import CorpusReport
from keras_electra.data.pretraining_dataset import _check_tokenizer
from keras_electra.data.pretraining_dataset import packed_blocks

FEATURES = ("token_ids", "segment_ids", "padding_mask")


def _example(token_ids, segment_ids, padding_mask):
    def feature(values):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=values))

    return tf.train.Example(
        features=tf.train.Features(
            feature={
                "token_ids": feature(token_ids),
                "segment_ids": feature(segment_ids),
                "padding_mask": feature(padding_mask),
            }
        )
    )


def prepare_tfrecords(
    files,
    tokenizer,
    output_dir,
    num_shards=8,
    sequence_length=128,
    seed=0,
    short_seq_prob=0.05,
    single_segment_prob=0.1,
    max_line_chars=text_files.DEFAULT_MAX_LINE_CHARS,
    prefix="pretrain",
    progress=True,
    report=None,
):
    """Pack text files into `num_shards` TFRecord files, once.

    Same reading, repair and packing as `pretraining_dataset` (one pass, no
    shuffle across examples; file order shuffled with `seed`). Examples go
    round-robin to shards named `{prefix}-{i:05d}-of-{num_shards:05d}.tfrecord`
    so shards have equal sizes (within one) and a multi-worker job can split
    them by file. Each `tf.train.Example` holds int64 features `token_ids`,
    `segment_ids` and `padding_mask` of length `sequence_length`.

    Args:
        files: str or list of str. Files, folders or glob patterns.
        tokenizer: `ElectraTokenizer`.
        output_dir: str. Created if missing.
        num_shards: int. Defaults to `8`.
        sequence_length: int. Defaults to `128`.
        seed: int. Defaults to `0`.
        short_seq_prob: float. See `pretraining_dataset`.
        single_segment_prob: float. See `pretraining_dataset`.
        max_line_chars: int. Longer lines are cut (and counted).
        prefix: str. Shard file name prefix.
        progress: bool. Show a progress bar (examples written).
        report: `CorpusReport` or None. Filled with the counts.

    Returns:
        Dict with `"files"` (shard paths), `"examples"` (int), `"pattern"`
        (a glob for `tfrecord_dataset`) and `"report"` (`CorpusReport`).

    Example:
    ```python
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "of", "."]
    tokenizer = ElectraTokenizer(vocab)
    out = prepare_tfrecords(bundled_corpus_files()[:1], tokenizer,
                            "/tmp/shards", num_shards=4)
    ds = tfrecord_dataset(out["pattern"], batch_size=32)
    ```
    """
    _check_tokenizer(tokenizer)
    if num_shards < 1:
        raise ValueError(f"`num_shards` must be >= 1. Received: {num_shards}")
    report = report if report is not None else CorpusReport()
    paths, report = text_files.readable_files(files, report)
    if not paths:
        raise text_files.no_usable_text_error(files, tokenizer)
    rng = random.Random(seed)
    rng.shuffle(paths)
    os.makedirs(output_dir, exist_ok=True)
    shard_paths = [
        os.path.join(
            output_dir, f"{prefix}-{i:05d}-of-{num_shards:05d}.tfrecord"
        )
        for i in range(num_shards)
    ]
    writers = [tf.io.TFRecordWriter(p) for p in shard_paths]
    bar = text_files.Progress("tfrecords", " examples", enabled=progress)
    written = 0
    try:
        for block in packed_blocks(
            paths,
            tokenizer,
            sequence_length,
            rng,
            report,
            short_seq_prob=short_seq_prob,
            single_segment_prob=single_segment_prob,
            max_line_chars=max_line_chars,
        ):
            for token_ids, segment_ids, padding_mask in zip(
                *(array.tolist() for array in block)
            ):
                example = _example(token_ids, segment_ids, padding_mask)
                writers[written % num_shards].write(
                    example.SerializeToString()
                )
                written += 1
            bar.update(len(block[0]))
    finally:
        for writer in writers:
            writer.close()
        bar.close()
    if written == 0:
        for path in shard_paths:
            os.remove(path)
        raise text_files.no_usable_text_error(files, tokenizer)
    report.log()
    if written < num_shards:
        logging.getLogger("keras_electra.data").warning(
            "Only %d examples for %d shards: %d shard files are empty (a "
            "multi-worker job needs at least one example per worker).",
            written, num_shards, num_shards - written,
        )
    return {
        "files": shard_paths,
        "examples": written,
        "pattern": os.path.join(output_dir, f"{prefix}-*-of-*.tfrecord"),
        "report": report,
    }


def _check_shards(files, pattern, sequence_length):
    """Fail fast on shards with no example or another sequence length.

    A repeating reader over empty shards loops forever; a length mismatch
    would fail inside the training step without a file name.
    """
    for path in files:
        try:
            record = next(iter(tf.data.TFRecordDataset(path).take(1)), None)
        except tf.errors.OpError as e:
            raise ValueError(
                f"Cannot read the TFRecord shard '{path}': {e.message}"
            ) from None
        if record is None:
            continue
        example = tf.train.Example.FromString(record.numpy())
        found = len(example.features.feature["token_ids"].int64_list.value)
        if found != sequence_length:
            raise ValueError(
                f"The shard '{path}' holds examples of {found} tokens, but "
                f"sequence_length={sequence_length}: read it with "
                f"--sequence-length {found} or prepare the shards again."
            )
        return
    raise ValueError(
        f"The TFRecord shards {files} (pattern {pattern!r}) hold no example. "
        "Prepare them again from text that packs into examples "
        "(`keras-electra prepare`)."
    )


def tfrecord_dataset(
    pattern,
    batch_size,
    sequence_length=128,
    seed=None,
    shuffle_buffer=10000,
    repeat=False,
    input_context=None,
    cycle_length=4,
):
    """Read shards written by `prepare_tfrecords` into static-shape batches.

    For multi-worker training pass the `tf.distribute.InputContext` (as given
    to `strategy.distribute_datasets_from_function`): the shard files are
    split by `input_pipeline_id` (each worker reads
    `num_input_pipelines`-th of the files, no example twice) and
    `batch_size` (the global batch) becomes the per-replica batch.

    Args:
        pattern: str or list of str. Glob(s) or paths of the shards.
        batch_size: int. Global batch size (per-replica if no context).
        sequence_length: int. Must match the shards. Defaults to `128`.
        seed: int or None. File and example shuffle seed.
        shuffle_buffer: int. Examples in the shuffle buffer; 0 disables.
        repeat: bool. Defaults to `False`.
        input_context: `tf.distribute.InputContext` or None.
        cycle_length: int. Shards read in parallel.

    Returns:
        `tf.data.Dataset` of dicts of int32 `[batch, sequence_length]`.

    Example:
    ```python
    strategy = tf.distribute.MirroredStrategy()
    ds = strategy.distribute_datasets_from_function(
        lambda ctx: tfrecord_dataset("/tmp/shards/*.tfrecord", 32,
                                     input_context=ctx))
    ```
    """
    files = text_files.resolve_files(pattern)
    if input_context is not None:
        n = input_context.num_input_pipelines
        if len(files) < n:
            raise ValueError(
                f"{len(files)} shard files for {n} input pipelines: write at "
                f"least {n} shards (num_shards). Pattern: {pattern!r}"
            )
        files = files[input_context.input_pipeline_id :: n]
        batch_size = input_context.get_per_replica_batch_size(batch_size)
    _check_shards(files, pattern, sequence_length)
    ds = tf.data.Dataset.from_tensor_slices(files)
    if shuffle_buffer:
        # Not reshuffled per iterator: every iterator Keras opens (one more
        # under MirroredStrategy) reads the same order. Each pass over the
        # repeated files then keeps this order; the record buffer below
        # mixes across passes.
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=False)
    if repeat:
        ds = ds.repeat()
    ds = ds.interleave(
        tf.data.TFRecordDataset,
        cycle_length=min(cycle_length, len(files)),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    spec = {
        name: tf.io.FixedLenFeature([sequence_length], tf.int64)
        for name in FEATURES
    }

    def parse(records):
        parsed = tf.io.parse_example(records, spec)
        return {k: tf.cast(v, tf.int32) for k, v in parsed.items()}

    if shuffle_buffer:
        ds = ds.shuffle(shuffle_buffer, seed=seed,
                        reshuffle_each_iteration=False)
    ds = ds.batch(batch_size, drop_remainder=True)
    ds = ds.map(parse, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
