"""Static-shape selection and masking of positions for ELECTRA and BERT."""

import keras
from keras import ops

from keras_electra.api_export import keras_electra_export


@keras_electra_export
class ElectraMasker(keras.layers.Layer):
    """Choose positions to predict and mask them, with static shapes.

    For each sequence, `k = max(1, min(max_predictions, round(mask_rate *
    n)))` positions are chosen, where `n` is the number of real
    (`padding_mask == 1`) tokens, as in the original ELECTRA code. Positions
    holding one of `unselectable_token_ids` (`[PAD]`, `[CLS]`, `[SEP]`,
    `[MASK]`) and padding are never chosen. The original samples positions
    with replacement; this layer chooses `k` distinct positions (uniformly,
    by ranking random scores), so no prediction slot is wasted on a
    duplicate.

    A chosen position becomes `mask_token_id` with probability
    `mask_token_rate`, a uniformly random token with probability
    `random_token_rate`, and stays unchanged otherwise. ELECTRA's default is
    85% / 0% / 15%; BERT's is 80% / 10% / 10%.

    Shapes never depend on the data: the outputs always have
    `max_predictions` slots, and slots beyond `k` carry weight 0 (and point
    at position 0). Randomness comes from a `SeedGenerator` this layer owns,
    so it is fresh at every step, also under `jit` on JAX.

    Args:
        vocabulary_size: int. Used to draw random replacement tokens.
        mask_token_id: int. Id of `[MASK]`.
        unselectable_token_ids: list of int. Ids never chosen. Defaults to
            `(0, 2, 3, 4)`: `[PAD]`, `[CLS]`, `[SEP]`, `[MASK]` of a BERT-order
            vocabulary trained by keras_electra.
        mask_rate: float. Fraction of real tokens chosen. Defaults to `0.15`.
        max_predictions: int. Number of prediction slots. Defaults to
            `int((mask_rate + 0.005) * sequence_length)` (19 at 128).
        mask_token_rate: float. Share of chosen positions replaced by
            `[MASK]`. Defaults to `0.85`.
        random_token_rate: float. Share replaced by a random token. Defaults
            to `0.0`.
        seed: int. Seed of the layer's `SeedGenerator`. Defaults to `None`.

    Call arguments:
        token_ids: int tensor `[batch, sequence_length]`.
        padding_mask: int or bool tensor, 1 for real tokens.

    Returns:
        A dict with `token_ids` (masked), `mask_positions` (`[batch,
        max_predictions]` int32), `mask_ids` (original ids there) and
        `mask_weights` (float32, 1 for used slots).

    Example:
    ```python
    import numpy as np
    masker = ElectraMasker(vocabulary_size=100, mask_token_id=4, seed=1)
    ids = np.array([[2] + list(range(10, 40)) + [3]])
    out = masker(ids, np.ones_like(ids))
    assert out["mask_positions"].shape == (1, 4)
    ```
    """

    def __init__(
        self,
        vocabulary_size,
        mask_token_id,
        unselectable_token_ids=(0, 2, 3, 4),
        mask_rate=0.15,
        max_predictions=None,
        mask_token_rate=0.85,
        random_token_rate=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not 0.0 < mask_rate < 1.0:
            raise ValueError(f"`mask_rate` must be in (0, 1). Received {mask_rate}")
        if mask_token_rate < 0 or random_token_rate < 0 or (
            mask_token_rate + random_token_rate > 1.0
        ):
            raise ValueError(
                "`mask_token_rate` and `random_token_rate` must be "
                "non-negative and sum to at most 1. Received "
                f"mask_token_rate={mask_token_rate}, "
                f"random_token_rate={random_token_rate}"
            )
        self.vocabulary_size = vocabulary_size
        self.mask_token_id = mask_token_id
        self.unselectable_token_ids = [int(i) for i in unselectable_token_ids]
        if mask_token_id not in self.unselectable_token_ids:
            self.unselectable_token_ids.append(int(mask_token_id))
        self.mask_rate = mask_rate
        self.max_predictions = max_predictions
        self.mask_token_rate = mask_token_rate
        self.random_token_rate = random_token_rate
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    def num_predictions(self, sequence_length):
        """Number of prediction slots for a static `sequence_length`."""
        if self.max_predictions is not None:
            return min(self.max_predictions, sequence_length)
        return max(1, int((self.mask_rate + 0.005) * sequence_length))

    def call(self, token_ids, padding_mask):
        token_ids = ops.cast(token_ids, "int32")
        real = ops.cast(padding_mask, "bool")
        sequence_length = token_ids.shape[-1]
        if sequence_length is None:
            raise ValueError(
                "ElectraMasker needs a static sequence length; received "
                f"token_ids of shape {token_ids.shape}."
            )
        slots = self.num_predictions(sequence_length)

        selectable = real
        for token_id in self.unselectable_token_ids:
            selectable = ops.logical_and(
                selectable, ops.not_equal(token_ids, token_id)
            )
        num_real = ops.sum(ops.cast(real, "float32"), axis=-1)
        num_selectable = ops.sum(ops.cast(selectable, "int32"), axis=-1)
        k = ops.cast(ops.round(num_real * self.mask_rate), "int32")
        k = ops.minimum(ops.maximum(k, 1), slots)
        k = ops.minimum(k, num_selectable)

        # Rank random scores: non-selectable positions score -1 and sort last.
        scores = keras.random.uniform(
            ops.shape(token_ids), dtype="float32", seed=self.seed_generator
        )
        scores = ops.where(selectable, scores, -1.0)
        _, positions = ops.top_k(scores, k=slots, sorted=True)
        positions = ops.cast(positions, "int32")
        used = ops.expand_dims(ops.arange(slots, dtype="int32"), 0) < (
            ops.expand_dims(k, -1)
        )
        positions = ops.where(used, positions, 0)
        weights = ops.cast(used, "float32")
        original = ops.take_along_axis(token_ids, positions, axis=1)

        # Decide what each used slot becomes.
        choice = keras.random.uniform(
            ops.shape(positions), dtype="float32", seed=self.seed_generator
        )
        random_ids = keras.random.randint(
            ops.shape(positions),
            0,
            self.vocabulary_size,
            dtype="int32",
            seed=self.seed_generator,
        )
        new_ids = ops.where(
            choice < self.mask_token_rate,
            self.mask_token_id,
            ops.where(
                choice < self.mask_token_rate + self.random_token_rate,
                random_ids,
                original,
            ),
        )
        masked = scatter_slots(token_ids, positions, new_ids, used)
        return {
            "token_ids": masked,
            "mask_positions": positions,
            "mask_ids": original,
            "mask_weights": weights,
        }

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "mask_token_id": self.mask_token_id,
                "unselectable_token_ids": self.unselectable_token_ids,
                "mask_rate": self.mask_rate,
                "max_predictions": self.max_predictions,
                "mask_token_rate": self.mask_token_rate,
                "random_token_rate": self.random_token_rate,
                "seed": self.seed,
            }
        )
        return config


def scatter_slots(token_ids, positions, values, used):
    """Write `values` at `positions` of `token_ids` where `used` is true.

    A one-hot formulation (no data-dependent scatter), so shapes stay static
    on every backend; `positions` must be distinct among used slots.

    Example:
    ```python
    import numpy as np
    out = scatter_slots(
        np.array([[5, 6, 7]]), np.array([[2, 0]]), np.array([[9, 9]]),
        np.array([[True, False]]),
    )
    # out == [[5, 6, 9]]
    ```
    """
    token_ids = ops.cast(token_ids, "int32")
    sequence_length = ops.shape(token_ids)[1]
    hits = ops.one_hot(positions, sequence_length, dtype="int32")
    hits = hits * ops.expand_dims(ops.cast(used, "int32"), -1)
    written = ops.sum(hits, axis=1)
    scattered = ops.sum(
        hits * ops.expand_dims(ops.cast(values, "int32"), -1), axis=1
    )
    return ops.where(written > 0, scattered, token_ids)
