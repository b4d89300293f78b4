"""Pre-train ELECTRA on a folder of your own text, then save the discriminator.

    python examples/pretrain_from_folder.py --input my_corpus/ --output runs/mine \
        --preset electra_small --steps 100000 --batch-size 128

The folder may hold .txt and .txt.gz files (documents separated by blank
lines). A vocabulary is trained first unless --vocabulary is given. Killed
runs resume from their last backup when the same command is run again.
"""

import argparse
import os

from keras_electra import workflows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", nargs="+", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--vocabulary")
    parser.add_argument("--vocabulary-size", type=int, default=30522)
    parser.add_argument("--preset", default="electra_small")
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--sequence-length", type=int, default=128)
    args = parser.parse_args()

    vocabulary = args.vocabulary or os.path.join(args.output, "vocab.txt")
    if not os.path.exists(vocabulary):
        workflows.train_vocab(args.input, vocabulary, args.vocabulary_size)
    result = workflows.run_pretraining(
        args.input, args.output, vocabulary=vocabulary, preset=args.preset,
        steps=args.steps, batch_size=args.batch_size,
        sequence_length=args.sequence_length,
    )
    print("discriminator saved to", result["discriminator_dir"])
    print("curves:", result["plot"])


if __name__ == "__main__":
    main()
