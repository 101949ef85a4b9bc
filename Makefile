# The two commands: `make run` (set up, load the bundled data, serve on 127.0.0.1) and
# `make test` (set up, lint and type-check, start the servers the tests need, run the whole suite).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint bench bench-full soak docs servers browser venv clean

# uv (from PyPI, into the venv) installs the project and its dependencies, with its own progress display.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	test -x $(VENV)/bin/uv || $(PY) -m pip install --quiet --disable-pip-version-check uv
	$(VENV)/bin/uv pip install --compile-bytecode --python $(PY) -e ".[dev,docs,bench]"
	touch $(STAMP)

venv: $(STAMP)

# `make run` loads the bundled studies and mapping sets again only when a file of theirs changed since the
# last load (stamps inside the store: a new store loads everything); load-bundled itself skips every
# package whose input digest the store holds and leaves the studies the user added (decision 0118).
STORE     ?= $(or $(QUALKG_STORE_PATH),.qualkg/store)
BUNDLED   := $(shell find data -type f -not -path 'data/synthesis/*' 2>/dev/null)
SYNTHESIS := $(wildcard data/synthesis/*)

$(STORE)/bundled.stamp: $(BUNDLED) | $(STAMP)
	$(PY) -m qualkg load-bundled
	touch $@

$(STORE)/synthesis.stamp: $(SYNTHESIS) $(STORE)/bundled.stamp
	$(PY) -m qualkg mappings import
	touch $@

run: $(STAMP) $(STORE)/bundled.stamp $(STORE)/synthesis.stamp
	$(PY) -m qualkg serve --host $(HOST) --port $(PORT)

test: lint servers browser
	$(PY) -m pytest

# The gate's static half: ruff (lint, import order, complexity) and mypy (types), both from pyproject.
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy

# Debian's Chromium and ChromeDriver for the explorer's browser tests (no browser download).
browser:
	tests/explorer/install-chromium.sh

# Fetch the Java servers the tests start (Neo4j harness, Fuseki) into tests/servers/lib once.
servers:
	@if [ -x tests/servers/fetch.sh ]; then tests/servers/fetch.sh; fi

# wrk (Debian) is the loopback load tool; bench falls back to a bounded Python load generator without it.
bench: $(STAMP)
	command -v wrk >/dev/null || (apt-get install -y -q wrk >/dev/null 2>&1 || true)
	$(PY) -m bench run --quick

# 10 minutes of concurrent ingests and ~50 requests/s of mixed questions on loopback (60 s of it runs in make test).
soak: $(STAMP)
	$(PY) -m tests.soak.soak --minutes 10

bench-full: $(STAMP)
	$(PY) -m bench run --full

docs: $(STAMP)
	$(PY) -m qualkg docs --out docs

clean:
	rm -rf $(VENV) .qualkg .pytest_cache build dist
