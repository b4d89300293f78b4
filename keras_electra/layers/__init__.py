"""Layers of keras_electra (keras.ops only)."""

from keras_electra.layers.electra_dropout import ElectraDropout
from keras_electra.layers.electra_embedding import ElectraEmbedding
from keras_electra.layers.electra_masked_lm_head import ElectraMaskedLMHead
from keras_electra.layers.electra_masker import ElectraMasker
from keras_electra.layers.electra_self_attention import ElectraSelfAttention
from keras_electra.layers.electra_self_attention import attention_for_export
from keras_electra.layers.electra_transformer_encoder import (
    ElectraTransformerEncoder,
)
from keras_electra.layers.sampling import gumbel_max_sample
from keras_electra.layers.sentence_order import swap_segments
