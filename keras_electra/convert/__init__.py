"""Checkpoint import and export for keras_electra.

- `keras_electra.convert.huggingface`: local Hugging Face ELECTRA folders
  (`config.json` plus `model.safetensors` or `pytorch_model.bin`), in both
  directions.
- `keras_electra.convert.keras_hub_checkpoint`: local keras-hub
  `ElectraBackbone` preset folders.

Both are reached through `from_preset()`; nothing here downloads anything.
This package may use NumPy, `safetensors` and (optionally) torch; the model
and layer code stays on `keras.ops`.
"""

# Imported for their folder readers, which `from_preset` needs whichever
# module a user imports first.
from keras_electra.convert import keras_hub_checkpoint  # noqa: F401
from keras_electra.convert.huggingface import export_to_huggingface
from keras_electra.convert.huggingface import vocabulary_path
