"""ELECTRA against masked-LM pre-training at equal compute, reproduced small.

What is compared
----------------
The same encoder (the discriminator of ``--preset``) pre-trained two ways on
the same real English text (the bundled public-domain corpus: Moby-Dick and
the State of the Union addresses, packed into ``--sequence-length`` token
sequences by the same ``pretraining_dataset`` pipeline, same order per
seed):

* ``electra``: ``ReplacedTokenDetector`` (generator of the preset, shared
  embeddings, 15% masking, loss = MLM + 50 x RTD).
* ``mlm``: ``MaskedLMPretrainer`` (BERT: 15% masking, 80/10/10, tied
  masked-LM head), the ELECTRA paper's baseline.

Both get the same number of training FLOPs: ELECTRA runs ``--steps`` steps
and the masked LM ``steps x F_electra / F_mlm`` steps, where ``F`` is
``keras_electra.training.pretraining_flops_per_example`` (matrix products,
generator included, x3 for forward + backward). Each run saves its encoder
at the ``--fractions`` of its budget; every saved encoder, and the same
architecture from random weights, is fine-tuned as ``ElectraClassifier`` on
``--task`` with one fixed recipe and scored on the task's test split. The
whole grid runs for every ``--seeds`` value (the seed drives data order,
masking, sampling, initialization and fine-tuning).

Outputs in ``--output``: ``results.json`` (every run; an interrupted
benchmark resumes and skips what is done), ``summary.md`` (mean and standard
deviation across seeds) and ``accuracy_vs_compute.png``.

Scales
------
``--scale cpu`` (default) is sized for about an hour on a 2-core CPU:
``electra_tiny``, 900 ELECTRA steps of 32 x 128, fine-tuning on 4,000 Rotten
Tomatoes snippets for 2 epochs. ``--scale gpu`` trains ``electra_small``
(30,000 steps of 128 x 128, the full training split, 3 epochs); every
setting can still be overridden by its flag.

Command (the one behind RESULTS.md)::

    KERAS_BACKEND=tensorflow .venv/bin/python benchmarks/electra_vs_mlm.py \\
        --output runs/electra_vs_mlm

Checks of that result (RESULTS.md, item 10): ``--encoders-from
runs/electra_vs_mlm`` fine-tunes the encoders it saved again with another
recipe (e.g. ``--finetune-learning-rate 3e-4 --finetune-layerwise-decay 0.8
--finetune-epochs 3``, or ``--finetune-examples 500 --finetune-epochs 10``)
without pre-training; ``--mask-rate 0.25`` masks more tokens in both
objectives (the paper's ELECTRA-Large setting).
"""

import argparse
import json
import math
import os
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

SCALES = {
    "cpu": dict(
        preset="electra_tiny", steps=900, batch_size=32, sequence_length=128,
        learning_rate=None, fractions=(0.5, 1.0),
        finetune_examples=4000, finetune_epochs=2, finetune_sequence_length=64,
        finetune_learning_rate=1e-3, finetune_layerwise_decay=1.0,
    ),
    "gpu": dict(
        preset="electra_small", steps=30000, batch_size=128,
        sequence_length=128, learning_rate=None, fractions=(0.25, 0.5, 1.0),
        finetune_examples=None, finetune_epochs=3,
        finetune_sequence_length=64, finetune_learning_rate=3e-4,
        finetune_layerwise_decay=0.8,
    ),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="cpu")
    parser.add_argument("--output", default="runs/electra_vs_mlm")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--task", default="rotten_tomatoes")
    parser.add_argument("--preset")
    parser.add_argument("--steps", type=int, help="ELECTRA pre-training steps.")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--sequence-length", type=int)
    parser.add_argument("--learning-rate", type=float,
                        help="Pre-training peak rate (default: the preset's).")
    parser.add_argument("--fractions", type=float, nargs="+",
                        help="Budget fractions at which encoders are kept.")
    parser.add_argument("--output-bias", choices=("unigram", "zero"),
                        default="unigram",
                        help="Masked-LM bias at step 0 (both objectives).")
    parser.add_argument("--mask-rate", type=float, default=0.15,
                        help="Fraction of tokens masked (both objectives).")
    parser.add_argument("--finetune-examples", type=int)
    parser.add_argument("--finetune-epochs", type=int)
    parser.add_argument("--finetune-sequence-length", type=int)
    parser.add_argument("--finetune-learning-rate", type=float)
    parser.add_argument("--finetune-layerwise-decay", type=float)
    parser.add_argument(
        "--encoders-from", metavar="DIR",
        help="Skip pre-training: fine-tune the encoders an earlier run of "
             "this script saved in DIR (same --seeds, --steps, --fractions) "
             "with this run's fine-tuning recipe.",
    )
    args = parser.parse_args(argv)
    for key, value in SCALES[args.scale].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.encoders_from and (os.path.abspath(args.encoders_from)
                               == os.path.abspath(args.output)):
        parser.error(f"--encoders-from {args.encoders_from} is --output; "
                     f"give the fine-tuning results a folder of their own.")
    return args


def flops_per_example(args, vocabulary_size):
    """Training FLOPs per example of both objectives for this setting."""
    from keras_electra.models import MaskedLMPretrainer
    from keras_electra.models import ReplacedTokenDetector
    from keras_electra.training import pretraining_flops_per_example

    overrides = dict(vocabulary_size=vocabulary_size,
                     max_sequence_length=max(args.sequence_length, 128),
                     **model_options(args))
    return {
        "electra": pretraining_flops_per_example(
            ReplacedTokenDetector.from_preset(args.preset, **overrides),
            args.sequence_length,
        ),
        "mlm": pretraining_flops_per_example(
            MaskedLMPretrainer.from_preset(args.preset, **overrides),
            args.sequence_length,
        ),
    }


def model_options(args):
    """Pre-trainer arguments that differ from the paper's defaults."""
    return {} if args.mask_rate == 0.15 else {"mask_rate": args.mask_rate}


def checkpoint_steps(total, fractions):
    """`{step: fraction}`: where encoders are kept (steps rounded to 10s)."""
    keep = {}
    for fraction in sorted(fractions):
        step = total if fraction >= 1 else int(round(total * fraction / 10)) * 10
        keep[max(1, step)] = fraction
    return keep


class SaveEncoder:
    """Keras callback factory: save the encoder at chosen steps."""

    @staticmethod
    def build(run_dir, steps, objective, vocabulary):
        import shutil

        import keras

        class _Save(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                step = int(keras.ops.convert_to_numpy(
                    self.model.optimizer.iterations
                ))
                if step not in steps:
                    return
                folder = os.path.join(run_dir, f"encoder-{step}")
                if os.path.exists(os.path.join(folder, "vocab.txt")):
                    return
                encoder = (
                    self.model.discriminator if objective == "electra"
                    else self.model.generator
                )
                encoder.save_to_preset(folder)
                shutil.copyfile(vocabulary, os.path.join(folder, "vocab.txt"))

        return _Save()


def finetune(args, encoder_dir, output_dir, seed, random_init=False):
    import keras

    from keras_electra import workflows

    keras.backend.clear_session()
    result = workflows.run_finetuning(
        encoder_dir, output_dir, task=args.task, epochs=args.finetune_epochs,
        batch_size=32, sequence_length=args.finetune_sequence_length,
        learning_rate=args.finetune_learning_rate,
        layerwise_decay=args.finetune_layerwise_decay,
        max_train_examples=args.finetune_examples, seed=seed,
        random_init=random_init, verbose=0,
    )
    return {k: result[k] for k in (
        "accuracy", "validation_accuracy", "majority_baseline", "num_train",
        "num_test",
    )}


def run(args):
    import keras

    from keras_electra import workflows
    from keras_electra.data import ElectraTokenizer
    from keras_electra.data import bundled_corpus_files
    from keras_electra.data import bundled_vocabulary_file

    os.makedirs(args.output, exist_ok=True)
    results_path = os.path.join(args.output, "results.json")
    results = {"runs": {}}
    if os.path.exists(results_path):
        with open(results_path) as f:
            results = json.load(f)

    def save():
        results["settings"] = {
            k: v for k, v in vars(args).items() if k != "output"
        }
        tmp = results_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(results, f, indent=2)
        os.replace(tmp, results_path)

    vocabulary = bundled_vocabulary_file()
    vocabulary_size = ElectraTokenizer(vocabulary=vocabulary).vocabulary_size()
    flops = flops_per_example(args, vocabulary_size)
    budget = flops["electra"] * args.batch_size * args.steps
    total_steps = {
        "electra": args.steps,
        # Rounded to 10 steps (checkpoints fall on logging epochs).
        "mlm": int(round(budget / (flops["mlm"] * args.batch_size) / 10)) * 10,
    }
    results["flops_per_example"] = flops
    results["total_steps"] = total_steps
    save()
    print(f"FLOPs/example: {flops}; steps: {total_steps}; "
          f"budget {budget:.3g} FLOPs", flush=True)

    source_runs = {}
    if args.encoders_from:
        source_path = os.path.join(args.encoders_from, "results.json")
        if os.path.exists(source_path):
            with open(source_path) as f:
                source_runs = json.load(f).get("runs", {})

    for seed in args.seeds:
        for objective in ("electra", "mlm"):
            run_dir = os.path.join(args.output, f"seed{seed}", objective)
            steps = total_steps[objective]
            keep = checkpoint_steps(steps, args.fractions)
            pending = [
                s for s in keep
                if f"{seed}/{objective}/{s}" not in results["runs"]
            ]
            if not pending:
                continue
            if args.encoders_from:
                encoder_root = os.path.join(
                    args.encoders_from, f"seed{seed}", objective
                )
                auc = {
                    s: source_runs.get(f"{seed}/{objective}/{s}", {}).get(
                        "discriminator_auc"
                    ) for s in pending
                }
            else:
                keras.backend.clear_session()
                started = time.time()
                period = math.gcd(*keep)
                history = workflows.run_pretraining(
                    bundled_corpus_files(), run_dir, vocabulary=vocabulary,
                    preset=args.preset, steps=steps,
                    batch_size=args.batch_size,
                    sequence_length=args.sequence_length,
                    learning_rate=args.learning_rate, seed=seed,
                    backup_every=period, steps_per_epoch=period,
                    objective=objective, output_bias=args.output_bias,
                    model_options=model_options(args), verbose=0,
                    callbacks=[SaveEncoder.build(run_dir, set(keep),
                                                 objective, vocabulary)],
                )["history"]
                print(f"seed {seed} {objective}: {steps} steps in "
                      f"{time.time() - started:.0f}s; last logs "
                      f"{ {k: round(v[-1], 4) for k, v in history.items()} }",
                      flush=True)
                encoder_root = run_dir
                auc = {s: history.get("discriminator_auc", [None])[-1]
                       if s == steps else None for s in pending}
            for step in pending:
                encoder_dir = os.path.join(encoder_root, f"encoder-{step}")
                if not os.path.exists(os.path.join(encoder_dir, "vocab.txt")):
                    raise FileNotFoundError(
                        f"No saved encoder at {encoder_dir} (seed {seed}, "
                        f"{objective}, step {step}); with --encoders-from, "
                        f"run this script with the same --seeds/--steps/"
                        f"--fractions and --output {args.encoders_from} first."
                    )
                scores = finetune(
                    args, encoder_dir,
                    os.path.join(run_dir, f"classifier-{step}"), seed,
                )
                scores.update(
                    seed=seed, objective=objective, step=step,
                    fraction=keep[step],
                    pretraining_flops=flops[objective] * args.batch_size * step,
                )
                if args.encoders_from:
                    scores["encoder"] = encoder_dir
                if objective == "electra":
                    scores["discriminator_auc"] = auc[step]
                results["runs"][f"{seed}/{objective}/{step}"] = scores
                save()
                print(f"  seed {seed} {objective} step {step}: accuracy "
                      f"{scores['accuracy']:.4f}", flush=True)
        key = f"{seed}/random_init/0"
        if key not in results["runs"]:
            encoder_dir = os.path.join(
                args.encoders_from or args.output, f"seed{seed}", "electra",
                f"encoder-{total_steps['electra']}",
            )
            scores = finetune(
                args, encoder_dir,
                os.path.join(args.output, f"seed{seed}", "random_init"),
                seed, random_init=True,
            )
            scores.update(seed=seed, objective="random_init", step=0,
                          fraction=0.0, pretraining_flops=0)
            results["runs"][key] = scores
            save()
            print(f"seed {seed} random init: accuracy {scores['accuracy']:.4f}",
                  flush=True)
    return results


def summarize(results, output):
    """Mean and standard deviation per objective and budget fraction."""
    groups = {}
    for run in results["runs"].values():
        key = (run["objective"], round(run["fraction"], 3))
        groups.setdefault(key, []).append(run)
    rows = []
    for (objective, fraction), runs in sorted(groups.items()):
        accuracies = [r["accuracy"] for r in runs]
        rows.append({
            "objective": objective,
            "fraction": fraction,
            "pretraining_flops": statistics.mean(
                r["pretraining_flops"] for r in runs
            ),
            "step": runs[0]["step"],
            "mean": statistics.mean(accuracies),
            "std": statistics.stdev(accuracies) if len(runs) > 1 else 0.0,
            "seeds": len(runs),
            "accuracies": accuracies,
        })
    # Each seed draws its own split, so the majority rate varies a little.
    majority = statistics.mean(
        r["majority_baseline"] for r in results["runs"].values()
    )
    lines = [
        "| objective | budget | steps | pre-training FLOPs | test accuracy "
        "(mean +- std) | seeds | per seed |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['objective']} | {row['fraction']:.2f} | {row['step']} | "
            f"{row['pretraining_flops']:.2e} | {row['mean']:.4f} +- "
            f"{row['std']:.4f} | {row['seeds']} | "
            f"{', '.join(f'{a:.4f}' for a in row['accuracies'])} |"
        )
    lines.append(f"\nMajority class (mean over seeds): {majority:.4f}.")
    text = "\n".join(lines)
    with open(os.path.join(output, "summary.md"), "w") as f:
        f.write(text + "\n")
    plot(rows, majority, os.path.join(output, "accuracy_vs_compute.png"))
    return rows, text


def plot(rows, majority, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6.5, 4.2))
    random_rows = [r for r in rows if r["objective"] == "random_init"]
    for objective, style in (("electra", "o-"), ("mlm", "s--")):
        points = [r for r in rows if r["objective"] == objective]
        if not points:
            continue
        points = random_rows + points  # compute 0 = random weights
        axis.errorbar(
            [r["pretraining_flops"] for r in points],
            [r["mean"] for r in points],
            yerr=[r["std"] for r in points], fmt=style, capsize=3,
            label={"electra": "ELECTRA (RTD)", "mlm": "masked LM"}[objective],
        )
    axis.axhline(majority, color="grey", lw=0.8, ls=":", label="majority")
    axis.set_xlabel("pre-training FLOPs")
    axis.set_ylabel("fine-tuned test accuracy")
    axis.set_title("Downstream accuracy against pre-training compute")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv=None):
    args = parse_args(argv)
    started = time.time()
    results = run(args)
    _, text = summarize(results, args.output)
    print(text)
    print(f"total {(time.time() - started) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
