"""Run an exported ELECTRA classifier the way a phone app would.

Two paths, the same `.tflite` file (`keras-electra export --format tflite`
writes MediaPipe metadata into classifiers and embedders by default):

- MediaPipe Tasks (`--mediapipe`): the app hands MediaPipe's TextClassifier
  raw strings; the tokenizer (vocabulary) and the label names come from the
  file's metadata. Needs `mediapipe` (its own environment here:
  `.venv-mediapipe`, made by `make test`), not TensorFlow or keras_electra.
- The plain LiteRT interpreter: the app tokenizes in plain code
  (`SimpleTokenizer`, no TensorFlow), pads to the model's fixed length and
  calls the interpreter.

    .venv-mediapipe/bin/python examples/tflite_inference.py --mediapipe \
        --model saved_models/electra_tiny_demo/tflite/model_dynamic_int8.tflite \
        --text "A moving, beautifully acted film." "Dull and far too long."
    python examples/tflite_inference.py \
        --model saved_models/electra_tiny_demo/tflite/model_dynamic_int8.tflite \
        --text "A moving, beautifully acted film." "Dull and far too long."

The MediaPipe calls map one to one onto the apps' APIs:

    // Android (Kotlin), com.google.mediapipe:tasks-text
    val options = TextClassifier.TextClassifierOptions.builder()
        .setBaseOptions(BaseOptions.builder()
            .setModelAssetPath("model_dynamic_int8.tflite").build())
        .build()
    val classifier = TextClassifier.createFromOptions(context, options)
    val top = classifier.classify(text).classificationResult()
        .classifications()[0].categories()[0]  // categoryName(), score()

    // iOS (Swift), MediaPipeTasksText
    let classifier = try TextClassifier(modelPath: path)
    let top = try classifier.classify(text: text)
        .classificationResult.classifications[0].categories[0]

A text embedder exported the same way runs in `TextEmbedder`
(`embed(text).embeddings[0]`).
"""

import argparse
import os

import numpy as np


def classify_with_mediapipe(model, texts):
    """`(label, score)` of the top class per text, via MediaPipe Tasks."""
    from mediapipe.tasks import python as mp_python
    from mediapipe.tasks.python import text as mp_text

    options = mp_text.TextClassifierOptions(
        base_options=mp_python.BaseOptions(model_asset_path=model)
    )
    with mp_text.TextClassifier.create_from_options(options) as classifier:
        results = []
        for text in texts:
            categories = classifier.classify(text).classifications[0]
            top = max(categories.categories, key=lambda c: c.score)
            results.append((top.category_name, top.score))
        return results


def classify_with_interpreter(model, texts):
    """Class probabilities per text, via the LiteRT interpreter."""
    from keras_electra.export import SimpleTokenizer
    from keras_electra.export import TFLiteRunner
    from keras_electra.export import read_manifest

    folder = os.path.dirname(os.path.abspath(model))
    tokenizer = SimpleTokenizer(os.path.join(folder, "vocab.txt"))
    runner = TFLiteRunner(model, num_threads=2)
    length = runner.input_details["token_ids"]["shape"][1]
    print(read_manifest(model).get("quantization"), "model")
    results = []
    for text in texts:
        inputs = tokenizer.encode(text, sequence_length=length)
        inputs = {k: np.asarray(v, "int32")[None] for k, v in inputs.items()}
        outputs = runner(inputs)
        if "probabilities" in outputs:  # exported with metadata
            probabilities = outputs["probabilities"][0]
        else:  # `--no-metadata`: logits and probabilities
            logits = outputs["logits"][0]
            probabilities = np.exp(logits) / np.exp(logits).sum()
        results.append(probabilities)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--text", nargs="+", required=True)
    parser.add_argument("--mediapipe", action="store_true",
                        help="Classify raw text with MediaPipe Tasks.")
    args = parser.parse_args()
    if args.mediapipe:
        for text, (label, score) in zip(
            args.text, classify_with_mediapipe(args.model, args.text)
        ):
            print(f"{label} {score:.3f}  {text}")
        return
    for text, probabilities in zip(
        args.text, classify_with_interpreter(args.model, args.text)
    ):
        print(f"{probabilities.round(3)}  {text}")


if __name__ == "__main__":
    main()
