# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The workflow sandbox re-imports workflow code for every case it runs: bytecode compiled
# ahead saves compiling it each time where PYTHONDONTWRITEBYTECODE is set.
PACKAGES := domain edi workflows activities db services api web denials
COMPILE := $(BIN)/python -m compileall -q $(PACKAGES) > /dev/null

# Re-install whenever pyproject.toml changes.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-run

## run: install, then start Temporal dev server + worker + web/API on http://127.0.0.1:8000 with demo data
run: $(VENV)/.installed-run
	$(COMPILE)
	exec $(BIN)/denials up

# The browser tests drive Debian's Chromium (/usr/bin/chromium); Playwright never downloads one.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

## test: install what the tests need and run the whole suite
test: $(VENV)/.installed-test
	[ -x /usr/bin/chromium ] || ($(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: $(VENV)/.installed-test
	$(COMPILE)
	$(BIN)/python -m bench.x12_parse
	$(BIN)/python -m bench.history_budget
	$(BIN)/python -m bench.ingest_embedded
	$(BIN)/python -m bench.worker_memory
	$(BIN)/python -m bench.task_roundtrip
	$(BIN)/python -m bench.worklist
	$(BIN)/python -m bench.analytics

## clean: remove what run, test and bench made here: the venv, .data (the demo's cases and its
## payload key), screenshots, tool caches, build metadata and bytecode (not the apt Chromium)
clean:
	rm -rf $(VENV) .data test-artifacts .pytest_cache .ruff_cache .hypothesis build *.egg-info
	find . -path ./.git -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
