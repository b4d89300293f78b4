"""Pre-train on several GPUs, several workers or a TPU with plain fit().

One process per machine; the strategy is picked from the backend and the
environment:

    # all local GPUs (TensorFlow backend, MirroredStrategy)
    KERAS_BACKEND=tensorflow python examples/multi_gpu_pretrain.py \
        --input corpus/ --vocabulary vocab.txt --output runs/mirrored

    # several machines: set TF_CONFIG on each, same command everywhere
    # (MultiWorkerMirroredStrategy); or --strategy tpu --tpu NAME

    # JAX: keras.distribution.DataParallel over all local devices
    KERAS_BACKEND=jax python examples/multi_gpu_pretrain.py ...

--batch-size is the global batch; each replica gets its share.
"""

import argparse

from keras_electra.data import ElectraTokenizer
from keras_electra.data import pretraining_dataset
from keras_electra.models import ReplacedTokenDetector
from keras_electra.training import get_strategy
from keras_electra.training import pretrain
from keras_electra.workflows import special_token_ids


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", nargs="+", required=True)
    parser.add_argument("--vocabulary", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--preset", default="electra_small")
    parser.add_argument("--strategy", default="auto")
    parser.add_argument("--tpu")
    parser.add_argument("--steps", type=int, default=100000)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()

    tokenizer = ElectraTokenizer(vocabulary=args.vocabulary)
    strategy = get_strategy(args.strategy, tpu=args.tpu)

    def build():
        model = ReplacedTokenDetector.from_preset(
            args.preset,
            vocabulary_size=tokenizer.vocabulary_size(),
            mask_token_id=tokenizer.mask_token_id,
            unselectable_token_ids=special_token_ids(tokenizer),
            seed=0,
        )
        model.compile(train_steps=args.steps)
        return model

    def dataset():
        return pretraining_dataset(
            args.input, tokenizer, batch_size=args.batch_size, seed=0,
            repeat=True,
        )

    result = pretrain(
        build, dataset, steps=args.steps, backup_dir=args.output + "/backups",
        strategy=strategy,
    )
    result["model"].discriminator.save_to_preset(args.output + "/discriminator")


if __name__ == "__main__":
    main()
