"""Layers of keras_electra (keras.ops only)."""

from keras_electra.layers.electra_embedding import ElectraEmbedding
from keras_electra.layers.electra_masked_lm_head import ElectraMaskedLMHead
