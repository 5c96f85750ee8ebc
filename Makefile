# The operations contract (DESIGN.md): install, run, test. Everything goes through .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pytest-xdist workers (each gets its own PostgreSQL, moto server and template database). Off by
# default: on this 2-core machine two workers took 997 s against 1031 s for one process, and the
# tests that time server restarts got flaky; TEST_WORKERS=2 where cores are free.
TEST_WORKERS ?= 0

.PHONY: install run lint test bench fuzz schema clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Serves http://127.0.0.1:8000/graphql on the embedded PostgreSQL, with demo data and GraphiQL.
run: install
	$(BIN)/docgraph serve --demo

# The shape the code must keep: rules (ruff), types (mypy), import direction (import-linter).
lint: install
	$(BIN)/ruff check docgraph tests bench migrations
	$(BIN)/mypy
	$(BIN)/lint-imports

test: install lint
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS)

bench: install
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench --profile

fuzz: install
	DOCGRAPH_FUZZ_EXAMPLES=2000 $(BIN)/python -m pytest -q tests/api/test_fuzz.py

schema: install
	$(BIN)/docgraph export-schema schema.graphql

clean:
	rm -rf $(VENV) .docgraph
