"""Task metrics: entity-level P/R/F1 (BIO), SQuAD EM/F1, masked accuracy."""

from keras_electra.metrics.entity_metrics import entity_scores
from keras_electra.metrics.entity_metrics import extract_entities
from keras_electra.metrics.entity_metrics import word_level_tags
from keras_electra.metrics.masked_accuracy import MaskedSparseCategoricalAccuracy
from keras_electra.metrics.squad_metrics import normalize_answer
from keras_electra.metrics.squad_metrics import squad_evaluate
from keras_electra.metrics.squad_metrics import squad_exact_match
from keras_electra.metrics.squad_metrics import squad_f1
