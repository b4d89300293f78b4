"""Optimizers, schedules and training utilities."""

from keras_electra.training.optimizers import electra_optimizer
from keras_electra.training.schedules import LinearWarmupLinearDecay
