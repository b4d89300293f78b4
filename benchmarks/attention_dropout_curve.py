"""Pre-training curves with attention-probability dropout 0.1 (paper) vs 0.0.

`attention_dropout=0.0` lets attention run through
`keras.ops.dot_product_attention` (fused kernels); this script measures what
it does to learning at equal steps: `run_pretraining` on the bundled corpus
(ELECTRA-Tiny, batch 32 x 128, TensorFlow backend), both settings, the same
seeds, and reports the discriminator's loss, accuracy and AUC and the
generator's accuracy per logged epoch (training-mode metrics, averaged over
the epoch's steps), the mean over seeds and the seed-to-seed spread.

Usage:
    .venv/bin/python benchmarks/attention_dropout_curve.py \
        --steps 400 --seeds 0,1 --json benchmarks/attention_dropout_results.json
    .venv/bin/python benchmarks/attention_dropout_curve.py --quick
"""

import argparse
import json
import os
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEYS = ("discriminator_loss", "discriminator_accuracy", "discriminator_auc",
        "generator_accuracy")


def run(steps, seed, attention_dropout, batch_size, sequence_length, folder):
    from keras_electra.data import bundled_corpus_files
    from keras_electra.data import bundled_vocabulary_file
    from keras_electra.workflows import run_pretraining

    started = time.perf_counter()
    result = run_pretraining(
        bundled_corpus_files(), folder,
        vocabulary=bundled_vocabulary_file(), preset="electra_tiny",
        steps=steps, batch_size=batch_size, sequence_length=sequence_length,
        seed=seed, backup_every=steps, steps_per_epoch=max(1, steps // 8),
        attention_dropout=attention_dropout, verbose=0,
    )
    history = {k: [float(v) for v in result["history"][k]] for k in KEYS}
    return {"history": history, "seconds": time.perf_counter() - started}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--sequence-length", type=int, default=128)
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 16 steps, batch 8 x 64, one seed")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    sys.path.insert(0, REPO)
    if args.quick:
        args.steps, args.seeds = 16, "0"
        args.batch_size, args.sequence_length = 8, 64
    seeds = [int(s) for s in args.seeds.split(",")]
    import numpy as np

    results = {"settings": vars(args), "runs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:  # interleaved: one seed of each setting in turn
            for rate in (0.1, 0.0):
                key = f"attention_dropout={rate}"
                folder = os.path.join(tmp, f"{rate}_{seed}")
                out = run(args.steps, seed, rate, args.batch_size,
                          args.sequence_length, folder)
                results["runs"].setdefault(key, {})[str(seed)] = out
                last = {k: round(v[-1], 4) for k, v in out["history"].items()}
                print(key, "seed", seed, last, f"{out['seconds']:.0f} s",
                      flush=True)
    summary = {}
    for key, by_seed in results["runs"].items():
        summary[key] = {}
        for metric in KEYS:
            final = np.array([r["history"][metric][-1]
                              for r in by_seed.values()])
            summary[key][metric] = {
                "mean": float(final.mean()),
                "spread": float(final.max() - final.min()),
            }
        summary[key]["seconds"] = float(np.mean(
            [r["seconds"] for r in by_seed.values()]))
    results["summary"] = summary
    print(f"\nfinal epoch, mean over seeds {seeds} (spread max-min), "
          f"{args.steps} steps:")
    print("| setting | " + " | ".join(KEYS) + " | seconds |")
    print("|---" * (len(KEYS) + 2) + "|")
    for key, values in summary.items():
        cells = [f"{values[m]['mean']:.4f} ({values[m]['spread']:.4f})"
                 for m in KEYS]
        print(f"| {key} | " + " | ".join(cells)
              + f" | {values['seconds']:.0f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return results


if __name__ == "__main__":
    main()
