"""Layer-wise learning-rate decay and the ELECTRA fine-tuning optimizer.

Convention (ours, and what the ELECTRA authors say they intended; see
google-research/electra issue #51): the task head counts as one extra layer
on top of the encoder and keeps the full rate. With `n` transformer layers
and decay `d`:

- task head (every variable outside the backbone): `1.0`
- transformer layer `i` (0-based, bottom to top): `d ** (n - i)`, so the
  top layer gets `d ** 1`
- embeddings and the embedding projection: `d ** (n + 1)`

The original code (`model/optimization.py`) has an off-by-one left over
from the removed pooler: it gives the top layer `d ** 2` and the embeddings
`d ** (n + 2)`, i.e. every encoder rate is one more factor `d` smaller than
here. With ALBERT-style sharing (`num_groups < num_layers`) a shared weight
set gets the rate of the highest layer that uses it.
"""

import keras
from keras import ops

from keras_electra.api_export import keras_electra_export
from keras_electra.keras_workarounds import optimizer_variable_index
from keras_electra.keras_workarounds import uses_weight_decay
from keras_electra.optimizers.electra_optimizer import NO_DECAY_VARIABLE_NAMES
from keras_electra.optimizers.schedules import LinearWarmupLinearDecay

# The paper's fine-tuning hyper-parameters (Clark et al., 2020, appendix,
# Table 7). Epochs are 3 except 10 for RTE and STS-B and 2 for SQuAD. The
# released code (configure_finetuning.py) agrees on the epochs, the batch
# size, warmup 0.1 and the large-model values (5e-5, decay 0.9); its default
# rate is 1e-4 (3e-4 is passed for Small) and its default weight decay is
# 0.01, where the paper's table says 0.
# Shared by every size; each size sets its rate and layer-wise decay.
_FINE_TUNING_COMMON = {
    "batch_size": 32,
    "epochs": 3,
    "weight_decay": 0.0,
    "warmup_fraction": 0.1,
    "dropout": 0.1,
    "adam_epsilon": 1e-6,
    "beta_1": 0.9,
    "beta_2": 0.999,
}
FINE_TUNING_PRESETS = {
    size: {
        "learning_rate": learning_rate,
        "layerwise_decay": decay,
        **_FINE_TUNING_COMMON,
    }
    for size, learning_rate, decay in (
        ("small", 3e-4, 0.8),
        ("base", 1e-4, 0.8),
        ("large", 5e-5, 0.9),
    )
}
# Tasks the paper trains longer (or shorter) than 3 epochs.
FINE_TUNING_EPOCHS = {"rte": 10, "stsb": 10, "squad": 2}


def layerwise_learning_rate_multipliers(model, decay=0.8):
    """Map every trainable variable path of `model` to its rate multiplier.

    See the module docstring for the convention (top layer `decay ** 1`,
    embeddings `decay ** (num_layers + 1)`, heads `1.0`).

    Args:
        model: an `ElectraBackbone` or a model with a `backbone` attribute.
        decay: float. Per-layer decay factor. Defaults to `0.8`.

    Returns:
        dict from `variable.path` to float.

    Example:
    ```python
    from keras_electra.models import ElectraBackbone
    backbone = ElectraBackbone.from_preset("electra_tiny")
    m = layerwise_learning_rate_multipliers(backbone, decay=0.5)
    assert m["transformer_layer_3/feedforward_output_dense/kernel"] == 0.5
    assert m["embeddings/token_embedding/embeddings"] == 0.5 ** 5
    ```
    """
    backbone = getattr(model, "backbone", model)
    num_layers = backbone.num_layers
    per_group = num_layers // backbone.num_groups
    depth = {}
    for group, layer in enumerate(backbone.transformer_layers):
        top = (group + 1) * per_group - 1
        for variable in layer.weights:
            depth[id(variable)] = num_layers - top
    embedding_layers = [backbone.embeddings, backbone.embeddings_projection]
    for layer in embedding_layers:
        if layer is not None:
            for variable in layer.weights:
                depth[id(variable)] = num_layers + 1
    multipliers = {}
    for variable in model.trainable_variables:
        multipliers[variable.path] = float(
            decay ** depth.get(id(variable), 0)
        )
    return multipliers


@keras_electra_export
class LayerwiseAdamW(keras.optimizers.Adam):
    """AdamW with a learning-rate multiplier per variable.

    The update of a variable with path `p` uses the rate
    `learning_rate * learning_rate_multipliers.get(p, 1.0)`, for the Adam
    step and for the decoupled weight decay alike (as the original ELECTRA
    `AdamWeightDecayOptimizer` does). Multipliers are matched to variables
    by path once, when the optimizer is built, and the update runs
    variable by variable on every backend (TensorFlow, JAX and torch), so it
    is traced into the compiled train step like any Keras optimizer. Build
    the multipliers with `layerwise_learning_rate_multipliers()`, or use
    `fine_tuning_optimizer()`.

    Args:
        learning_rate: float or schedule. Defaults to `1e-4`.
        learning_rate_multipliers: dict from variable path to float.
            Variables not listed get `1.0`. Defaults to `None`.
        weight_decay: float. Decoupled weight decay rate; LayerNorm
            parameters and biases are excluded by `fine_tuning_optimizer`.
            Defaults to `0.0`.
        beta_1: float. Defaults to `0.9`.
        beta_2: float. Defaults to `0.999`.
        epsilon: float. Defaults to `1e-6`.
        no_decay_names: list of str. Variables whose name contains one of
            these strings get no weight decay (saved with the config).
            Defaults to `None`.
        **kwargs: other `keras.optimizers.Optimizer` arguments
            (`global_clipnorm`, ...).

    Example:
    ```python
    import numpy as np
    import keras
    layer = keras.layers.Dense(1, name="top")
    layer.build((None, 2))
    opt = LayerwiseAdamW(1e-2, {"top/kernel": 0.5})
    opt.apply([np.ones((2, 1)), np.ones((1,))], layer.trainable_variables)
    ```
    """

    def __init__(
        self,
        learning_rate=1e-4,
        learning_rate_multipliers=None,
        weight_decay=0.0,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-6,
        no_decay_names=None,
        name="layerwise_adamw",
        **kwargs,
    ):
        kwargs.pop("amsgrad", None)
        # Weight decay is applied in `update_step` (per-variable rate), not
        # by the base class, which would use the global rate.
        kwargs.pop("weight_decay", None)
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            name=name,
            **kwargs,
        )
        self.learning_rate_multipliers = dict(learning_rate_multipliers or {})
        self.decoupled_weight_decay = float(weight_decay or 0.0)
        self.no_decay_names = list(no_decay_names or [])
        if self.no_decay_names:
            self.exclude_from_weight_decay(var_names=self.no_decay_names)
        self._multipliers = []
        self._decays = []
        self._unbuilt_variables = None

    def build(self, var_list):
        if self.built:
            return
        # The step counter (and a constant rate): what a saved optimizer
        # holds when it was saved before its first step.
        self._unbuilt_variables = len(self.variables)
        super().build(var_list)
        self._multipliers = [
            float(self.learning_rate_multipliers.get(v.path, 1.0))
            for v in var_list
        ]
        self._decays = [
            bool(self.decoupled_weight_decay) and uses_weight_decay(self, v)
            for v in var_list
        ]

    def multiplier(self, variable):
        """The rate multiplier of `variable` (a built-in Keras variable).

        Example:
        ```python
        opt = LayerwiseAdamW(1e-3, {"a/kernel": 0.5})
        ```
        """
        return float(self.learning_rate_multipliers.get(variable.path, 1.0))

    def update_step(self, gradient, variable, learning_rate):
        index = optimizer_variable_index(self, variable)
        learning_rate = ops.multiply(
            ops.cast(learning_rate, variable.dtype), self._multipliers[index]
        )
        if self._decays[index]:
            self.assign_sub(
                variable,
                ops.multiply(
                    variable,
                    ops.multiply(learning_rate, self.decoupled_weight_decay),
                ),
            )
        super().update_step(gradient, variable, learning_rate)

    def load_own_variables(self, store):
        """Load saved state; a state saved before the first step loads too.

        A task compiled by `from_preset` and saved untrained holds only the
        step counter (and a constant rate); the reloaded task builds its
        moments at `compile`. Keras would skip the whole state with a
        warning; here the counter loads and the moments stay at zero, which
        is what the saved optimizer had.

        Example:
        ```python
        import keras
        from keras_electra.models import ElectraClassifier
        model = ElectraClassifier.from_preset("electra_tiny", num_classes=2)
        model.save("/tmp/untrained.keras")
        restored = keras.saving.load_model("/tmp/untrained.keras")
        ```
        """
        saved = len(store.keys())
        if (self.built and saved == self._unbuilt_variables
                and saved < len(self.variables)):
            for index in range(saved):
                self.variables[index].assign(store[str(index)])
            return
        super().load_own_variables(store)

    def get_config(self):
        config = super().get_config()
        config.pop("amsgrad", None)
        config["weight_decay"] = self.decoupled_weight_decay
        config["no_decay_names"] = list(self.no_decay_names)
        config["learning_rate_multipliers"] = dict(
            self.learning_rate_multipliers
        )
        return config


def fine_tuning_optimizer(
    model,
    learning_rate=1e-4,
    train_steps=None,
    warmup_fraction=0.1,
    layerwise_decay=0.8,
    weight_decay=0.0,
    clipnorm=1.0,
    epsilon=1e-6,
):
    """The ELECTRA fine-tuning optimizer for `model`.

    AdamW (beta 0.9/0.999, epsilon 1e-6) with layer-wise learning-rate decay
    (`layerwise_learning_rate_multipliers`), decoupled weight decay that
    skips LayerNorm parameters and biases, global-norm clipping, and a
    linear warmup over `warmup_fraction * train_steps` steps followed by a
    linear decay to 0 at `train_steps`. Without `train_steps` the rate is
    constant. The paper's values per size are in `FINE_TUNING_PRESETS`.

    Args:
        model: a task model (with a `backbone`) or an `ElectraBackbone`.
        learning_rate: float. Peak rate. Defaults to `1e-4`.
        train_steps: int or None. Total optimizer steps. Defaults to `None`.
        warmup_fraction: float. Defaults to `0.1`.
        layerwise_decay: float. Use `1.0` to turn the decay off. Defaults to
            `0.8`.
        weight_decay: float. Defaults to `0.0` (the paper's fine-tuning
            value).
        clipnorm: float or None. Defaults to `1.0`.
        epsilon: float. Adam epsilon. Defaults to `1e-6`.

    Example:
    ```python
    from keras_electra.models import ElectraClassifier
    model = ElectraClassifier.from_preset("electra_tiny", num_classes=2)
    optimizer = fine_tuning_optimizer(model, 3e-4, train_steps=1000)
    model.compile(optimizer=optimizer)
    ```
    """
    if train_steps:
        schedule = LinearWarmupLinearDecay(
            learning_rate,
            warmup_steps=int(round(warmup_fraction * train_steps)),
            decay_steps=int(train_steps),
        )
    else:
        schedule = learning_rate
    optimizer = LayerwiseAdamW(
        learning_rate=schedule,
        learning_rate_multipliers=layerwise_learning_rate_multipliers(
            model, layerwise_decay
        ),
        weight_decay=weight_decay,
        epsilon=epsilon,
        global_clipnorm=clipnorm,
        no_decay_names=NO_DECAY_VARIABLE_NAMES,
    )
    return optimizer
