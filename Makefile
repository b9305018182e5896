# zerochurn: everything runs from a project-local virtual environment that is
# built from the committed lock file, so a fresh machine needs only Python 3.11.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WORKSPACE ?= workspace
CHROMIUM ?= chromium

export BENTOML_DO_NOT_TRACK := true
export DVC_NO_ANALYTICS := 1

.PHONY: help setup run test bench repro bento lock clean browser screenshots

help:
	@echo "make run    - set up, then run the whole job end to end on synthetic data"
	@echo "make test   - set up, then run lint and the test suite"
	@echo "make bench  - run the benchmarks and rewrite docs/benchmarks.md"
	@echo "make repro  - run the DVC pipeline (generate .. monitor) with dvc repro"
	@echo "make bento  - build a self-contained Bento of the service and the champion"
	@echo "make screenshots - screenshots of the web workspace for docs/workspace.md (after make run)"
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

# The web workspace's browser tests drive the system's Chromium (Playwright downloads none):
# Debian's chromium package, installed here when it is missing and we are root.
browser:
	@if [ -n "$$ZEROCHURN_CHROMIUM" ] || command -v $(CHROMIUM) >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing $(CHROMIUM) for the browser tests (apt-get, about 2 minutes)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(CHROMIUM); \
	else \
	  echo "$(CHROMIUM) is missing: install it (Debian: sudo apt-get install -y $(CHROMIUM)) or set ZEROCHURN_CHROMIUM, then rerun"; \
	  exit 1; \
	fi

test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

repro: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc repro

screenshots: $(STAMP) browser
	$(BIN)/python docs/workspace_screenshots.py --workspace $(WORKSPACE)

bento: $(STAMP)
	$(BIN)/zerochurn --workspace $(WORKSPACE) build-bento

lock:
	$(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv pip compile pyproject.toml --extra dev --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 --output-file requirements.lock --no-header --quiet

clean:
	rm -rf $(VENV) $(WORKSPACE) build *.egg-info
