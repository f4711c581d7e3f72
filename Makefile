# Two entry points, both safe to run on a fresh clone:
#   make demo   -> set up .venv and run the main job (trains the article's network, writes out/demo/)
#   make test   -> set up .venv with the test tools, install Graphviz's `dot` if missing, run the tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Installs re-run only when pyproject.toml changes (the package itself is installed editable).
STAMP_VIZ := $(VENV)/.installed-viz
STAMP_DEV := $(VENV)/.installed-dev
# setuptools announces every editable install with a warning about same-named folders; this
# project has none, so the install stays quiet.
QUIET_INSTALL := PYTHONWARNINGS="ignore::UserWarning:setuptools.command.editable_wheel"

.PHONY: demo test lint bench docs setup setup-dev graphviz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_VIZ): pyproject.toml | $(BIN)/python
	$(QUIET_INSTALL) $(BIN)/pip install --quiet -e '.[viz]'
	@touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(QUIET_INSTALL) $(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

setup: $(STAMP_VIZ)

setup-dev: $(STAMP_DEV) graphviz

# Graphviz's `dot` program renders the graph pictures; the tests render for real.
graphviz:
	@command -v dot >/dev/null 2>&1 || bash scripts/install_graphviz.sh

demo: setup
	$(BIN)/tinygrad-nn demo

test: setup-dev
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: setup-dev
	$(BIN)/python benchmarks/bench_step.py

docs: setup-dev
	$(BIN)/python scripts/make_docs.py

clean:
	rm -rf $(VENV) out build *.egg-info .pytest_cache .ruff_cache .hypothesis
