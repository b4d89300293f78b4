"""Size and CPU latency of exported ELECTRA-Small, and int8 accuracy.

Part 1 (latency): an ELECTRA-Small classifier (12 layers, hidden 256,
embeddings 128, 30,522-token vocabulary, 2 classes) with RANDOM weights
(latency does not depend on the values) at sequence length 128, batch 1,
with 1 and 2 threads: Keras (TF backend, compiled `predict_on_batch`), the
reloaded SavedModel signature, LiteRT float32 / float16 / dynamic int8 /
full int8, and ONNX Runtime on a tf2onnx conversion of the SavedModel's
token-id signature (`pip install -e ".[onnx]"`; without it the row says
so). tf2onnx passes TensorFlow's `Erfc` (from the exact GELU) through
unconverted and ONNX has no such operator, so the graph is patched to
`1 - Erf(x)` (`replace_erfc`) before onnxruntime loads it.

Part 2 (accuracy, `--accuracy`): a 4-layer, 128-wide classifier trained
from scratch for a few epochs on Rotten Tomatoes (`keras_electra.data.
load_rotten_tomatoes`), exported in every LiteRT variant and scored on the
held-out test split: accuracy and agreement with the float32 Keras model.

Run:
    KERAS_BACKEND=tensorflow python benchmarks/export_latency.py --accuracy \\
        --results benchmarks/RESULTS_export.md
"""

import argparse
import collections
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

SEQUENCE_LENGTH = 128
LATEST = " (XNNPACK latest features)"
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
SUFFIXES = ["s", "ed", "ing", "ly", "er", "es", "y", "e", "n", "t", "d"]


def build_vocabulary(texts, size):
    """Specials, characters, `##` characters and suffixes, frequent words."""
    from keras_electra.export import SimpleTokenizer

    splitter = SimpleTokenizer(SPECIALS)
    counts = collections.Counter()
    for text in texts:
        counts.update(splitter.split_words(text))
    chars = sorted({c for word in counts for c in word})
    vocab = list(SPECIALS) + chars + ["##" + c for c in chars]
    vocab += ["##" + s for s in SUFFIXES if "##" + s not in vocab]
    seen = set(vocab)
    for word, _ in counts.most_common():
        if len(vocab) >= size:
            break
        if word not in seen:
            vocab.append(word)
            seen.add(word)
    while len(vocab) < size:  # pad to the model's vocabulary size
        vocab.append(f"[unused{len(vocab)}]")
    return vocab


def corpus_texts(limit):
    import gzip

    from keras_electra.data import bundled_corpus_files

    texts = []
    for path in bundled_corpus_files():
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                if len(line.strip()) > 20:
                    texts.append(line.strip())
                if len(texts) >= limit:
                    return texts
    return texts


def timed(fn, warmup, runs):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), float(np.percentile(times, 90))


def timed_interleaved(functions, warmup, runs):
    """`timed` for several callables, run round-robin.

    On a shared machine a burst of load then hits every contender alike,
    so their ratios stay meaningful.
    """
    for fn in functions.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in functions}
    for _ in range(runs):
        for name, fn in functions.items():
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1000)
    return {
        name: (statistics.median(t), float(np.percentile(t, 90)))
        for name, t in times.items()
    }


def dir_bytes(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(
        os.path.getsize(os.path.join(root, f))
        for root, _, files in os.walk(path)
        for f in files
    )


# --- TensorFlow worker: Keras and SavedModel at a fixed thread count -------
def tf_worker(args):
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads[0])
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras_electra.optimizers.layerwise_decay  # noqa: F401
    from keras_electra.export import load_saved_model
    from keras_electra.models import ElectraClassifier

    x = dict(np.load(os.path.join(args.work_dir, "inputs.npz")))
    model = ElectraClassifier.from_preset(os.path.join(args.work_dir, "preset"))
    results = {}
    results["Keras (TF backend, predict_on_batch)"] = timed(
        lambda: model.predict_on_batch(x), args.warmup, args.runs
    )
    served = load_saved_model(os.path.join(args.work_dir, "serving", "1"))
    function = served.signatures["serving_token_ids"]
    feed = {k: tf.constant(v) for k, v in x.items()}
    results["SavedModel (serving_token_ids)"] = timed(
        lambda: function(**feed), args.warmup, args.runs
    )
    text_fn = served.signatures["serving_default"]
    text = tf.constant([args.sentence])
    results["SavedModel (serving_default, text in)"] = timed(
        lambda: text_fn(text=text), args.warmup, args.runs
    )
    print("RESULTS " + json.dumps(results))


def run_tf_worker(args, threads):
    command = [
        sys.executable, os.path.abspath(__file__), "--tf-worker",
        "--threads", str(threads), "--work-dir", args.work_dir,
        "--warmup", str(args.warmup), "--runs", str(args.runs),
        "--sentence", args.sentence,
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    for line in result.stdout.splitlines():
        if line.startswith("RESULTS "):
            return json.loads(line[len("RESULTS "):])
    raise RuntimeError(result.stderr[-3000:])


def convert_onnx(args, onnx_path):
    """tf2onnx on the SavedModel's token-id signature; (ok, message)."""
    script = (
        "import sys, tensorflow_text\n"
        "from tf2onnx import convert\n"
        "sys.argv = ['tf2onnx'] + sys.argv[1:]\n"
        "convert.main()\n"
    )
    command = [
        sys.executable, "-c", script,
        "--saved-model", os.path.join(args.work_dir, "serving", "1"),
        "--signature_def", "serving_token_ids", "--tag", "serve",
        "--opset", "17", "--output", onnx_path,
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0 or not os.path.exists(onnx_path):
        lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
        return False, " / ".join(lines[-3:])
    replaced = replace_erfc(onnx_path)
    return True, (
        "tf2onnx " + _version("tf2onnx") + ", opset 17"
        + (f"; {replaced} Erfc -> 1 - Erf" if replaced else "")
    )


def replace_erfc(onnx_path):
    """Rewrite TF's `Erfc(x)` nodes as `1 - Erf(x)`; returns how many.

    The exact GELU, `0.5 x erfc(-x / sqrt(2))`, lowers to TensorFlow's
    `Erfc`, which tf2onnx copies into the graph as is; ONNX has no `Erfc`
    operator (only `Erf`), so onnxruntime rejects the model. `erfc(x) =
    1 - erf(x)` exactly, so the rewrite keeps the model's numbers.
    """
    import numpy as np
    import onnx
    from onnx import helper
    from onnx import numpy_helper

    model = onnx.load(onnx_path)
    graph = model.graph
    nodes, count = [], 0
    one = "erfc_rewrite_one"
    for node in graph.node:
        if node.op_type != "Erfc":
            nodes.append(node)
            continue
        count += 1
        erf = f"{node.name}_erf"
        nodes.append(helper.make_node("Erf", [node.input[0]], [erf],
                                      name=erf))
        nodes.append(helper.make_node("Sub", [one, erf], [node.output[0]],
                                      name=f"{node.name}_one_minus"))
    if count:
        graph.initializer.append(
            numpy_helper.from_array(np.array(1.0, np.float32), one)
        )
        del graph.node[:]
        graph.node.extend(nodes)
        onnx.checker.check_model(model)
        onnx.save(model, onnx_path)
    return count


def _version(package):
    import importlib.metadata

    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def latency(args):
    import keras

    from keras_electra.data import ElectraClassifierPreprocessor
    from keras_electra.data import ElectraTokenizer
    from keras_electra.export import TFLiteRunner
    from keras_electra.export import export_saved_model
    from keras_electra.export import export_tflite
    from keras_electra.export import list_tflite_ops
    from keras_electra.models import ElectraClassifier

    keras.utils.set_random_seed(0)
    model = ElectraClassifier.from_preset(
        "electra_small", num_classes=2, dropout=0.0
    )
    vocab_size = model.backbone.vocabulary_size
    texts = corpus_texts(400)
    vocabulary = build_vocabulary(texts, vocab_size)
    tokenizer = ElectraTokenizer(vocabulary)
    preprocessor = ElectraClassifierPreprocessor(
        tokenizer, sequence_length=SEQUENCE_LENGTH
    )
    calibration = {
        k: np.asarray(v) for k, v in preprocessor(texts[:args.calibration]).items()
    }
    x = {k: np.asarray(v) for k, v in preprocessor([args.sentence]).items()}
    np.savez(os.path.join(args.work_dir, "inputs.npz"), **x)
    model.save_to_preset(os.path.join(args.work_dir, "preset"))
    reference = np.asarray(model.predict_on_batch(x))

    rows = collections.OrderedDict()
    start = time.time()
    saved = export_saved_model(
        model, os.path.join(args.work_dir, "serving"), tokenizer,
        sequence_length=SEQUENCE_LENGTH,
    )
    print(f"SavedModel exported in {time.time() - start:.0f}s", flush=True)
    sizes = {
        "Keras (TF backend, predict_on_batch)": dir_bytes(
            os.path.join(args.work_dir, "preset", "model.weights.h5")
        ),
        "SavedModel (serving_token_ids)": dir_bytes(saved),
        "SavedModel (serving_default, text in)": dir_bytes(saved),
    }
    notes = {}
    tflite = {}
    for quantization in (None, "float16", "dynamic_int8", "full_int8"):
        name = f"LiteRT {quantization or 'float32'}"
        path = os.path.join(args.work_dir, f"electra_small_{quantization or 'float32'}.tflite")
        start = time.time()
        export_tflite(
            model, path, quantization=quantization,
            representative_data=calibration, sequence_length=SEQUENCE_LENGTH,
            tokenizer=tokenizer,
        )
        print(f"{name} exported in {time.time() - start:.0f}s", flush=True)
        ops = list_tflite_ops(path)
        assert not any(op.startswith("Flex") for op in ops), ops
        tflite[name] = path
        sizes[name] = dir_bytes(path)
        out = TFLiteRunner(path).predict(x)["logits"]
        notes[name] = f"max abs logit diff vs Keras {np.abs(out - reference).max():.1e}"
    onnx_path = os.path.join(args.work_dir, "electra_small.onnx")
    onnx_ok, onnx_message = convert_onnx(args, onnx_path)
    print(f"ONNX: {onnx_ok} {onnx_message}", flush=True)
    if onnx_ok:
        sizes["ONNX Runtime (tf2onnx)"] = dir_bytes(onnx_path)

    for threads in args.threads:
        try:
            worker = run_tf_worker(args, threads)
        except RuntimeError as error:
            print(f"TF worker failed: {error}", flush=True)
            worker = {}
        for name, value in worker.items():
            rows.setdefault(name, {})[threads] = value
        # The interpreter's default XNNPACK delegate, then the same with its
        # newest kernels (dynamically quantized int8 GEMMs); all LiteRT
        # variants are timed round-robin.
        functions = {}
        for name, path in tflite.items():
            for latest in (False, True):
                runner = TFLiteRunner(
                    path, num_threads=threads, latest_features=latest
                )
                row = name + (LATEST if latest else "")
                functions[row] = (lambda r: lambda: r(x))(runner)
                sizes[row] = sizes[name]
        for row, value in timed_interleaved(
            functions, args.warmup, args.runs
        ).items():
            rows.setdefault(row, {})[threads] = value
        if onnx_ok:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            try:
                session = ort.InferenceSession(
                    onnx_path, options, providers=["CPUExecutionProvider"]
                )
            except Exception as error:  # converted, but not loadable
                onnx_ok = False
                onnx_message = (f"tf2onnx converted, onnxruntime cannot load "
                                f"it: {str(error)[-300:]}")
                sizes.pop("ONNX Runtime (tf2onnx)", None)
                continue
            input_names = [i.name for i in session.get_inputs()]
            feed = {
                n: x[n.split(":")[0]] for n in input_names
            }
            out = session.run(None, feed)
            logits = [o for o, meta in zip(out, session.get_outputs())
                      if "logits" in meta.name][0]
            notes["ONNX Runtime (tf2onnx)"] = (
                f"{onnx_message}; max abs logit diff vs Keras "
                f"{np.abs(logits - reference).max():.1e}"
            )
            rows.setdefault("ONNX Runtime (tf2onnx)", {})[threads] = timed(
                lambda: session.run(None, feed), args.warmup, args.runs
            )
        print(f"threads={threads} done", flush=True)
    if not onnx_ok:
        notes["ONNX Runtime (tf2onnx)"] = f"not run: {onnx_message}"
    return rows, sizes, notes


def accuracy(args):
    import keras

    from keras_electra.data import ElectraClassifierPreprocessor
    from keras_electra.data import ElectraTokenizer
    from keras_electra.data import load_rotten_tomatoes
    from keras_electra.export import TFLiteRunner
    from keras_electra.export import calibration_sample
    from keras_electra.export import export_tflite
    from keras_electra.models import ElectraBackbone
    from keras_electra.models import ElectraClassifier

    sequence_length = 64
    work_dir = os.path.join(args.work_dir, "accuracy")  # its own vocab.txt
    os.makedirs(work_dir, exist_ok=True)
    train_texts, train_labels = load_rotten_tomatoes("train")
    test_texts, test_labels = load_rotten_tomatoes("test")
    vocabulary = build_vocabulary(train_texts, 8000)
    tokenizer = ElectraTokenizer(vocabulary)
    pre = ElectraClassifierPreprocessor(tokenizer, sequence_length=sequence_length)
    x_train = {k: np.asarray(v) for k, v in pre(train_texts).items()}
    x_test = {k: np.asarray(v) for k, v in pre(test_texts).items()}
    keras.utils.set_random_seed(0)
    backbone = ElectraBackbone(
        vocabulary_size=len(vocabulary), num_layers=4, num_heads=2,
        hidden_dim=128, intermediate_dim=512, embedding_dim=128,
        max_sequence_length=sequence_length, dropout=0.1,
    )
    model = ElectraClassifier(backbone, num_classes=2)
    steps = args.epochs * (len(train_texts) // 32)
    model.compile(learning_rate=5e-4, train_steps=steps)
    start = time.time()
    model.fit(x_train, train_labels, batch_size=32, epochs=args.epochs,
              verbose=0)
    train_seconds = time.time() - start
    reference = np.asarray(model.predict(x_test, batch_size=64, verbose=0))
    reference_pred = reference.argmax(-1)
    results = {
        "Keras float32": (float((reference_pred == test_labels).mean()), 1.0)
    }
    # A random sample of the training set (the first reviews come from a
    # few movies only and calibrate worse).
    calibration = calibration_sample(x_train, args.calibration)
    for quantization in (None, "float16", "dynamic_int8", "full_int8"):
        path = os.path.join(work_dir, f"rt_{quantization}.tflite")
        export_tflite(model, path, quantization=quantization,
                      representative_data=calibration,
                      sequence_length=sequence_length, tokenizer=tokenizer)
        pred = TFLiteRunner(path).predict(x_test)["logits"].argmax(-1)
        results[f"LiteRT {quantization or 'float32'}"] = (
            float((pred == test_labels).mean()),
            float((pred == reference_pred).mean()),
        )
    info = {
        "train": len(train_texts), "test": len(test_texts),
        "epochs": args.epochs, "train_seconds": train_seconds,
        "majority": float(max(test_labels.mean(), 1 - test_labels.mean())),
    }
    return results, info


def write_results(args, latency_results, accuracy_results, path):
    import platform

    import tensorflow as tf

    rows, sizes, notes = latency_results
    lines = [
        "# Export: size and CPU latency (ELECTRA-Small), int8 accuracy",
        "",
        "Command:",
        "",
        "```",
        "KERAS_BACKEND=tensorflow python " + " ".join(
            [os.path.relpath(__file__)] + sys.argv[1:]),
        "```",
        "",
        f"Machine: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPU cores (shared with other jobs, so absolute "
        "numbers are noisy; compare rows within this table). TensorFlow "
        f"{tf.__version__}, ai-edge-litert {_version('ai-edge-litert')}, "
        f"onnxruntime {_version('onnxruntime')}.",
        "",
        "## Latency and size",
        "",
        "ELECTRA-Small classifier (13.5M parameters, 2 classes) with RANDOM "
        "weights (latency and size do not depend on the values), batch 1, "
        f"sequence length {SEQUENCE_LENGTH}, median (p90) of {args.runs} runs "
        f"after {args.warmup} warm-up runs, milliseconds. Size: the file(s) "
        "a server or app loads (Keras: the `.weights.h5`; SavedModel: the "
        "version folder, tokenizer included). The LiteRT rows are timed "
        "round-robin (one call of each in turn), so load bursts on a shared "
        "machine hit them alike; compare LiteRT rows with each other.",
        "",
        "| runtime | size (MB) | "
        + " | ".join(f"{t} thread{'s' if t > 1 else ''} ms" for t in args.threads)
        + " | notes |",
        "|---|---|" + "---|" * len(args.threads) + "---|",
    ]
    for name, by_threads in rows.items():
        cells = [
            f"{by_threads[t][0]:.1f} ({by_threads[t][1]:.1f})"
            if t in by_threads else "-"
            for t in args.threads
        ]
        size = sizes.get(name)
        size = f"{size / 1e6:.1f}" if size else "-"
        lines.append(f"| {name} | {size} | " + " | ".join(cells)
                     + f" | {notes.get(name, '')} |")
    if "ONNX Runtime (tf2onnx)" not in rows:
        lines.append("| ONNX Runtime (tf2onnx) | - | "
                     + " | ".join("-" for _ in args.threads)
                     + f" | {notes.get('ONNX Runtime (tf2onnx)', '')} |")
    lines += ["", "Targets: int8 ELECTRA-Small <= 14 MB and >= 3x faster than "
              "float32 LiteRT."]
    for q, base in [
        (f"LiteRT {q}{suffix}", f"LiteRT float32{suffix}")
        for suffix in ("", LATEST)
        for q in ("dynamic_int8", "full_int8")
    ]:
        f32 = rows.get(base, {})
        if q in rows and f32:
            speedups = ", ".join(
                f"{f32[t][0] / rows[q][t][0]:.2f}x at {t} thread(s)"
                for t in args.threads
            )
            lines.append(f"- {q}: {sizes[q] / 1e6:.1f} MB "
                         f"({'met' if sizes[q] <= 14e6 else 'MISSED'}); "
                         f"speed-up over float32: {speedups}.")
    if accuracy_results is not None:
        results, info = accuracy_results
        lines += [
            "",
            "## Quantization accuracy (real task)",
            "",
            f"Rotten Tomatoes (fresh/rotten), 4-layer 128-wide classifier "
            f"trained from scratch for {info['epochs']} epoch(s) on "
            f"{info['train']} reviews ({info['train_seconds']:.0f}s), scored "
            f"on the {info['test']} held-out test reviews (split by movie), "
            f"sequence length 64. Majority class: {info['majority']:.3f}. "
            f"Full int8 calibrated on {args.calibration} training examples "
            "drawn at random (seed 0), LayerNormalization kept float32 "
            "(the `export_tflite` default). "
            "Agreement: same predicted class as the float32 Keras model.",
            "",
            "| model | accuracy | agreement with Keras | accuracy change (points) |",
            "|---|---|---|---|",
        ]
        base = results["Keras float32"][0]
        for name, (acc, agree) in results.items():
            lines.append(f"| {name} | {acc:.4f} | {agree:.4f} | "
                         f"{100 * (acc - base):+.2f} |")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--calibration", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--accuracy", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--results", default=None)
    parser.add_argument("--work-dir", default=None)
    parser.add_argument("--sentence", default=(
        "The movie is a charming, funny and surprisingly moving portrait "
        "of a family, and its actors make every scene count."))
    parser.add_argument("--tf-worker", action="store_true",
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tf_worker:
        return tf_worker(args)
    own_dir = args.work_dir is None
    args.work_dir = args.work_dir or tempfile.mkdtemp(prefix="electra_export_")
    os.makedirs(args.work_dir, exist_ok=True)
    try:
        saved = os.path.join(args.work_dir, "latency.json")
        if args.skip_latency and os.path.exists(saved):
            with open(saved) as f:
                latency_results = tuple(json.load(f))
            latency_results[0].update({
                name: {int(t): v for t, v in by.items()}
                for name, by in latency_results[0].items()})
        elif args.skip_latency:
            latency_results = ({}, {}, {})
        else:
            latency_results = latency(args)
            with open(saved, "w") as f:
                json.dump(latency_results, f)
        accuracy_results = accuracy(args) if args.accuracy else None
        write_results(args, latency_results, accuracy_results,
                      args.results or os.path.join(args.work_dir, "RESULTS.md"))
    finally:
        if own_dir:
            shutil.rmtree(args.work_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
