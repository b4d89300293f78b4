"""Does the discriminator learn when the replacements are easier? (issue #9)

Why
---
In ``electra_vs_mlm.py`` at the CPU budget the ELECTRA discriminator stays
at the base rate (AUC ~0.54 after 900 steps), and ``rtd_reference.py``
shows an independent implementation does the same. This script asks where
the difficulty lies, with the same data, encoder and optimizer recipe as
``run_pretraining``:

* ``--noise unigram``: the discriminator alone (``ElectraDiscriminator`` of
  ``electra_tiny``), trained on sequences whose ~15% selected tokens are
  replaced by draws from the corpus' unigram distribution (no generator,
  the weakest "generator" of the paper's Figure 3). The replacement carries
  no information through its identity (original and replacement come from
  the same distribution), so detecting it needs context.
* ``--noise generator``: ``run_pretraining`` itself (the full
  ``ReplacedTokenDetector``), optionally with untied embeddings
  (``--untied``) or a zero generator-loss weight
  (``--generator-loss-weight 0``: the generator then changes only through
  the shared embeddings and stays near its unigram start).

With ``--finetune`` the discriminator is saved and fine-tuned on Rotten
Tomatoes with the recipe of ``electra_vs_mlm.py --scale cpu``, so its test
accuracy compares with that benchmark's rows (same seed, same split).

Commands (the runs behind benchmarks/RESULTS.md, item 9; results accumulate
in ``--output``/results.json, and a finished run is skipped)::

    KERAS_BACKEND=tensorflow .venv/bin/python \\
        benchmarks/rtd_sampler_control.py \\
        --noise unigram --finetune --seeds 0 1 2
    KERAS_BACKEND=tensorflow .venv/bin/python \\
        benchmarks/rtd_sampler_control.py \\
        --noise generator
    KERAS_BACKEND=tensorflow .venv/bin/python \\
        benchmarks/rtd_sampler_control.py \\
        --noise generator --generator-loss-weight 0
    KERAS_BACKEND=tensorflow .venv/bin/python \\
        benchmarks/rtd_sampler_control.py \\
        --noise generator --untied
    KERAS_BACKEND=tensorflow .venv/bin/python \\
        benchmarks/rtd_sampler_control.py \\
        --noise generator --generator-options num_layers=1 --finetune
"""

import argparse
import json
import os
import shutil
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--noise", choices=("unigram", "generator"),
                        default="unigram")
    parser.add_argument("--untied", action="store_true",
                        help="Generator with its own embeddings.")
    parser.add_argument("--generator-loss-weight", type=float, default=1.0)
    parser.add_argument("--generator-options",
                        help="Generator size overrides as key=value pairs, "
                        "e.g. 'num_layers=1' (run_pretraining's "
                        "generator_options).")
    parser.add_argument("--discriminator-loss-weight", type=float, default=50.0)
    parser.add_argument("--steps", type=int, default=900)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--sequence-length", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--mask-rate", type=float, default=0.15)
    parser.add_argument("--log-every", type=int, default=100)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--finetune", action="store_true")
    parser.add_argument("--output", default="runs/rtd_sampler_control")
    args = parser.parse_args(argv)
    if args.log_every < 1 or args.steps < args.log_every or (
        args.steps % args.log_every
    ):
        parser.error(
            f"--steps ({args.steps}) must be a multiple of a positive "
            f"--log-every ({args.log_every})."
        )
    if args.noise == "unigram" and (
        args.untied or args.generator_loss_weight != 1.0
        or args.generator_options
    ):
        parser.error(
            "--untied, --generator-loss-weight and --generator-options apply "
            "to --noise generator only (--noise unigram has no generator)."
        )
    try:
        generator_options(args)
    except ValueError as e:
        parser.error(str(e))
    return args


def variant_name(args):
    name = args.noise
    if args.discriminator_loss_weight != 50.0:
        name += f"-discweight{args.discriminator_loss_weight:g}"
    if args.noise == "unigram":
        return name
    if args.untied:
        name += "-untied"
    if args.generator_loss_weight != 1.0:
        name += f"-genweight{args.generator_loss_weight:g}"
    for key, value in sorted(generator_options(args).items()):
        name += f"-{key}{value}"
    return name


def generator_options(args):
    from keras_electra.cli import parse_options

    return parse_options(args.generator_options, "--generator-options")


def unigram_noise(tokenizer, dataset_fn, mask_rate):
    """A `tf.data` map: replace ~`mask_rate` of the real tokens by draws
    from the corpus' unigram distribution; label 1 where the token changed.
    """
    import tensorflow as tf

    from keras_electra.data import unigram_log_prior
    from keras_electra.workflows import special_token_ids

    special = sorted(special_token_ids(tokenizer))
    log_prior = unigram_log_prior(
        dataset_fn().as_numpy_iterator(), tokenizer.vocabulary_size(),
        exclude_ids=special,
    )
    log_prior[special] = -1e9  # never drawn
    log_prior = tf.constant(log_prior, tf.float32)[None]
    special = tf.constant(special, tf.int32)

    def corrupt(batch):
        ids = batch["token_ids"]
        real = tf.logical_and(
            batch["padding_mask"] > 0,
            tf.reduce_all(ids[..., None] != special, axis=-1),
        )
        draw = tf.random.uniform(tf.shape(ids))
        chosen = tf.logical_and(real, draw < mask_rate)
        draws = tf.random.categorical(log_prior, tf.size(ids), dtype=tf.int32)
        corrupted = tf.where(chosen, tf.reshape(draws, tf.shape(ids)), ids)
        labels = tf.cast(corrupted != ids, tf.float32)
        weights = tf.cast(batch["padding_mask"], tf.float32)
        return dict(batch, token_ids=corrupted), labels, weights

    return corrupt


def pretrain(args, seed, tokenizer, run_dir):
    """Train the discriminator; return its preset folder (with `vocab.txt`)
    and its curve every --log-every."""
    if args.noise == "generator":
        return pretrain_electra(args, seed, run_dir)
    return pretrain_on_unigram_noise(args, seed, tokenizer, run_dir)


def pretrain_on_unigram_noise(args, seed, tokenizer, run_dir):
    """`--noise unigram`: the discriminator alone, on unigram draws."""
    import keras

    from keras_electra.data import bundled_corpus_files
    from keras_electra.data import bundled_vocabulary_file
    from keras_electra.data import pretraining_dataset
    from keras_electra.models import ElectraDiscriminator
    from keras_electra.training import electra_optimizer

    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)

    def dataset_fn():
        return pretraining_dataset(
            bundled_corpus_files(), tokenizer,
            sequence_length=args.sequence_length, batch_size=args.batch_size,
            seed=seed, shuffle_buffer=2000, repeat=True,
        )

    model = ElectraDiscriminator.from_preset(
        "electra_tiny", vocabulary_size=tokenizer.vocabulary_size()
    )
    model.compile(
        electra_optimizer(
            learning_rate=args.learning_rate, train_steps=args.steps,
            warmup_steps=args.steps // 10,
        ),
        # Scaled like ReplacedTokenDetector's discriminator loss: with
        # weight 1 the gradients sit near Adam's epsilon (1e-6) and the
        # discriminator does not move in 900 steps.
        loss=lambda y, logits: args.discriminator_loss_weight
        * keras.ops.binary_crossentropy(y, logits, from_logits=True),
        weighted_metrics=[keras.metrics.AUC(from_logits=True, name="auc")],
    )
    data = dataset_fn().map(
        unigram_noise(tokenizer, dataset_fn, args.mask_rate)
    ).prefetch(4)
    history = model.fit(
        data, steps_per_epoch=args.log_every,
        epochs=args.steps // args.log_every, verbose=2,
    ).history
    encoder_dir = os.path.join(run_dir, "encoder")
    save_encoder(model, encoder_dir, bundled_vocabulary_file())
    return encoder_dir, {
        "step": [
            args.log_every * (i + 1) for i in range(len(history["auc"]))
        ],
        "discriminator_auc": history["auc"],
        # The logged loss is weighted; report the mean binary
        # cross-entropy, as ReplacedTokenDetector does.
        "discriminator_loss": [
            v / args.discriminator_loss_weight for v in history["loss"]
        ],
    }


def pretrain_electra(args, seed, run_dir):
    """`--noise generator`: `run_pretraining` with this run's options."""
    import keras

    from keras_electra.data import bundled_corpus_files
    from keras_electra.data import bundled_vocabulary_file
    from keras_electra.workflows import run_pretraining

    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    result = run_pretraining(
        bundled_corpus_files(), run_dir, vocabulary=bundled_vocabulary_file(),
        preset="electra_tiny", steps=args.steps, batch_size=args.batch_size,
        sequence_length=args.sequence_length,
        learning_rate=args.learning_rate, seed=seed,
        backup_every=args.steps, steps_per_epoch=args.log_every,
        model_options=dict(
            mask_rate=args.mask_rate, tie_embeddings=not args.untied,
            generator_loss_weight=args.generator_loss_weight,
            discriminator_loss_weight=args.discriminator_loss_weight,
        ),
        generator_options=generator_options(args),
        verbose=2,
    )
    history = result["history"]
    curve = {
        "step": [
            args.log_every * (i + 1)
            for i in range(len(history["discriminator_auc"]))
        ],
        "discriminator_auc": history["discriminator_auc"],
        "discriminator_loss": history["discriminator_loss"],
        "generator_accuracy": history["generator_accuracy"],
    }
    return result["discriminator_dir"], curve


def save_encoder(discriminator, folder, vocabulary):
    """Save the discriminator's weights as a preset folder with its vocabulary.

    A fresh (uncompiled) copy is saved: the unigram run's compiled loss is a
    closure that Keras cannot serialize.
    """
    from keras_electra.models import ElectraDiscriminator

    copy = ElectraDiscriminator.from_config(discriminator.get_config())
    copy.set_weights(discriminator.get_weights())
    copy.save_to_preset(folder)
    shutil.copyfile(vocabulary, os.path.join(folder, "vocab.txt"))


def main(argv=None):
    args = parse_args(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import electra_vs_mlm

    from keras_electra.data import ElectraTokenizer
    from keras_electra.data import bundled_vocabulary_file

    tokenizer = ElectraTokenizer(vocabulary=bundled_vocabulary_file())
    os.makedirs(args.output, exist_ok=True)
    results_path = os.path.join(args.output, "results.json")
    results = {}
    if os.path.exists(results_path):
        with open(results_path) as f:
            results = json.load(f)
    name = variant_name(args)
    for seed in args.seeds:
        key = f"{name}/seed{seed}/{args.steps}"
        done = results.get(key, {})
        if done and (done.get("accuracy") or not args.finetune):
            continue
        started = time.time()
        run_dir = os.path.join(args.output, key.replace("/", "_"))
        encoder_dir, curve = pretrain(args, seed, tokenizer, run_dir)
        run = {"curve": curve, "pretraining_seconds": time.time() - started}
        if args.finetune:
            run.update(electra_vs_mlm.finetune(
                electra_vs_mlm.parse_args([]), encoder_dir,
                os.path.join(run_dir, "classifier"), seed,
            ))
        results[key] = run
        with open(results_path + ".tmp", "w") as f:
            json.dump(results, f, indent=1)
        os.replace(results_path + ".tmp", results_path)
        print(f"{key}: AUC {curve['discriminator_auc'][-1]:.4f}"
              + (f", accuracy {run['accuracy']:.4f}" if args.finetune else ""),
              flush=True)
    return results


if __name__ == "__main__":
    main()
