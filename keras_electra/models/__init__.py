"""Backbones and tasks of keras_electra."""

from keras_electra.models.electra_backbone import ElectraBackbone
from keras_electra.models.electra_discriminator import ElectraDiscriminator
from keras_electra.models.electra_generator import ElectraGenerator
from keras_electra.models.electra_model import ElectraPresetMixin
from keras_electra.models.electra_presets import PRESETS
from keras_electra.models.replaced_token_detector import ReplacedTokenDetector
from keras_electra.models.masked_lm_pretrainer import MaskedLMPretrainer
from keras_electra.models.electra_classifier import ElectraClassifier
from keras_electra.models.electra_classifier import ElectraTextClassifier
from keras_electra.models.electra_question_answerer import ElectraQuestionAnswerer
from keras_electra.models.electra_text_embedder import ElectraTextEmbedder
from keras_electra.models.electra_text_embedder import EmbeddingIndex
from keras_electra.models.electra_text_embedder import contrastive_trainer
from keras_electra.models.electra_token_classifier import ElectraTokenClassifier

# Classes a compiled model's saved config refers to (its optimizer and
# learning-rate schedule) must be registered before any reload.
import keras_electra.optimizers.layerwise_decay  # noqa: E402,F401
import keras_electra.optimizers.schedules  # noqa: E402,F401
