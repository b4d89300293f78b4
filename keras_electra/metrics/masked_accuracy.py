"""Token accuracy that skips ignored labels (keras.ops; runs in graphs)."""

import keras
from keras import ops

from keras_electra.api_export import keras_electra_export


@keras_electra_export
class MaskedSparseCategoricalAccuracy(keras.metrics.Mean):
    """Accuracy of `argmax(y_pred)` over positions whose label is not ignored.

    Positions with label `ignore_class` (`-100`: later word pieces, special
    tokens, padding) and positions with sample weight 0 do not count.

    Args:
        ignore_class: int. Defaults to `-100`.
        name: str. Defaults to `"accuracy"`.

    Example:
    ```python
    import numpy as np
    metric = MaskedSparseCategoricalAccuracy()
    y_true = np.array([[-100, 1, 0, -100]])
    y_pred = np.array([[[0., 9.], [0., 1.], [0., 1.], [5., 0.]]])
    metric.update_state(y_true, y_pred)
    assert float(metric.result()) == 0.5
    ```
    """

    def __init__(self, ignore_class=-100, name="accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.ignore_class = ignore_class

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "int32")
        predicted = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
        weights = ops.cast(ops.not_equal(y_true, self.ignore_class), "float32")
        if sample_weight is not None:
            weights = weights * ops.cast(sample_weight, "float32")
        matches = ops.cast(ops.equal(predicted, y_true), "float32")
        return super().update_state(matches, sample_weight=weights)

    def get_config(self):
        return {
            "ignore_class": self.ignore_class,
            "name": self.name,
            "dtype": self.dtype,
        }
