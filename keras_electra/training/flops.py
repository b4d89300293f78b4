"""Training compute of the pre-training objectives, counted analytically.

FLOPs are those of the matrix multiplications (a multiply-add counts 2),
which are all but a percent or two of a transformer's compute; the
element-wise work (softmax, GELU, LayerNorm, dropout) is left out, as in
the ELECTRA paper's accounting of its model sizes. A training step costs
three forward passes (the backward pass computes two products per forward
product), the convention of Kaplan et al. (2020) and Clark et al. (2020).
"""

from keras_electra.api_export import keras_electra_export


@keras_electra_export
def encoder_flops(backbone, sequence_length):
    """Forward FLOPs of an `ElectraBackbone` on one sequence.

    Counts the embedding projection (when `embedding_dim != hidden_dim`),
    the attention projections (query, key, value, output), the two
    attention products (`QK^T` and the weighted sum of values) and the
    feed-forward layers of every layer application. Shared (ALBERT) layers
    cost the same as distinct ones: compute depends on `num_layers`, not on
    `num_groups`.

    Args:
        backbone: `ElectraBackbone`, or its config dict.
        sequence_length: int.

    Example:
    ```python
    from keras_electra.models import ElectraBackbone
    from keras_electra.models.preset_loader import preset_config
    backbone = ElectraBackbone(**preset_config("electra_tiny"))
    print(f"{encoder_flops(backbone, 128) / 1e6:.0f} MFLOPs")
    ```
    """
    c = _config(backbone)
    s, h, e = sequence_length, c["hidden_dim"], c["embedding_dim"]
    projection = 2 * s * e * h if e != h else 0
    per_layer = (
        4 * 2 * s * h * h  # query, key, value, output projections
        + 2 * 2 * s * s * h  # scores and weighted values
        + 2 * 2 * s * h * c["intermediate_dim"]  # feed-forward
    )
    return projection + c["num_layers"] * per_layer


@keras_electra_export
def masked_lm_head_flops(backbone, num_predictions):
    """Forward FLOPs of the tied masked-LM head at `num_predictions` slots.

    Example:
    ```python
    from keras_electra.models.preset_loader import preset_config
    print(masked_lm_head_flops(preset_config("electra_small", "generator"), 19))
    ```
    """
    c = _config(backbone)
    h, e, v = c["hidden_dim"], c["embedding_dim"], c["vocabulary_size"]
    return num_predictions * (2 * h * e + 2 * e * v)


@keras_electra_export
def pretraining_flops_per_example(model, sequence_length):
    """Training FLOPs (forward and backward) of one pre-training example.

    For a `ReplacedTokenDetector`: the generator's encoder on every position
    plus its masked-LM head at the `max_predictions` slots, and the
    discriminator's encoder plus its per-token head (dense, then a score).
    For a `MaskedLMPretrainer`: its encoder plus the masked-LM head at the
    slots. Both then times three (forward + backward).

    Args:
        model: `ReplacedTokenDetector` or `MaskedLMPretrainer`.
        sequence_length: int.

    Returns:
        int, FLOPs per example; multiply by batch size and steps.

    Example:
    ```python
    from keras_electra.models import MaskedLMPretrainer, ReplacedTokenDetector
    rtd = ReplacedTokenDetector.from_preset("electra_tiny")
    mlm = MaskedLMPretrainer.from_preset("electra_tiny")
    ratio = (pretraining_flops_per_example(rtd, 128)
             / pretraining_flops_per_example(mlm, 128))
    print(f"an ELECTRA step costs {ratio:.2f} MLM steps")
    ```
    """
    from keras_electra.models import MaskedLMPretrainer
    from keras_electra.models import ReplacedTokenDetector

    if not isinstance(model, (ReplacedTokenDetector, MaskedLMPretrainer)):
        raise ValueError(
            "Expected a ReplacedTokenDetector or a MaskedLMPretrainer. "
            f"Received: {type(model).__name__}"
        )
    slots = model.masker.num_predictions(sequence_length)
    if isinstance(model, ReplacedTokenDetector):
        generator = model.generator.backbone
        discriminator = model.discriminator.backbone
        h = discriminator.hidden_dim
        forward = (
            encoder_flops(generator, sequence_length)
            + masked_lm_head_flops(generator, slots)
            + encoder_flops(discriminator, sequence_length)
            + sequence_length * (2 * h * h + 2 * h)
        )
    else:
        backbone = model.generator.backbone
        forward = encoder_flops(backbone, sequence_length) + (
            masked_lm_head_flops(backbone, slots)
        )
    return 3 * forward


def _config(backbone):
    if isinstance(backbone, dict):
        config = dict(backbone)
    else:
        config = backbone.get_config()
    config.setdefault("embedding_dim", config["hidden_dim"])
    if config["embedding_dim"] is None:
        config["embedding_dim"] = config["hidden_dim"]
    return config
