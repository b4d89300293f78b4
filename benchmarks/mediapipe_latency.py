"""MediaPipe-ready ELECTRA-Small classifier: size, latency, agreement.

An ELECTRA-Small classifier (12 layers, hidden 256, 30,522-token vocabulary,
2 classes) with RANDOM weights (latency and size do not depend on the
values), exported by `export_tflite` with MediaPipe metadata (float32 and
dynamic int8, sequence length 128), then per thread count:

- MediaPipe Tasks `TextClassifier.classify(text)` on raw Rotten Tomatoes
  test sentences (tokenization inside MediaPipe, C++), run in
  `.venv-mediapipe` by `tests/mediapipe_runner.py`;
- the plain LiteRT interpreter (`TFLiteRunner`) on the same sentences
  tokenized beforehand (`SimpleTokenizer`; tokenization not timed).

MediaPipe's Python API has no thread setting, so both run under `taskset`
on 1 or 2 cores (the interpreter also gets `num_threads` = cores). Agreement:
MediaPipe's scores against Keras' on 500 test sentences (random weights give
probabilities near 0.5, so the table shows the largest score difference; the
argmax agreement of a trained model is in `tests/test_export_mediapipe.py`).

Run:
    KERAS_BACKEND=tensorflow python benchmarks/mediapipe_latency.py \\
        --results /tmp/mediapipe.md
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RUNNER = os.path.join(ROOT, "tests", "mediapipe_runner.py")
SEQUENCE_LENGTH = 128


def mediapipe(python, verb, model, texts, work, cores):
    request = os.path.join(work, "texts.json")
    result = os.path.join(work, "result.json")
    with open(request, "w", encoding="utf-8") as f:
        json.dump(texts, f)
    command = [python, RUNNER, verb, model, request, result]
    if cores:
        command = ["taskset", "-c", cores] + command
    subprocess.run(command, check=True, capture_output=True)
    with open(result, encoding="utf-8") as f:
        return json.load(f)


def interpreter_times(model, inputs, threads, runs):
    """Per-call ms of the plain interpreter, in a child pinned to cores."""
    code = (
        "import sys, time, numpy as np\n"
        "from keras_electra.export import TFLiteRunner\n"
        "r = TFLiteRunner(sys.argv[1], num_threads=int(sys.argv[2]))\n"
        "x = dict(np.load(sys.argv[3]))\n"
        "n = len(x['token_ids'])\n"
        "rows = [{k: v[i:i + 1] for k, v in x.items()} for i in range(n)]\n"
        "for row in rows[:10]: r(row)\n"
        "t = []\n"
        "for row in rows[:int(sys.argv[4])]:\n"
        "    s = time.perf_counter(); r(row)\n"
        "    t.append((time.perf_counter() - s) * 1e3)\n"
        "print(' '.join(map(str, t)))\n"
    )
    cores = "0" if threads == 1 else "0,1"
    out = subprocess.run(
        ["taskset", "-c", cores, sys.executable, "-c", code, model,
         str(threads), inputs, str(runs)],
        check=True, capture_output=True, text=True,
    )
    return [float(v) for v in out.stdout.split()]


def summary(times):
    return statistics.median(times), float(np.percentile(times, 90))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--agreement-texts", type=int, default=500)
    parser.add_argument("--mediapipe-python", default=os.path.join(
        ROOT, ".venv-mediapipe", "bin", "python"))
    parser.add_argument("--results", default=None)
    args = parser.parse_args()

    import keras

    sys.path.insert(0, HERE)
    from export_latency import build_vocabulary
    from export_latency import corpus_texts

    from keras_electra.data import ElectraClassifierPreprocessor
    from keras_electra.data import ElectraTokenizer
    from keras_electra.data import load_rotten_tomatoes
    from keras_electra.export import export_tflite
    from keras_electra.export import read_tflite_metadata
    from keras_electra.models import ElectraClassifier

    work = tempfile.mkdtemp(prefix="mediapipe_bench_")
    keras.utils.set_random_seed(0)
    model = ElectraClassifier.from_preset(
        "electra_small", num_classes=2, dropout=0.0
    )
    vocabulary = build_vocabulary(
        corpus_texts(400), model.backbone.vocabulary_size
    )
    tokenizer = ElectraTokenizer(vocabulary)
    texts, _ = load_rotten_tomatoes("test")
    texts = list(texts[: max(args.runs, args.agreement_texts)])
    preprocessor = ElectraClassifierPreprocessor(
        tokenizer, sequence_length=SEQUENCE_LENGTH
    )
    inputs = os.path.join(work, "inputs.npz")
    np.savez(inputs, **{
        k: np.asarray(v) for k, v in preprocessor(texts[: args.runs]).items()
    })
    model.preprocessor = preprocessor
    logits = np.asarray(model.predict(texts[: args.agreement_texts],
                                      verbose=0))
    keras_scores = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)

    rows = []
    for quantization in (None, "dynamic_int8"):
        name = quantization or "float32"
        path = export_tflite(
            model, os.path.join(work, f"electra_small_{name}.tflite"),
            quantization=quantization, sequence_length=SEQUENCE_LENGTH,
            tokenizer=tokenizer, labels=["negative", "positive"],
        )
        assert read_tflite_metadata(path)["outputs"] == ["score"]
        scores = np.asarray(mediapipe(
            args.mediapipe_python, "classify", path,
            texts[: args.agreement_texts], work, None,
        )["scores"])
        difference = np.abs(scores - keras_scores)
        for threads in (1, 2):
            cores = "0" if threads == 1 else "0,1"
            mp = mediapipe(args.mediapipe_python, "time", path,
                           texts[: args.runs], work, cores)["milliseconds"]
            plain = interpreter_times(path, inputs, threads, args.runs)
            rows.append({
                "model": name, "threads": threads,
                "mb": os.path.getsize(path) / 1e6,
                "mediapipe": summary(mp), "interpreter": summary(plain),
                "max_difference": float(difference.max()),
                "median_difference": float(np.median(difference)),
                "agreement": float(
                    (scores.argmax(-1) == logits.argmax(-1)).mean()),
            })
            print(json.dumps(rows[-1]), flush=True)

    lines = [
        "| model | cores | size (MB) | MediaPipe classify(text) ms, median "
        "(p90) | interpreter ms, median (p90) | MediaPipe / interpreter | "
        "max (median) abs score diff vs Keras | argmax agreement |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['threads']} | {r['mb']:.2f} | "
            f"{r['mediapipe'][0]:.1f} ({r['mediapipe'][1]:.1f}) | "
            f"{r['interpreter'][0]:.1f} ({r['interpreter'][1]:.1f}) | "
            f"{r['mediapipe'][0] / r['interpreter'][0]:.2f} | "
            f"{r['max_difference']:.2e} ({r['median_difference']:.1e}) | "
            f"{r['agreement']:.3f} |"
        )
    table = "\n".join(lines)
    print(table)
    if args.results:
        with open(args.results, "w", encoding="utf-8") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()
