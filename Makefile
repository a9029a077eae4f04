# Two commands do everything on a machine with Python 3.11: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test demo bench clean

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
	$(BIN)/python -m streamlit run streamlit_app.py --server.port $(PORT)

## Install the test dependencies and run the whole suite.
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

## Regenerate the demo workbook in data/.
demo: $(VENV)/.installed
	$(BIN)/python -m rfm demo

## Print read+clean+RFM timings on a 1M-row workbook (built once, outside git), clustering and what-if timings.
bench: $(VENV)/.installed-test
	$(BIN)/python bench/bench_pipeline.py
	$(BIN)/python bench/bench_clusters.py
	$(BIN)/python bench/bench_whatif.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
