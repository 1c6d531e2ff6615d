# Two commands from a fresh clone: `make demo` and `make test` (see README.md).
# Each bootstraps .venv from pyproject.toml once; later runs reuse it.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format validate bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# `outcomes run`: the workflow, with one message (file, row, column) per failure at the end.
demo: $(STAMP)
	$(BIN)/outcomes run

lint: $(STAMP)
	$(BIN)/ruff check src tests workflow benchmarks
	$(BIN)/ruff format --check src tests workflow benchmarks
	$(BIN)/snakefmt --check Snakefile workflow/rules

test: lint
	$(BIN)/python -m pytest

# The simulation studies of docs/validation.md, the demo cohort and the clustered designs
# (27 minutes on 2 cores; not part of test). One BLAS thread per worker process.
validate: $(STAMP)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
		$(BIN)/python -m outcomes.validation --replications 500 --study all

# Benchmarks write BENCHMARKS.md (the DoWhy comparison needs the benchmark extra).
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,benchmark]'
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_analyze.py

format: $(STAMP)
	$(BIN)/ruff check --fix src tests workflow benchmarks
	$(BIN)/ruff format src tests workflow benchmarks
	$(BIN)/snakefmt Snakefile workflow/rules

clean:
	rm -rf data/interim data/processed reports/demo logs .snakemake
