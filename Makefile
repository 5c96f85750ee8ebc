# The operations contract (DESIGN.md): install, run, test. Everything goes through .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test bench fuzz schema clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Serves http://127.0.0.1:8000/graphql on the embedded PostgreSQL, with demo data and GraphiQL.
run: install
	$(BIN)/docgraph serve --demo

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench --profile

fuzz: install
	DOCGRAPH_FUZZ_EXAMPLES=2000 $(BIN)/python -m pytest -q tests/api/test_fuzz.py

schema: install
	$(BIN)/docgraph export-schema schema.graphql

clean:
	rm -rf $(VENV) .docgraph
