"""Backbones and tasks of keras_electra."""

from keras_electra.models.electra_backbone import ElectraBackbone
from keras_electra.models.electra_discriminator import ElectraDiscriminator
from keras_electra.models.electra_generator import ElectraGenerator
from keras_electra.models.electra_model import ElectraModel
from keras_electra.models.electra_presets import PRESETS
from keras_electra.models.replaced_token_detector import ReplacedTokenDetector
