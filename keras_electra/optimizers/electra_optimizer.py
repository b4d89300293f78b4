"""Optimizer factory for ELECTRA pre-training and fine-tuning."""

import keras

from keras_electra.optimizers.schedules import LinearWarmupLinearDecay

# Variable names excluded from weight decay: LayerNorm scale and offset, and
# every bias (embeddings are decayed, as in the original code).
NO_DECAY_VARIABLE_NAMES = ["gamma", "beta", "bias"]


def electra_optimizer(
    learning_rate=5e-4,
    train_steps=1000000,
    warmup_steps=10000,
    weight_decay=0.01,
    clipnorm=1.0,
    end_learning_rate=0.0,
):
    """AdamW with the original ELECTRA hyper-parameters.

    beta_1 0.9, beta_2 0.999, epsilon 1e-6, decoupled weight decay 0.01 on
    every weight except LayerNorm parameters and biases, gradients clipped to
    a global norm of 1.0, and `LinearWarmupLinearDecay`. Keras' AdamW applies
    bias correction, which the original optimizer omits; with warmup the
    difference vanishes after the first few thousand steps.

    Args:
        learning_rate: float. Peak learning rate (5e-4 for ELECTRA-Small,
            2e-4 for Base and Large). Defaults to `5e-4`.
        train_steps: int. Total steps; the rate reaches `end_learning_rate`
            there. Defaults to `1000000`.
        warmup_steps: int. Defaults to `10000`.
        weight_decay: float. Defaults to `0.01`.
        clipnorm: float or None. Global gradient-norm clip. Defaults to `1.0`.
        end_learning_rate: float. Defaults to `0.0`.

    Example:
    ```python
    optimizer = electra_optimizer(learning_rate=1e-3, train_steps=1000,
                                  warmup_steps=100)
    ```
    """
    schedule = LinearWarmupLinearDecay(
        learning_rate,
        warmup_steps=warmup_steps,
        decay_steps=train_steps,
        end_learning_rate=end_learning_rate,
    )
    optimizer = keras.optimizers.AdamW(
        learning_rate=schedule,
        weight_decay=weight_decay,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-6,
        global_clipnorm=clipnorm,
    )
    optimizer.exclude_from_weight_decay(var_names=NO_DECAY_VARIABLE_NAMES)
    return optimizer
