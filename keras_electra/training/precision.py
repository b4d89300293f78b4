"""Per-layer mixed precision: low-precision matrix products only."""

import keras
from keras import ops

from keras_electra.api_export import keras_electra_export
from keras_electra.keras_workarounds import flatten_layers
from keras_electra.layers.electra_self_attention import ElectraSelfAttention

_MATMUL_LAYERS = (keras.layers.Dense, keras.layers.EinsumDense)
_ATTENTION_LAYERS = (ElectraSelfAttention, keras.layers.MultiHeadAttention)


@keras_electra_export
class Float32Activation:
    """An activation computed in float32 whatever its input's dtype.

    `set_matmul_dtype_policy()` wraps the activations of the dense layers it
    switches to a low-precision policy with this: the matrix product runs in
    bfloat16 and the (element-wise, on CPUs often slower in bfloat16) GELU
    runs in float32 on the upcast result, which the float32 layers after it
    (dropout, residual sum, layer normalization) would upcast anyway.

    Args:
        activation: str or callable, any `keras.activations.get()` input.

    Example:
    ```python
    import numpy as np
    from keras_electra.training import Float32Activation
    gelu = Float32Activation("gelu")
    y = gelu(np.ones((2, 3), "float16"))
    assert "float32" in str(y.dtype)
    ```
    """

    def __init__(self, activation):
        if isinstance(activation, Float32Activation):
            activation = activation.activation
        self.activation = keras.activations.get(activation)

    def __call__(self, x):
        return self.activation(ops.cast(x, "float32"))

    def get_config(self):
        return {"activation": keras.activations.serialize(self.activation)}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        name = getattr(self.activation, "__name__", repr(self.activation))
        return f"Float32Activation({name})"


@keras_electra_export
def set_matmul_dtype_policy(
    model, policy="mixed_bfloat16", float32_activations=True
):
    """Run a model's dense projections in a mixed-precision policy.

    Sets `policy` on every `keras.layers.Dense` and `keras.layers.EinsumDense`
    inside `model` (attention projections, feed-forward layers, heads) and on
    every attention layer (`ElectraSelfAttention`, Keras'
    `MultiHeadAttention`) with the dropout layer it applies
    to the attention probabilities, so the two attention products
    (query x key, probabilities x value) run in `policy` too; its softmax
    and every other layer keep their policy. With the default, the matrix
    products run in bfloat16 while layer normalization, softmax, residual
    dropout and sums, losses and the variables stay float32: the split
    that PyTorch's CPU autocast makes. Keras' global
    `mixed_bfloat16` policy instead runs *every* layer in bfloat16, and
    TensorFlow's CPU element-wise kernels are slower in bfloat16 than in
    float32, which eats most of the gain on CPUs with AMX or AVX-512 BF16
    (see benchmarks/RESULTS.md, "Pre-training step"). For the same reason
    the activations fused into those layers (the feed-forward and head
    GELUs) are computed in float32 on the upcast product by default
    (`Float32Activation`); their output is then float32, which the
    float32 layers after them would have cast to anyway.

    Call it after the model is built and before training starts: the policy
    is read when the train step is traced, so before or after `compile()`
    both work (`run_pretraining` calls it after). Variables keep
    their dtype (the `mixed_*` policies store float32 variables), so saved
    weights are unchanged; the policy itself is not restored by
    `from_preset()` or `load_model()`: call this again after loading.

    Args:
        model: a built `keras.Model` or layer.
        policy: str or `keras.DTypePolicy`. Defaults to `"mixed_bfloat16"`.
            `"float32"` undoes an earlier call (activations included).
        float32_activations: bool. Whether the non-linear activations of
            the changed layers run in float32 when `policy` computes in a
            lower precision. Defaults to `True`.

    Returns:
        int, the number of layers changed.

    Raises:
        ValueError: if `model` has no dense layers (for example, a layer
            that is not built yet).

    Example:
    ```python
    from keras_electra.models import ReplacedTokenDetector
    from keras_electra.training import set_matmul_dtype_policy
    rtd = ReplacedTokenDetector.from_preset("electra_tiny", vocabulary_size=1000)
    assert set_matmul_dtype_policy(rtd) > 0
    rtd.compile(learning_rate=1e-3, train_steps=100, warmup_steps=10)
    ```
    """
    policy = keras.dtype_policies.get(policy)
    wrap = float32_activations and policy.compute_dtype != "float32"
    layers = list(flatten_layers(model, include_self=True, recursive=True))
    if not any(isinstance(layer, _MATMUL_LAYERS) for layer in layers):
        raise ValueError(
            f"{type(model).__name__} has no Dense or EinsumDense layers "
            "(yet): build the model before calling set_matmul_dtype_policy()."
        )
    changed = 0
    for layer in layers:
        if isinstance(layer, _ATTENTION_LAYERS):
            # The probabilities' dropout feeds the probabilities x value
            # product: it must match the value's dtype (PyTorch's einsum
            # does not promote mixed dtypes).
            for inner in flatten_layers(layer, include_self=True):
                if inner is layer or isinstance(inner, keras.layers.Dropout):
                    inner.dtype_policy = policy
                    changed += 1
        if not isinstance(layer, _MATMUL_LAYERS):
            continue
        layer.dtype_policy = policy
        changed += 1
        activation = getattr(layer, "activation", None)
        if isinstance(activation, Float32Activation):
            if not wrap:
                layer.activation = activation.activation
        elif wrap and activation not in (None, keras.activations.linear):
            layer.activation = Float32Activation(activation)
    return changed
