"""Tokens/s of the keras_electra data pipeline vs Hugging Face tokenizers.

Same vocab.txt, same files (the bundled corpus), same run. Measures:
1. keras_electra tokenizer in tf.data (read .gz, repair, tokenize; no packing),
2. the full `pretraining_dataset` (packed, shuffled, batched),
3. `tokenizers.BertWordPieceTokenizer.encode_batch` on the same lines
   (reading the .gz in Python included, as in 1.).

Usage:
    KERAS_BACKEND=tensorflow python benchmarks/data_throughput.py \
        [--vocab vocab.txt] [--repeats 3] [--write benchmarks/RESULTS_data.md]
"""

import argparse
import gzip
import os
import platform
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

from keras_electra.data import ElectraTokenizer  # noqa: E402
from keras_electra.data import bundled_corpus_files  # noqa: E402
from keras_electra.data import pretraining_dataset  # noqa: E402
from keras_electra.data import train_vocabulary  # noqa: E402
from keras_electra.data.pretraining_dataset import tokenized_lines  # noqa

# ELECTRA-small pre-training on this 2-core CPU consumes roughly this many
# token positions per second (batch x 128 / step time); see the brief.
TRAINING_TOKENS_PER_SECOND = 3000


def best_of(repeats, fn):
    results = [fn() for _ in range(repeats)]
    return max(results, key=lambda r: r[0] / r[1])


def bench_tf_tokenizer(files, tokenizer):
    data = tokenized_lines(files, tokenizer, max_line_chars=20000,
                           lines_per_batch=1024)
    start = time.perf_counter()
    tokens = 0
    for values, _, _, _ in data:
        tokens += int(values.shape[0])
    return tokens, time.perf_counter() - start


def bench_pipeline(files, tokenizer, sequence_length=128, batch_size=128):
    ds = pretraining_dataset(files, tokenizer, sequence_length=sequence_length,
                             batch_size=batch_size, seed=0,
                             shuffle_buffer=2000)
    start = time.perf_counter()
    real = positions = 0
    for batch in ds:
        real += int(tf.reduce_sum(batch["padding_mask"]))
        positions += int(tf.size(batch["token_ids"]))
    return real, time.perf_counter() - start, positions


def read_lines(files):
    lines = []
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
            lines.extend(line.strip() for line in f)
    return [line for line in lines if line]


def bench_hf(files, vocab_path, batch=1024, preread=None):
    from tokenizers import BertWordPieceTokenizer

    hf = BertWordPieceTokenizer(vocab_path, lowercase=True,
                                strip_accents=True, clean_text=True,
                                handle_chinese_chars=True)
    start = time.perf_counter()
    lines = preread if preread is not None else read_lines(files)
    tokens = 0
    for i in range(0, len(lines), batch):
        encodings = hf.encode_batch(lines[i:i + batch],
                                    add_special_tokens=False)
        tokens += sum(len(e.ids) for e in encodings)
    return tokens, time.perf_counter() - start


def hf_version():
    import tokenizers

    return tokenizers.__version__


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vocab", default=None,
                        help="vocab.txt (default: train 8k on the corpus)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write", default=None,
                        help="append a results table to this Markdown file")
    args = parser.parse_args(argv)

    files = bundled_corpus_files()
    vocab = args.vocab
    if vocab is None:
        vocab = os.path.join(tempfile.gettempdir(),
                             "keras_electra_bench_vocab.txt")
        if not os.path.exists(vocab):
            print("training an 8k vocabulary on the bundled corpus ...")
            train_vocabulary(files, vocabulary_size=8000, output_file=vocab)
    tokenizer = ElectraTokenizer(vocabulary=vocab)
    print(f"vocabulary: {vocab} ({tokenizer.vocabulary_size()} tokens)")

    # Warm up (tracing, file cache).
    bench_tf_tokenizer(files, tokenizer)
    bench_hf(files, vocab)

    tf_tokens, tf_time = best_of(args.repeats,
                                 lambda: bench_tf_tokenizer(files, tokenizer))
    hf_tokens, hf_time = best_of(args.repeats, lambda: bench_hf(files, vocab))
    lines_in_memory = read_lines(files)
    hf2_tokens, hf2_time = best_of(
        args.repeats,
        lambda: bench_hf(files, vocab, preread=lines_in_memory))
    real, p_time, positions = best_of(
        args.repeats, lambda: bench_pipeline(files, tokenizer))

    rows = [
        ("keras_electra tokenizer (tf.data + tf-text, read+repair+tokenize)",
         tf_tokens, tf_time),
        ("HF tokenizers BertWordPieceTokenizer.encode_batch (read+tokenize)",
         hf_tokens, hf_time),
        ("HF tokenizers encode_batch only (lines already in memory)",
         hf2_tokens, hf2_time),
        ("keras_electra pretraining_dataset, real tokens (packed, batched)",
         real, p_time),
        ("keras_electra pretraining_dataset, token positions incl. padding",
         positions, p_time),
    ]
    lines = ["| pipeline | tokens | seconds | tokens/s |",
             "|---|---:|---:|---:|"]
    for name, tokens, seconds in rows:
        lines.append(f"| {name} | {tokens:,} | {seconds:.2f} | "
                     f"{tokens / seconds:,.0f} |")
    ratio_hf = (tf_tokens / tf_time) / (hf_tokens / hf_time)
    ratio_train = (positions / p_time) / TRAINING_TOKENS_PER_SECOND
    summary = [
        "",
        f"- token count agreement (ours / HF): {tf_tokens / hf_tokens:.4f}",
        f"- tokenizer speed, ours / HF tokenizers: {ratio_hf:.2f}x",
        f"- packed pipeline vs assumed training consumption "
        f"({TRAINING_TOKENS_PER_SECOND:,} token positions/s for ELECTRA-small"
        f" on this CPU): {ratio_train:.0f}x",
        f"- machine: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"TensorFlow {tf.__version__}, tokenizers {hf_version()}; best of "
        f"{args.repeats} runs; load average at the end "
        f"{os.getloadavg()[0]:.1f} (other jobs share the CPUs)",
    ]
    text = "\n".join(lines + summary)
    print(text)
    if args.write:
        with open(args.write, "a", encoding="utf-8") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
