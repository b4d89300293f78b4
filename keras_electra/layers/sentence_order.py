"""ALBERT sentence-order prediction: swap the two segments in the graph."""

from keras import ops


def swap_segments(token_ids, segment_ids, padding_mask, swap):
    """Turn `[CLS] A [SEP] B [SEP]` into `[CLS] B [SEP] A [SEP]` where `swap`.

    Used for ALBERT's sentence-order prediction (SOP) without a second data
    pipeline: the packed pre-training examples are swapped in the model with
    a gather of statically shaped indices. Rows without a second segment, or
    with `swap` false, are returned unchanged.

    Args:
        token_ids: int tensor `[batch, length]`.
        segment_ids: int tensor `[batch, length]`, 0 for `[CLS] A [SEP]`, 1
            for `B [SEP]`.
        padding_mask: int tensor `[batch, length]`.
        swap: bool tensor `[batch]`.

    Returns:
        `(token_ids, segment_ids, labels)`, labels int32 `[batch]`, 1 where
        the row was swapped.

    Example:
    ```python
    import numpy as np
    ids = np.array([[2, 10, 11, 3, 20, 3, 0]])
    seg = np.array([[0, 0, 0, 0, 1, 1, 0]])
    pad = np.array([[1, 1, 1, 1, 1, 1, 0]])
    new_ids, new_seg, labels = swap_segments(ids, seg, pad, np.array([True]))
    # new_ids == [[2, 20, 3, 10, 11, 3, 0]], new_seg == [[0, 0, 0, 1, 1, 1, 0]]
    ```
    """
    token_ids = ops.cast(token_ids, "int32")
    segment_ids = ops.cast(segment_ids, "int32")
    real = ops.cast(padding_mask, "int32")
    first = ops.sum(real * ops.cast(segment_ids == 0, "int32"), axis=-1)
    second = ops.sum(real * ops.cast(segment_ids == 1, "int32"), axis=-1)
    # first = 1 ([CLS]) + len_a + 1 ([SEP]); second = len_b + 1 ([SEP]).
    len_a = ops.expand_dims(first - 2, -1)
    len_b = ops.expand_dims(second - 1, -1)
    swap = ops.logical_and(ops.cast(swap, "bool"), (second - 1) > 0)
    swap = ops.logical_and(swap, (first - 2) > 0)

    q = ops.expand_dims(ops.arange(ops.shape(token_ids)[1], dtype="int32"), 0)
    # Target q reads from source src(q):
    #   1 <= q <= len_b           : B tokens at len_a + 1 + q
    #   q == len_b + 1            : middle [SEP] at len_a + 1
    #   len_b + 2 <= q <= la+lb+1 : A tokens at q - len_b - 1
    #   otherwise (CLS, final SEP, padding): q
    src = ops.where(
        ops.logical_and(q >= 1, q <= len_b),
        q + len_a + 1,
        ops.where(
            q == len_b + 1,
            len_a + 1,
            ops.where(
                ops.logical_and(q >= len_b + 2, q <= len_a + len_b + 1),
                q - len_b - 1,
                q,
            ),
        ),
    )
    src = ops.where(ops.expand_dims(swap, -1), src, q)
    new_ids = ops.take_along_axis(token_ids, src, axis=1)
    new_segments = ops.where(
        ops.logical_and(q >= len_b + 2, q <= len_a + len_b + 2), 1, 0
    ) * real
    new_segments = ops.where(ops.expand_dims(swap, -1), new_segments, segment_ids)
    return new_ids, ops.cast(new_segments, "int32"), ops.cast(swap, "int32")
