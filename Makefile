# Two entry points, both safe to run on a fresh clone:
#   make demo   -> set up .venv and run the main job (trains the article's network, writes out/)
#   make test   -> set up .venv with the test tools, install Graphviz's `dot` if missing, run the tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench docs setup setup-dev graphviz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

setup: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[viz]'

setup-dev: $(BIN)/python graphviz
	$(BIN)/pip install --quiet -e '.[dev]'

# Graphviz's `dot` program renders the graph pictures; the tests render for real.
graphviz:
	@command -v dot >/dev/null 2>&1 || bash scripts/install_graphviz.sh

demo: setup
	$(BIN)/tinygrad-nn demo --out out

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
