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
# Each pytest-xdist worker (and each process it starts) gets its share of
# the cores for torch's thread pool: sized for the whole machine in every
# worker, the pools spin against each other. With `-n 2` on 2 cores, a torch
# subset ran in 82 s instead of 129 s. (TensorFlow's TF_NUM_*_THREADS=1 made
# no difference to the whole TensorFlow or JAX run: 1045 s vs 1014 s and
# 653 s vs 614 s, within this machine's noise.)
_workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _workers > 1:
    os.environ.setdefault(
        "OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // _workers)))

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
