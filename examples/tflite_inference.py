"""Run an exported ELECTRA classifier the way a phone app would.

The app ships `model_*.tflite` and `vocab.txt`; it tokenizes in plain code
(no TensorFlow), pads to the model's fixed length and calls the LiteRT
interpreter.

    python examples/tflite_inference.py \
        --model saved_models/electra_tiny_demo/tflite/model_dynamic_int8.tflite \
        --text "A moving, beautifully acted film." "Dull and far too long."
"""

import argparse
import os

import numpy as np

from keras_electra.export import SimpleTokenizer
from keras_electra.export import TFLiteRunner
from keras_electra.export import read_manifest


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--text", nargs="+", required=True)
    args = parser.parse_args()

    folder = os.path.dirname(os.path.abspath(args.model))
    tokenizer = SimpleTokenizer(os.path.join(folder, "vocab.txt"))
    runner = TFLiteRunner(args.model, num_threads=2)
    length = runner.input_details["token_ids"]["shape"][1]
    print(read_manifest(args.model).get("quantization"), "model")
    for text in args.text:
        inputs = tokenizer.encode(text, sequence_length=length)
        inputs = {k: np.asarray(v, "int32")[None] for k, v in inputs.items()}
        logits = runner(inputs)["logits"][0]
        probabilities = np.exp(logits) / np.exp(logits).sum()
        print(f"{probabilities.round(3)}  {text}")


if __name__ == "__main__":
    main()
