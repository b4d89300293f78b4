"""Per-layer mixed precision: low-precision matrix products only."""

import keras

from keras_electra.api_export import keras_electra_export

_MATMUL_LAYERS = (keras.layers.Dense, keras.layers.EinsumDense)


@keras_electra_export
def set_matmul_dtype_policy(model, policy="mixed_bfloat16"):
    """Run a model's dense projections in a mixed-precision policy.

    Sets `policy` on every `keras.layers.Dense` and `keras.layers.EinsumDense`
    inside `model` (attention projections, feed-forward layers, heads) and
    leaves every other layer as it was. With the default, the matrix products
    against weights run in bfloat16 while layer normalization, softmax,
    dropout, residual sums, losses and the variables stay float32: the
    split that PyTorch's CPU autocast makes. Keras' global
    `mixed_bfloat16` policy instead runs *every* layer in bfloat16, and
    TensorFlow's CPU element-wise kernels are slower in bfloat16 than in
    float32, which eats most of the gain on CPUs with AMX or AVX-512 BF16
    (see benchmarks/RESULTS.md, "Pre-training step").

    Call it after the model is built and before `compile()`. Variables keep
    their dtype (the `mixed_*` policies store float32 variables), so saved
    weights are unchanged; the policy itself is not restored by
    `from_preset()` or `load_model()`: call this again after loading.

    Args:
        model: a built `keras.Model` or layer.
        policy: str or `keras.DTypePolicy`. Defaults to `"mixed_bfloat16"`.

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
    changed = 0
    for layer in model._flatten_layers(include_self=True, recursive=True):
        if isinstance(layer, _MATMUL_LAYERS):
            layer.dtype_policy = policy
            changed += 1
    if not changed:
        raise ValueError(
            f"{type(model).__name__} has no Dense or EinsumDense layers "
            "(yet): build the model before calling set_matmul_dtype_policy()."
        )
    return changed
