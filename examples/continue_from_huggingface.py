"""Continue pre-training from a local Hugging Face ELECTRA checkpoint.

Download (elsewhere) `google/electra-small-discriminator` and
`google/electra-small-generator` with their `config.json`,
`model.safetensors` (or `pytorch_model.bin`) and `vocab.txt`, then:

    python examples/continue_from_huggingface.py \
        --discriminator electra-small-discriminator \
        --generator electra-small-generator \
        --input my_domain_corpus/ --output runs/domain --steps 5000

The checkpoint's own vocabulary is used so token ids match it exactly; the
optimizer starts fresh (the checkpoint has no optimizer state).
"""

import argparse
import os

from keras_electra import workflows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--discriminator", required=True)
    parser.add_argument("--generator", required=True)
    parser.add_argument("--input", nargs="+", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    args = parser.parse_args()

    vocabulary = os.path.join(args.discriminator, "vocab.txt")
    result = workflows.run_pretraining(
        args.input, args.output, vocabulary=vocabulary,
        init_from=args.discriminator,
        generator_init_from=args.generator, steps=args.steps,
        batch_size=args.batch_size, learning_rate=args.learning_rate,
    )
    print("continued discriminator:", result["discriminator_dir"])


if __name__ == "__main__":
    main()
