"""Pre-train on several GPUs, several workers or a TPU from Python.

The same job as `keras-electra pretrain --strategy ...` (unigram output-bias
start, backups and resume, TensorBoard logs, history and plots), from a
script. One process per machine:

    # all local GPUs (TensorFlow backend, MirroredStrategy)
    KERAS_BACKEND=tensorflow python examples/multi_gpu_pretrain.py \
        --input corpus/ --vocabulary vocab.txt --output runs/mirrored

    # several machines: set TF_CONFIG on each, same command everywhere
    # (MultiWorkerMirroredStrategy); or --strategy tpu --tpu NAME

    # JAX: keras.distribution.DataParallel over all local devices
    KERAS_BACKEND=jax python examples/multi_gpu_pretrain.py ...

--batch-size is the global batch; each replica gets its share. Every
`keras-electra pretrain` flag is accepted (see `--help`).
"""

import argparse

from keras_electra.jobs import pretrain


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    pretrain.PretrainConfig.add_arguments(parser)
    parser.set_defaults(preset="electra_small", steps=100000, batch_size=128)
    config = pretrain.PretrainConfig.from_args(parser.parse_args())
    result = pretrain.run(config)
    print(f"{result['replicas']} replica(s); encoder: {result['encoder_dir']}")


if __name__ == "__main__":
    main()
