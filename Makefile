# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test browser lint bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The workflow sandbox re-imports workflow code for every case it runs: bytecode compiled
# ahead saves compiling it each time where PYTHONDONTWRITEBYTECODE is set.
PACKAGES := domain edi workflows activities db services api web app denials
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

# The browser tests drive a system Chromium (Debian's /usr/bin/chromium unless
# DENIALS_TEST_CHROMIUM names another); Playwright never downloads one. On Debian/Ubuntu
# `make test` installs it with apt-get, which needs root or sudo; elsewhere it says what to do.
CHROMIUM := $(or $(DENIALS_TEST_CHROMIUM),/usr/bin/chromium)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

## browser: make sure the browser tests have their Chromium (apt-get on Debian/Ubuntu)
browser:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ -n "$(DENIALS_TEST_CHROMIUM)" ]; then \
	  echo "DENIALS_TEST_CHROMIUM=$(CHROMIUM) is not an executable browser: point it at Chromium (or Chrome)" >&2; exit 1; \
	elif ! command -v apt-get > /dev/null; then \
	  echo "The browser tests need Chromium and this system has no apt-get to install it: install Chromium (or Chrome) with your package manager and set DENIALS_TEST_CHROMIUM to its path, e.g. DENIALS_TEST_CHROMIUM=/usr/bin/chromium-browser make test" >&2; exit 1; \
	elif [ -n "$(SUDO)" ] && ! command -v sudo > /dev/null; then \
	  echo "The browser tests need Debian's chromium package and installing it needs root: run 'apt-get install chromium' as root (or install sudo), then make test again" >&2; exit 1; \
	else \
	  echo "Installing Debian's chromium package for the browser tests (apt-get$(if $(SUDO), through sudo,))"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

## test: install what the tests need and run the whole suite
test: $(VENV)/.installed-test browser
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
	$(BIN)/python -m bench.ingest_20k
	$(BIN)/python -m bench.workflow_shapes
	$(BIN)/python -m bench.ingest_upload
	$(BIN)/python -m bench.worker_memory
	$(BIN)/python -m bench.task_roundtrip
	$(BIN)/python -m bench.worklist
	$(BIN)/python -m bench.analytics
	$(BIN)/python -m bench.claim_check
	$(BIN)/python -m bench.claim_risk

## clean: remove what run, test and bench made here: the venv, .data (the demo's cases and its
## payload key), screenshots, tool caches, build metadata and bytecode (not the apt Chromium)
clean:
	rm -rf $(VENV) .data test-artifacts .pytest_cache .ruff_cache .hypothesis build *.egg-info
	find . -path ./.git -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
