# Two entry points for a fresh machine: `make quickstart` (set up, then the main job) and
# `make test` (set up, then the test suite). CI runs `make test` through .ci/run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup test quickstart lint

# torch 2.13.0 first: on this machine it is a local CPU build, and installing it before the
# package keeps pip from pulling CUDA wheels for the torch requirement.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

# Two pytest-xdist workers: the tests that start Ray run one after another on one worker
# (tests/conftest.py groups them); every other test module runs whole on either.
test: setup
	$(BIN)/python -m pytest -n 2 --dist loadgroup --durations=15

quickstart: setup
	$(BIN)/deepwe-rl train configs/quickstart.yaml

lint: setup
	$(BIN)/ruff check .
