# The two commands of the quick start: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export DATAWARD_HOME ?= $(CURDIR)/.dataward-demo

.PHONY: install demo test bench clean

$(BIN)/dataward: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,outlook]'
	touch $@

install: $(BIN)/dataward

## Build the demo school share, scan it and write the DPO report.
demo: install
	$(BIN)/dataward demo

## Run the test suite (two processes).
test: install
	$(BIN)/python -m pytest -n 2 -q

bench: install
	$(BIN)/python bench/scan_bench.py

clean:
	rm -rf $(VENV) .dataward-demo
