# Two commands do everything on a machine with Python 3.11: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test check lint spark demo bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements.txt requirements-test.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	touch $@

## Install and open the app (on the built-in demo data).
run: $(VENV)/.installed
	$(BIN)/python -m streamlit run app.py --server.port $(PORT)

## Install the test dependencies and run the whole suite.
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

## Lint and type-check: ruff on everything, mypy on rfm/.
lint: $(VENV)/.installed-test
	$(BIN)/python -m ruff check .
	$(BIN)/python -m mypy

## The edit-test loop (under 90 s): lint, then every test not marked browser, spark or slow, on every core
## (pytest-xdist; about 60 s on 2 cores, 95 s on one).
check: lint
	$(BIN)/python -m pytest -q -n auto -m "not browser and not spark and not slow"

## Install the optional Spark engine (pyspark; needs Java 17 or 21). `make test` then runs the Spark tests too.
spark: $(VENV)/.installed-spark

$(VENV)/.installed-spark: requirements-spark.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -r requirements-spark.txt
	touch $@

## Regenerate the demo workbook in data/.
demo: $(VENV)/.installed
	$(BIN)/python -m rfm demo

## Run every benchmark (workbook, CSV, Parquet 10M/50M, Spark, k-sweep, what-if; data built once, outside git)
## and print one table. BENCH_ARGS=--quick for a smoke run; BENCH_ARGS="--only parquet" for a subset.
bench: $(VENV)/.installed-test
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
