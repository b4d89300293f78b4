"""The `export` job: SavedModel (TF Serving) and LiteRT files."""

import dataclasses
import os

from keras_electra.data.tokenizer_config import load_tokenizer
from keras_electra.jobs.evaluate import load_labels
from keras_electra.jobs.options import JobConfig
from keras_electra.jobs.options import option
from keras_electra.jobs.options import require_tensorflow
from keras_electra.jobs.task_data import load_task

NAME = "export"
HELP = "Export to SavedModel (TF Serving) and LiteRT."
FORMATS = ("saved_model", "tflite")
QUANTIZATION_NAMES = ("float32", "float16", "dynamic_int8", "full_int8")


@dataclasses.dataclass
class ExportConfig(JobConfig):
    """The `export` job's options.

    Example:
    ```python
    from keras_electra.jobs.export import ExportConfig, run
    run(ExportConfig(model="saved_models/electra_tiny_demo/classifier",
                     output="/tmp/exported", format=["tflite"],
                     quantization=["dynamic_int8"]))
    ```
    """

    required = ("model", "output")

    model: str = option(None, "Model folder (discriminator/classifier).")
    output: str = option(None, "Artifact folder.")
    format: list = option(
        list(FORMATS), "Artifacts to write.", nargs="+", choices=FORMATS)
    quantization: list = option(
        list(QUANTIZATION_NAMES), "LiteRT variants to write.", nargs="+",
        choices=QUANTIZATION_NAMES)
    sequence_length: int = option(128, "Fixed LiteRT input length.",
                                  type=int)
    metadata: bool = option(
        None, "LiteRT files of classifiers and embedders carry MediaPipe "
        "metadata (tokenizer, labels; MediaPipe TextClassifier / "
        "TextEmbedder then take raw text) by default; --no-metadata gives "
        "the plain token-id model with all its outputs.",
        flag="--no-metadata", action="store_const", const=False)


def run_export(
    model_dir,
    output_dir,
    formats=("saved_model", "tflite"),
    quantizations=(None, "float16", "dynamic_int8", "full_int8"),
    sequence_length=128,
    calibration_task="rotten_tomatoes",
    calibration_examples=200,
    metadata=None,
):
    """Export a saved model folder to SavedModel and/or LiteRT files.

    Runs under the TensorFlow backend only (see `keras_electra.export`).
    LiteRT files of text classifiers and embedders carry MediaPipe metadata
    unless `metadata=False` (see `export_tflite`); a classifier's label
    names come from the folder's `labels.json` (written by
    `run_finetuning`).

    Returns:
        dict of artifact path -> size in bytes.

    Example:
    ```python
    run_export("saved_models/electra_tiny_demo/classifier",
               "saved_models/electra_tiny_demo", quantizations=(None,))
    ```
    """
    from keras_electra import export
    from keras_electra.models import ElectraPresetMixin

    tokenizer = load_tokenizer(model_dir)
    model = ElectraPresetMixin.from_preset(model_dir)  # whatever was saved
    artifacts = {}
    if "saved_model" in formats:
        path = export.export_saved_model(
            model, os.path.join(output_dir, "serving"), tokenizer=tokenizer,
            sequence_length=sequence_length,
        )
        artifacts[path] = _folder_size(path)
    if "tflite" in formats:
        labels = None
        if export.tflite_metadata.metadata_kind(model, metadata) == (
            "classifier"
        ):
            _, labels = load_labels(model_dir)
        texts = None
        if "full_int8" in quantizations:
            texts, _, _ = load_task(calibration_task, "train")
            texts = export.calibration_sample(texts, calibration_examples)
        for quantization in quantizations:
            name = f"model_{quantization or 'float32'}.tflite"
            path = os.path.join(output_dir, "tflite", name)
            export.export_tflite(
                model, path, quantization=quantization,
                representative_data=texts if quantization == "full_int8"
                else None,
                sequence_length=sequence_length, tokenizer=tokenizer,
                metadata=metadata, labels=labels,
            )
            artifacts[path] = os.path.getsize(path)
    return artifacts


def _folder_size(path):
    total = 0
    for root, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total


def run(config):
    """Write the artifacts; returns `{path: bytes}`."""
    config.validate()
    require_tensorflow("SavedModel and LiteRT export")
    return run_export(
        config.model, config.output, formats=config.format,
        quantizations=[
            None if q == "float32" else q for q in config.quantization
        ],
        sequence_length=config.sequence_length, metadata=config.metadata,
    )


def report(config, artifacts):
    for path, size in artifacts.items():
        print(f"{size / 1e6:8.2f} MB  {path}")


# The config the command line is built from.
Config = ExportConfig
