"""Optimizers and learning-rate schedules of ELECTRA's recipes.

Apart from `keras_electra.training` (which drives the models) so the
models' `compile()` defaults can use them without importing it back.
"""

from keras_electra.optimizers.electra_optimizer import NO_DECAY_VARIABLE_NAMES
from keras_electra.optimizers.electra_optimizer import electra_optimizer
from keras_electra.optimizers.layerwise_decay import FINE_TUNING_PRESETS
from keras_electra.optimizers.layerwise_decay import LayerwiseAdamW
from keras_electra.optimizers.layerwise_decay import fine_tuning_optimizer
from keras_electra.optimizers.layerwise_decay import (
    layerwise_learning_rate_multipliers,
)
from keras_electra.optimizers.schedules import LinearWarmupLinearDecay

__all__ = [
    "FINE_TUNING_PRESETS",
    "LayerwiseAdamW",
    "LinearWarmupLinearDecay",
    "NO_DECAY_VARIABLE_NAMES",
    "electra_optimizer",
    "fine_tuning_optimizer",
    "layerwise_learning_rate_multipliers",
]
