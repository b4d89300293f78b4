import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# JAX keeps compiled steps on disk: tests (and the processes they start)
# that compile the same program reuse it, which shortens the JAX suite
# (by ~10% in one clean run; half once the cache is warm).
os.environ.setdefault(
    "JAX_COMPILATION_CACHE_DIR",
    os.path.join(tempfile.gettempdir(), "keras_electra_tests_jax_cache"),
)
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")
# Tests run tiny models for a few steps, so XLA's compile time dominates:
# skip LLVM's optimization passes (same ops and results to float rounding;
# the JAX suite ran ~35% faster). Not for benchmarks.
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")

import pytest  # noqa: E402


def pytest_addoption(parser):
    parser.addoption(
        "--run-large",
        action="store_true",
        default=False,
        help="also run tests marked `large` (minutes each)",
    )


def pytest_collection_modifyitems(config, items):
    # Minutes-long tests first (`slow(first=True)`: the longest of them),
    # as pytest-xdist hands tests out in this order: the two workers then
    # end together instead of one waiting on a long test at the end.
    def rank(item):
        mark = item.get_closest_marker("slow")
        if mark is None:
            return 2
        return 0 if mark.kwargs.get("first") else 1

    items.sort(key=rank)
    if config.getoption("--run-large"):
        return
    skip = pytest.mark.skip(reason="large test: pass --run-large")
    for item in items:
        if "large" in item.keywords:
            item.add_marker(skip)
