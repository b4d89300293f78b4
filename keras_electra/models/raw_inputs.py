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
