# zerochurn: everything runs from a project-local virtual environment that is
# built from the committed lock file, so a fresh machine needs only Python 3.11.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WORKSPACE ?= workspace

export BENTOML_DO_NOT_TRACK := true
export DVC_NO_ANALYTICS := 1

.PHONY: help setup run test bench repro bento lock clean

help:
	@echo "make run    - set up, then run the whole job end to end on synthetic data"
	@echo "make test   - set up, then run lint and the test suite"
	@echo "make bench  - run the benchmarks and rewrite docs/benchmarks.md"
	@echo "make repro  - run the DVC pipeline (generate .. monitor) with dvc repro"
	@echo "make bento  - build a self-contained Bento of the service and the champion"
	@echo "make lock   - re-resolve requirements.lock from pyproject.toml"

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install -qq -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/zerochurn --workspace $(WORKSPACE) run

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

repro: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc repro

bento: $(STAMP)
	$(BIN)/zerochurn --workspace $(WORKSPACE) build-bento

lock:
	$(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv pip compile pyproject.toml --extra dev --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 --output-file requirements.lock --no-header --quiet

clean:
	rm -rf $(VENV) $(WORKSPACE) build *.egg-info
