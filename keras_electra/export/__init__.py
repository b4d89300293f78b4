"""Export for serving: SavedModel (TF Serving) and LiteRT (on device).

- `export_saved_model`: versioned SavedModel with a raw-text signature
  (tokenization in the graph) and a token-id signature.
- `export_tflite`: builtin-ops-only `.tflite` for token ids, float32,
  float16, dynamic-range int8 or fully int8, with `vocab.txt` and a manifest;
  classifiers and embedders carry MediaPipe metadata (raw text in MediaPipe
  Tasks), read back with `read_tflite_metadata`.
- `SimpleTokenizer`: the WordPiece tokenizer an app implements, in plain
  Python, matching the training tokenizer.

Exports run under the TensorFlow backend only (weights are portable: train
anywhere, reload under `KERAS_BACKEND=tensorflow`, export).
"""

from keras_electra.export.manifest import read_manifest
from keras_electra.export.manifest import vocabulary_sha256
from keras_electra.export.saved_model import TEXT_SIGNATURE
from keras_electra.export.saved_model import TOKEN_IDS_SIGNATURE
from keras_electra.export.saved_model import ServingModel
from keras_electra.export.saved_model import export_saved_model
from keras_electra.export.saved_model import load_saved_model
from keras_electra.export.simple_tokenizer import SimpleTokenizer
from keras_electra.export.tflite import QUANTIZATIONS
from keras_electra.export.tflite import TFLiteRunner
from keras_electra.export.tflite import calibration_sample
from keras_electra.export.tflite import export_tflite
from keras_electra.export.tflite import list_tflite_ops
from keras_electra.export.tflite import tflite_op_counts
from keras_electra.export.tflite_metadata import read_tflite_metadata

__all__ = [
    "QUANTIZATIONS",
    "TEXT_SIGNATURE",
    "TOKEN_IDS_SIGNATURE",
    "ServingModel",
    "SimpleTokenizer",
    "TFLiteRunner",
    "export_saved_model",
    "export_tflite",
    "list_tflite_ops",
    "tflite_op_counts",
    "load_saved_model",
    "read_manifest",
    "read_tflite_metadata",
    "vocabulary_sha256",
]
