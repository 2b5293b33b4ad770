# housing-ledger: the same commands locally and in CI (.ci/run calls `make test`).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PY      = $(BIN)/python
UNITS  ?= 3000
SOURCES = ledger projections commands web cli.py tests bench docs/gen_cli.py

.PHONY: demo test test-all lint typecheck bench bench-postgres bench-rpls clean docs

$(BIN)/housing-ledger: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	@touch $@

## demo: record the demo ledger into ./housing-ledger.db (SQLite), print holdings and a statement
## (DB=sqlite:///other.db records it elsewhere: one demo a database)
demo: $(BIN)/housing-ledger
	$(BIN)/housing-ledger $(if $(DB),--db $(DB)) demo --units $(UNITS)

## test: the whole suite (PostgreSQL tests run when a server is reachable; required in CI)
test: $(BIN)/housing-ledger
	$(PY) -m pytest -n 2 -q

## test-all: also the long trials
test-all: $(BIN)/housing-ledger
	$(PY) -m pytest -n 2 -q --runslow

## lint: ruff's checks and its format check (`ruff format` fixes the format)
lint: $(BIN)/housing-ledger
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)

## typecheck: mypy --strict on the product
typecheck: $(BIN)/housing-ledger
	$(BIN)/mypy --strict ledger projections commands web cli.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis housing-ledger.db*

## docs: regenerate docs/cli.md from the commands' --help
docs: $(BIN)/housing-ledger
	$(PY) docs/gen_cli.py

## bench: the benchmark of docs/performance.md on SQLite: one table of our figures, the
## baselines measured in the same run, the ratios (UNITS=100000 by default: a few minutes;
## UNITS=1000000 is the long run). Extra options: BENCH_ARGS="--reps 5 --only import,replay"
bench: UNITS = 100000
bench: $(BIN)/housing-ledger
	$(PY) -m bench.run --db sqlite --units $(UNITS) $(BENCH_ARGS)

## bench-rpls: a group's RPLS files (UNITS units in all; SINGLE=1: one file) imported one
## by one, with each import's time and peak memory (DB=postgresql: on the local server)
bench-rpls: UNITS = 1000000
bench-rpls: $(BIN)/housing-ledger
	$(PY) -m bench.rpls_import --units $(UNITS) --db $(or $(DB),sqlite) $(if $(SINGLE),--single)

## bench-postgres: the same on PostgreSQL (127.0.0.1:5432, user postgres; a scratch
## database hl_bench_<random> is created and dropped)
bench-postgres: UNITS = 100000
bench-postgres: $(BIN)/housing-ledger
	$(PY) -m bench.run --db postgresql --units $(UNITS) $(BENCH_ARGS)
