"""Load a `.weights.h5` file only when it fits the model, weight for weight."""

import contextlib
import logging
import os
import re
import shutil
import tempfile

import h5py
import numpy as np

logger = logging.getLogger("keras_electra")

# Groups compared between the file and the model. The optimizer's group is
# compared only when both hold one (a fresh model's optimizer may be unbuilt).
_OPTIMIZER = "optimizer"


def _weight_shapes(path):
    """`{dataset path: shape}` of every array in a Keras weights file."""
    shapes = {}

    def visit(name, item):
        if isinstance(item, h5py.Dataset):
            shapes[name] = tuple(item.shape)

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return shapes


def weights_file_bytes(model):
    """About how many bytes `model.save_weights` writes (optimizer included).

    Example:
    ```python
    import keras
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    assert weights_file_bytes(model) > 8 * 4
    ```
    """
    variables = list(model.weights)
    if getattr(model, "optimizer", None) is not None:
        variables += list(model.optimizer.variables)
    data = sum(
        int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in variables
    )
    return int(data * 1.05) + (1 << 20)  # HDF5 metadata


def writable_bytes(folder):
    """Bytes a file in `folder` may grow to: free space, and `ulimit -f`.

    Checked before writing a weights file, because HDF5 does not recover
    from a write that fails half-way (the process can crash later).

    Example:
    ```python
    assert writable_bytes("/tmp") > 0
    ```
    """
    free = shutil.disk_usage(folder).free
    try:
        import resource

        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        if limit != resource.RLIM_INFINITY:
            free = min(free, limit)
    except (ImportError, ValueError, OSError):  # pragma: no cover
        pass
    return free


def _scratch_dir(needed):
    """A folder with room for `needed` bytes: RAM first, then tmp; or None."""
    for root in ("/dev/shm", tempfile.gettempdir()):
        try:
            if os.path.isdir(root) and writable_bytes(root) > needed:
                return root
        except OSError:
            continue
    return None


def _expected_shapes(model):
    """What `model.save_weights` writes, or `None` if there is no room.

    Written for real (Keras has no public way to list a model's weight
    paths without writing them), to RAM when it fits.
    """
    needed = weights_file_bytes(model)
    root = _scratch_dir(needed)
    if root is None:
        logger.warning(
            "No room for the %d bytes of the checkpoint check; loading "
            "without it.", needed,
        )
        return None
    folder = tempfile.mkdtemp(prefix="keras-electra-expected-", dir=root)
    try:
        path = os.path.join(folder, "expected.weights.h5")
        model.save_weights(path)
        return _weight_shapes(path)
    except OSError as e:
        logger.warning(
            "Could not list the model's weights for the checkpoint check "
            "(%s); loading without it.", e,
        )
        return None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _group(name):
    # A layer of the model or of its backbone: "layers/backbone/layers/
    # encoder_4/_dense/vars/0" -> "layers/backbone/layers/encoder_4".
    parts = name.split("/")
    nested = [i for i, part in enumerate(parts[:-1]) if part == "layers"]
    if len(nested) >= 2:
        return "/".join(parts[: nested[1] + 2])
    return name.rsplit("/vars/", 1)[0]


def _listed(names, limit=8):
    groups = {}
    for name in sorted(names):
        groups.setdefault(_group(name), []).append(name)
    items = [f"{g} ({len(v)} array{'s' * (len(v) > 1)})"
             for g, v in groups.items()]
    more = f", and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def weights_mismatch(model, path):
    """Describe how a weights file differs from `model`; `None` if it fits.

    Compares every array of `path` (names and shapes, read with h5py, no
    values loaded) with those `model.save_weights` would write: arrays the
    file has and the model lacks (a config with fewer layers than the
    weights), arrays the model needs and the file lacks, and shape
    differences, each named.

    Args:
        model: a built `keras.Model`.
        path: str. A `.weights.h5` file.

    Returns:
        str or None.

    Raises:
        ValueError: the file cannot be read (truncated, not HDF5); the
            message names it.

    Example:
    ```python
    import keras
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.save_weights("/tmp/two.weights.h5")
    wider = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4)])
    assert "expected (3, 4), found (3, 2)" in weights_mismatch(
        wider, "/tmp/two.weights.h5")
    ```
    """
    try:
        found = _weight_shapes(path)
    except OSError as e:
        raise ValueError(
            f"Cannot read the weights file '{path}' "
            f"({os.path.getsize(path)} bytes): it is truncated or not a "
            f"Keras .weights.h5 file ({e})."
        ) from None
    expected = _expected_shapes(model)
    if expected is None:
        return None

    def is_optimizer(name):
        return name.split("/", 1)[0] == _OPTIMIZER

    if not any(map(is_optimizer, expected)) or not any(
        map(is_optimizer, found)
    ):
        expected = {k: v for k, v in expected.items() if not is_optimizer(k)}
        found = {k: v for k, v in found.items() if not is_optimizer(k)}
    problems = []
    extra = set(found) - set(expected)
    missing = set(expected) - set(found)
    if extra:
        problems.append(
            f"{len(extra)} arrays in the file that the model does not have: "
            + _listed(extra)
        )
    if missing:
        problems.append(
            f"{len(missing)} arrays the model needs that the file lacks: "
            + _listed(missing)
        )
    shapes = [
        f"{name}: expected {expected[name]}, found {found[name]}"
        for name in sorted(set(found) & set(expected))
        if found[name] != expected[name]
    ]
    if shapes:
        more = f" (and {len(shapes) - 8} more)" if len(shapes) > 8 else ""
        problems.append(
            f"{len(shapes)} shape mismatches: " + "; ".join(shapes[:8]) + more
        )
    return "; ".join(problems) or None


# Encoder blocks were keras-hub `TransformerEncoder`s before keras_electra
# 0.1.0 owned its block; Keras names a list's layers after their class, so
# only that name differs in files written then (sub-layers are the same).
_LEGACY_BLOCK = re.compile(r"^transformer_encoder(_\d+)?$")
_BLOCK = "electra_transformer_encoder"


def _legacy_groups(path):
    names = []

    def visit(name, item):
        if isinstance(item, h5py.Group) and _LEGACY_BLOCK.match(
            name.rsplit("/", 1)[-1]
        ):
            names.append(name)

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return names


@contextlib.contextmanager
def current_layout(path):
    """A weights file in today's layout: `path`, or a renamed copy of it.

    Files written before the encoder block was keras_electra's own
    (`ElectraTransformerEncoder`, replacing keras-hub's `TransformerEncoder`)
    hold the same arrays under `transformer_encoder`, `transformer_encoder_1`
    ...; inside the context such a file is read through a copy with those
    groups renamed. Other files are used as they are.

    Example:
    ```python
    import keras
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.save_weights("/tmp/dense.weights.h5")
    with current_layout("/tmp/dense.weights.h5") as path:
        model.load_weights(path)
    ```
    """
    try:
        legacy = _legacy_groups(path)
    except OSError:
        legacy = []  # unreadable: let the caller name the file
    if not legacy:
        yield path
        return
    root = _scratch_dir(os.path.getsize(path))
    if root is None:
        raise ValueError(
            f"'{path}' stores its encoder blocks under keras-hub's names and "
            f"is read through a renamed copy, but neither /dev/shm nor "
            f"{tempfile.gettempdir()} has room for its "
            f"{os.path.getsize(path)} bytes."
        )
    folder = tempfile.mkdtemp(prefix="keras-electra-legacy-", dir=root)
    try:
        copy = os.path.join(folder, os.path.basename(path))
        shutil.copyfile(path, copy)
        with h5py.File(copy, "r+") as f:
            for name in legacy:
                parent, _, base = name.rpartition("/")
                new = _BLOCK + base[len("transformer_encoder"):]
                f.move(name, f"{parent}/{new}" if parent else new)
        logger.info("Read '%s' (keras-hub encoder blocks) through a renamed "
                    "copy.", path)
        yield copy
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def load_weights_checked(model, path, context=""):
    """`model.load_weights(path)`, refused unless every array fits.

    Keras assigns a weights file to a model built with fewer layers without
    a word (the extra arrays are dropped), and reports a shape mismatch as
    "expected 1 variables, but received 0". This compares first (see
    `weights_mismatch`) and raises a `ValueError` naming the file, each
    differing array and both shapes; a missing or unreadable file is named
    too. Nothing is assigned unless the whole file fits.

    Args:
        model: a built `keras.Model`.
        path: str. A `.weights.h5` file.
        context: str. Appended to the message (e.g. how the model was
            built). Defaults to `""`.

    Example:
    ```python
    import keras
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.save_weights("/tmp/two.weights.h5")
    load_weights_checked(model, "/tmp/two.weights.h5")
    ```
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No weights file '{path}'.")
    with current_layout(path) as readable:
        problem = weights_mismatch(model, readable)
        if problem is not None:
            raise ValueError(
                f"The weights file '{path}' does not fit the model: "
                f"{problem}." + (f" {context}" if context else "")
            )
        try:
            model.load_weights(readable)
        except (OSError, ValueError) as e:
            raise ValueError(
                f"Loading the weights file '{path}' failed: {e}"
            ) from e
