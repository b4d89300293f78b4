"""Telling raw task inputs (strings) from token-id inputs, without TensorFlow.

The tasks' `fit()` / `predict()` / `evaluate()` send inputs that hold
strings through their preprocessor (keras-hub's `Task` machinery) and
everything else (token-id dicts, arrays, datasets of ids) straight to
`keras.Model`.
"""

import sys

import keras
import numpy as np


def is_dataset(x):
    """Whether `x` is a `tf.data.Dataset` (without importing TensorFlow).

    Example:
    ```python
    assert not is_dataset([1, 2, 3])
    ```
    """
    tf = sys.modules.get("tensorflow")
    data = getattr(tf, "data", None)
    return data is not None and isinstance(x, data.Dataset)


def _is_string_leaf(leaf):
    if isinstance(leaf, (str, bytes)):
        return True
    if isinstance(leaf, np.ndarray):
        if leaf.dtype.kind in "SU":
            return True
        return leaf.dtype.kind == "O" and leaf.size > 0 and isinstance(
            leaf.flat[0], (str, bytes)
        )
    dtype = getattr(leaf, "dtype", None)
    return getattr(dtype, "name", None) == "string"


def has_strings(x):
    """Whether `x` (any nest, or a `tf.data.Dataset`) holds string data.

    Example:
    ```python
    import numpy as np
    assert has_strings(["a fine film"])
    assert has_strings((["a film"], ["a book"]))
    assert not has_strings({"token_ids": np.array([[2, 5, 3]])})
    ```
    """
    if x is None:
        return False
    if is_dataset(x):
        specs = keras.tree.flatten(x.element_spec)
        return any(getattr(s.dtype, "name", None) == "string" for s in specs)
    if isinstance(x, np.ndarray):
        return _is_string_leaf(x)
    try:
        leaves = keras.tree.flatten(x)
    except TypeError:
        return False
    return any(_is_string_leaf(leaf) for leaf in leaves[:1] + leaves[-1:])


def _length(value):
    if isinstance(value, (str, bytes)):
        return 1
    if isinstance(value, (list, np.ndarray)):
        return len(value)
    return None


def check_examples(model, method, x, y=None):
    """Refuse empty raw inputs and inputs and labels of different counts.

    Raw inputs are a list (or array) of examples, one string, or a
    `(first, second)` pair of such lists; token-id dicts and datasets are
    not checked. The `ValueError` names the model, the method and both
    counts (Keras would otherwise fail deep inside with an unrelated
    message).

    Example:
    ```python
    try:
        check_examples(object(), "fit", [], [])
    except ValueError as e:
        assert "no examples" in str(e)
    ```
    """
    where = f"{type(model).__name__}.{method}()"
    count = _length(x)
    if isinstance(x, tuple) and len(x) == 2:
        first, second = map(_length, x)
        if first is not None and second is not None:
            if first != second:
                raise ValueError(
                    f"{where} received a pair of inputs of {first} and "
                    f"{second} examples; both parts need one entry per "
                    "example."
                )
            count = first
    if count == 0:
        raise ValueError(f"{where} received no examples: `x` is empty.")
    labels = _length(y) if not isinstance(y, (str, bytes)) else None
    if count is not None and labels is not None and labels != count:
        raise ValueError(
            f"{where} received {count} examples but {labels} labels (`y`)."
        )
