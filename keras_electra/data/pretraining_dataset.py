"""Streaming pre-training data: text files -> packed `[CLS] A [SEP] B [SEP]`."""

import copy
import random

import numpy as np
import tensorflow as tf

from keras_electra.data import text_files
from keras_electra.data.corpus_report import CorpusReport

BLOCK_SIZE = 256  # packed examples handed from Python to tf.data at a time


class SegmentPacker:
    """Packs tokenized sentences into fixed-length two-segment examples.

    Follows the example builder of the original ELECTRA
    (google-research/electra `build_pretraining_dataset.py`): sentences (lines)
    accumulate until they reach a target length (or the document ends); then
    with probability `single_segment_prob` everything goes to segment A, else
    segment A takes sentences up to about half the target length (a sentence
    that crosses that point goes to A with probability 0.5) and B the rest;
    A is cut to `sequence_length - 2` tokens and B to what is left after the
    three special tokens. After each example the next target length is
    `sequence_length`, or with probability `short_seq_prob` a uniform random
    length in `[5, sequence_length]`.

    One difference, to lose less text: a sentence longer than
    `sequence_length - 3` tokens is first split into pieces of
    `(sequence_length - 3) // 2` tokens (the original keeps it whole and
    throws the overflow away when cutting A and B).

    Layout: `token_ids = [CLS] A [SEP] B [SEP] [PAD]...`, `segment_ids` 0 on
    `[CLS] A [SEP]`, 1 on `B [SEP]`, 0 on padding; `padding_mask` 1 on real
    tokens. Without B: `[CLS] A [SEP] [PAD]...`.
    """

    def __init__(
        self,
        sequence_length,
        cls_id,
        sep_id,
        pad_id,
        rng,
        short_seq_prob=0.05,
        single_segment_prob=0.1,
    ):
        if sequence_length < 5:
            raise ValueError(
                f"`sequence_length` must be at least 5. Received: "
                f"{sequence_length}"
            )
        self.sequence_length = sequence_length
        self.cls_id, self.sep_id, self.pad_id = cls_id, sep_id, pad_id
        self.rng = rng
        self.short_seq_prob = short_seq_prob
        self.single_segment_prob = single_segment_prob
        self.max_piece = max(1, (sequence_length - 3) // 2)
        self._sentences = []
        self._length = 0
        self._target = sequence_length

    def add_sentence(self, ids):
        """Add one sentence (list of ids); return a list of examples made."""
        out = []
        if len(ids) > self.sequence_length - 3:
            pieces = [
                ids[i : i + self.max_piece]
                for i in range(0, len(ids), self.max_piece)
            ]
        else:
            pieces = [ids]
        for piece in pieces:
            self._sentences.append(piece)
            self._length += len(piece)
            if self._length >= self._target:
                out.append(self._create())
        return out

    def end_document(self):
        """End the current document; return a list of 0 or 1 examples."""
        if self._length == 0:
            self._sentences = []
            return []
        return [self._create()]

    def _create(self):
        rng = self.rng
        if rng.random() < self.single_segment_prob:
            first_target = float("inf")
        else:
            first_target = (self._target - 3) // 2
        first, second = [], []
        for sentence in self._sentences:
            if (
                not first
                or len(first) + len(sentence) < first_target
                or (
                    not second
                    and len(first) < first_target
                    and rng.random() < 0.5
                )
            ):
                first.extend(sentence)
            else:
                second.extend(sentence)
        n = self.sequence_length
        first = first[: n - 2]
        second = second[: max(0, n - len(first) - 3)]
        self._sentences = []
        self._length = 0
        if rng.random() < self.short_seq_prob:
            self._target = rng.randint(5, n)
        else:
            self._target = n
        return self._layout(first, second)

    def _layout(self, first, second):
        n = self.sequence_length
        token_ids = np.full([n], self.pad_id, np.int32)
        segment_ids = np.zeros([n], np.int32)
        padding_mask = np.zeros([n], np.int32)
        a_end = len(first) + 2
        token_ids[0] = self.cls_id
        token_ids[1 : a_end - 1] = first
        token_ids[a_end - 1] = self.sep_id
        end = a_end
        if second:
            end = a_end + len(second) + 1
            token_ids[a_end : end - 1] = second
            token_ids[end - 1] = self.sep_id
            segment_ids[a_end:end] = 1
        padding_mask[:end] = 1
        return token_ids, segment_ids, padding_mask


def _check_tokenizer(tokenizer):
    if getattr(tokenizer, "sequence_length", None):
        raise ValueError(
            "The tokenizer must return ragged (unpadded) ids: create it with "
            f"`sequence_length=None`. Received: sequence_length="
            f"{tokenizer.sequence_length}"
        )
    for name in ("cls_token_id", "sep_token_id", "pad_token_id"):
        if getattr(tokenizer, name, None) is None:
            raise ValueError(
                f"The tokenizer has no `{name}`; use `ElectraTokenizer`. "
                f"Received: {type(tokenizer).__name__}"
            )


def tokenized_lines(paths, tokenizer, max_line_chars, lines_per_batch=512):
    """`tf.data` of `(ids.values, ids.row_splits, blank, counts)` per batch.

    Lines are read in file order, repaired (see `text_files.clean_lines`) and
    tokenized in parallel, order kept. An empty line marks every file end.
    """

    def tokenize(lines):
        lines, counts = text_files.clean_lines(lines, max_line_chars)
        ids = tokenizer.tokenize(lines)
        return (
            tf.cast(ids.flat_values, tf.int32),
            tf.cast(ids.row_splits, tf.int64),
            tf.equal(lines, ""),
            counts,
        )

    return (
        text_files.line_dataset(paths, document_breaks=True)
        .batch(lines_per_batch)
        .map(
            tokenize,
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
        .prefetch(tf.data.AUTOTUNE)
    )


def packed_blocks(
    paths,
    tokenizer,
    sequence_length,
    rng,
    report,
    short_seq_prob=0.05,
    single_segment_prob=0.1,
    max_line_chars=text_files.DEFAULT_MAX_LINE_CHARS,
    block_size=BLOCK_SIZE,
    data=None,
):
    """Yield blocks `(token_ids, segment_ids, padding_mask)`, `[<=block, L]`.

    One pass over `paths` in the given order. Streams: memory holds one batch
    of lines and one block of examples. `data` may pass a ready
    `tokenized_lines(paths, ...)` dataset (saves re-tracing each epoch).
    """
    packer = SegmentPacker(
        sequence_length,
        tokenizer.cls_token_id,
        tokenizer.sep_token_id,
        tokenizer.pad_token_id,
        rng,
        short_seq_prob=short_seq_prob,
        single_segment_prob=single_segment_prob,
    )
    block = []
    in_document = False
    if data is None:
        data = tokenized_lines(paths, tokenizer, max_line_chars)
    for values, splits, blank, counts in data.as_numpy_iterator():
        text_files.add_counts(report, counts)
        values = values.tolist()
        splits = splits.tolist()
        report.tokens += len(values)
        for i, is_blank in enumerate(blank.tolist()):
            start, end = splits[i], splits[i + 1]
            if is_blank:
                if in_document:
                    report.documents += 1
                    in_document = False
                block.extend(packer.end_document())
            elif end > start:
                in_document = True
                block.extend(packer.add_sentence(values[start:end]))
        if len(block) >= block_size:
            report.examples += len(block)
            yield tuple(np.stack(x) for x in zip(*block))
            block = []
    # The appended end-of-file markers are not lines of the corpus.
    report.lines -= len(paths)
    report.blank_lines -= len(paths)
    if block:
        report.examples += len(block)
        yield tuple(np.stack(x) for x in zip(*block))


def _scan(files, paths, tokenizer, sequence_length, batch_size, repeat,
          report, options):
    """Pack the corpus until one batch of examples; log what was seen.

    Returns whether the scan covered the whole corpus (then `report` is
    complete and logged); raises if the corpus gives no example, or fewer
    than one batch when the dataset does not repeat.
    """
    seen = copy.deepcopy(report)
    examples = 0
    complete = True
    blocks = packed_blocks(
        paths, tokenizer, sequence_length, random.Random(0), seen,
        block_size=1, **options,
    )
    for block in blocks:
        examples += len(block[0])
        if examples >= batch_size:
            complete = False
            break
    blocks.close()
    if examples == 0:
        raise text_files.no_usable_text_error(files, tokenizer)
    if complete:
        report.__dict__.update(seen.__dict__)
        report.log()
        if examples < batch_size and not repeat:
            raise ValueError(
                f"The corpus packs into {examples} examples of "
                f"{sequence_length} tokens, fewer than one batch of "
                f"{batch_size} (the last partial batch is dropped, so "
                "nothing would be trained). Use a smaller batch_size, more "
                "text, or repeat=True."
            )
    else:
        seen.log(prefix=f"first {seen.lines} lines")
    return complete


def pretraining_dataset(
    files,
    tokenizer,
    sequence_length=128,
    batch_size=128,
    seed=None,
    short_seq_prob=0.05,
    single_segment_prob=0.1,
    shuffle_buffer=10000,
    shuffle_files=True,
    repeat=False,
    max_line_chars=text_files.DEFAULT_MAX_LINE_CHARS,
    report=None,
):
    """Stream raw text into batches of packed ELECTRA pre-training inputs.

    Files (`.txt` or `.txt.gz`; documents separated by blank lines, one
    sentence or paragraph a line) are read line by line with `tf.data`,
    repaired, tokenized with tf-text in parallel, and packed by a streaming
    Python step (`SegmentPacker`, the rules of the original ELECTRA data
    builder) into `[CLS] A [SEP] B [SEP]` examples of exactly
    `sequence_length` tokens. Memory stays bounded by the shuffle buffer,
    whatever the corpus size. Masking is left to the model.

    Deterministic given `seed`: the file order, the packing choices and the
    example shuffle all derive from it.

    Args:
        files: str or list of str. Files, folders or glob patterns.
        tokenizer: `ElectraTokenizer` (with `sequence_length=None`).
        sequence_length: int. Tokens per example. Defaults to `128`.
        batch_size: int. Examples per batch (the last partial batch is
            dropped, so shapes are static). Defaults to `128`.
        seed: int or None. Defaults to `None` (not reproducible).
        short_seq_prob: float. Probability that an example targets a random
            length in `[5, sequence_length]` (the original's 0.05).
        single_segment_prob: float. Probability that an example has segment
            A only (the original's 0.1).
        shuffle_buffer: int. Examples in the shuffle buffer; 0 or None
            disables shuffling. Defaults to `10000`.
        shuffle_files: bool. Shuffle the file order each epoch (with `seed`).
        repeat: bool. Loop over the files forever (a new file order and new
            packing each epoch). Defaults to `False`.
        max_line_chars: int. Longer lines are cut (and counted).
        report: `CorpusReport` or None. Filled with counts as the data
            streams; logged once at the end of the first pass. Also reachable
            as `dataset.report`. Before that, when the dataset is made, the
            corpus is packed until one batch of examples and a report of
            those first lines is logged (the file counts, skipped files
            included, are complete there).

    Returns:
        A `tf.data.Dataset` of dicts `{"token_ids", "segment_ids",
        "padding_mask"}`, each int32 `[batch_size, sequence_length]`.

    Raises:
        FileNotFoundError: a path is missing or a glob matches nothing.
        ValueError: the files pack into no example (the message names
            each file and why: empty, binary, corrupt or truncated gzip,
            only blank lines), or, without `repeat`, into fewer than one
            batch.

    Example:
    ```python
    from keras_electra.data import (
        ElectraTokenizer, bundled_corpus_files, pretraining_dataset)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "of", "."]
    tokenizer = ElectraTokenizer(vocabulary=vocab)  # or "path/vocab.txt"
    ds = pretraining_dataset(bundled_corpus_files(), tokenizer,
                             sequence_length=128, batch_size=32, seed=0)
    batch = next(iter(ds))  # batch["token_ids"].shape == (32, 128)
    ```
    """
    _check_tokenizer(tokenizer)
    report = report if report is not None else CorpusReport()
    paths, report = text_files.readable_files(files, report)
    if not paths:
        raise text_files.no_usable_text_error(files, tokenizer)
    options = dict(
        short_seq_prob=short_seq_prob,
        single_segment_prob=single_segment_prob,
        max_line_chars=max_line_chars,
    )
    # A bounded scan before any training: the corpus report is printed up
    # front, and a corpus that packs into no example is an error here
    # instead of a generator that loops forever.
    complete = _scan(
        files, paths, tokenizer, sequence_length, batch_size, repeat,
        report, options,
    )

    def generate():
        rng = random.Random(seed)
        epoch = 0
        last = (None, None)  # (file order, its tokenized_lines dataset)
        while True:
            order = list(paths)
            if shuffle_files:
                rng.shuffle(order)
            if last[0] != order:
                last = (order, tokenized_lines(
                    order, tokenizer, max_line_chars))
            first = epoch == 0 and not complete
            yield from packed_blocks(
                order, tokenizer, sequence_length, rng,
                report if first else CorpusReport(), data=last[1],
                **options,
            )
            if first:
                report.log()
            epoch += 1
            if not repeat:
                return

    spec = tf.TensorSpec([None, sequence_length], tf.int32)
    ds = tf.data.Dataset.from_generator(
        generate, output_signature=(spec, spec, spec)
    )
    ds = ds.unbatch().map(
        lambda t, s, p: {"token_ids": t, "segment_ids": s, "padding_mask": p}
    )
    if shuffle_buffer:
        # One order per dataset object, however many iterators Keras
        # opens on it (MirroredStrategy opens one more than one device
        # does; a reshuffled second iterator fed it other batches). The
        # stream is endless within one iterator, so nothing repeats.
        ds = ds.shuffle(shuffle_buffer, seed=seed,
                        reshuffle_each_iteration=False)
    ds = ds.batch(batch_size, drop_remainder=True)
    ds = ds.prefetch(tf.data.AUTOTUNE)
    try:
        ds.report = report
    except AttributeError:  # pragma: no cover
        pass
    return ds
