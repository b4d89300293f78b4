"""Unigram log-frequencies of a corpus, to initialize masked-LM output biases."""

import numpy as np

from keras_electra.api_export import keras_electra_export


@keras_electra_export
def unigram_log_prior(
    batches, vocabulary_size, num_batches=50, exclude_ids=(), smoothing=1.0
):
    """Log unigram probabilities of the real tokens in the first batches.

    Meant for `ElectraGenerator.initialize_output_bias()`: a masked LM whose
    output bias starts at the corpus' log-frequencies predicts the unigram
    distribution from step 0. Starting from a zero bias instead, Adam moves
    each bias entry by at most about the learning rate per step, so in a
    short run the token frequencies are learned through the tied embedding
    table instead, which then degenerates (every token vector gains a large
    shared component; see benchmarks/RESULTS.md, "ELECTRA against masked
    LM") and fine-tunes badly.

    Args:
        batches: an iterable of dicts with `token_ids` and `padding_mask`
            (a `tf.data.Dataset` from `pretraining_dataset`, or arrays).
        vocabulary_size: int.
        num_batches: int. Batches read. Defaults to `50`.
        exclude_ids: ids that get the smoothing count only (special tokens:
            the masked LM never predicts them). Defaults to `()`.
        smoothing: float. Added to every count. Defaults to `1.0`.

    Returns:
        float32 numpy array `[vocabulary_size]` of log-probabilities.

    Example:
    ```python
    import numpy as np
    batch = {"token_ids": np.array([[2, 7, 7, 9, 3, 0]]),
             "padding_mask": np.array([[1, 1, 1, 1, 1, 0]])}
    prior = unigram_log_prior([batch], vocabulary_size=10, exclude_ids=[0, 2, 3])
    assert prior.argmax() == 7
    ```
    """
    counts = np.full(vocabulary_size, float(smoothing))
    seen = 0
    for batch in batches:
        if seen >= num_batches:
            break
        ids = np.asarray(batch["token_ids"])
        real = np.asarray(batch["padding_mask"]).astype(bool)
        ids = ids[real]
        if ids.size and (ids.min() < 0 or ids.max() >= vocabulary_size):
            raise ValueError(
                f"Token ids must lie in [0, {vocabulary_size}); found "
                f"{ids.min()}..{ids.max()}."
            )
        np.add.at(counts, ids, 1.0)
        seen += 1
    if seen == 0:
        raise ValueError("`batches` yielded no batch to count tokens from.")
    for token_id in exclude_ids:
        counts[token_id] = smoothing
    return np.log(counts / counts.sum()).astype("float32")
