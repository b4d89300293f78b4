"""Learning-rate schedules of the original ELECTRA recipe (keras.ops only)."""

import keras
from keras import ops

from keras_electra.api_export import keras_electra_export


@keras_electra_export
class LinearWarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup to a peak, then linear decay to `end_learning_rate`.

    As in the original ELECTRA and BERT optimizers: during the first
    `warmup_steps` steps the rate is `peak * step / warmup_steps`; after
    that it follows the linear (power 1) polynomial decay from `peak` at step
    0 to `end_learning_rate` at `decay_steps`, measured from step 0, so the
    curve is continuous only approximately at the end of warmup (exactly as
    the original).

    Args:
        peak_learning_rate: float.
        warmup_steps: int. Defaults to `10000`.
        decay_steps: int. Step at which the rate reaches the end value
            (the total number of training steps). Defaults to `1000000`.
        end_learning_rate: float. Defaults to `0.0`.

    Example:
    ```python
    schedule = LinearWarmupLinearDecay(1e-3, warmup_steps=10, decay_steps=100)
    assert abs(float(schedule(5)) - 5e-4) < 1e-9
    assert abs(float(schedule(100))) < 1e-9
    ```
    """

    def __init__(
        self,
        peak_learning_rate,
        warmup_steps=10000,
        decay_steps=1000000,
        end_learning_rate=0.0,
    ):
        if decay_steps <= 0:
            raise ValueError(f"`decay_steps` must be > 0. Received {decay_steps}")
        self.peak_learning_rate = peak_learning_rate
        self.warmup_steps = warmup_steps
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate

    def __call__(self, step):
        step = ops.cast(step, "float32")
        progress = ops.minimum(step, self.decay_steps) / self.decay_steps
        decayed = (self.peak_learning_rate - self.end_learning_rate) * (
            1.0 - progress
        ) + self.end_learning_rate
        if not self.warmup_steps:
            return decayed
        warmup = self.peak_learning_rate * step / self.warmup_steps
        return ops.where(step < self.warmup_steps, warmup, decayed)

    def get_config(self):
        return {
            "peak_learning_rate": self.peak_learning_rate,
            "warmup_steps": self.warmup_steps,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
        }
