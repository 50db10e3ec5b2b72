# The two commands a newcomer needs: `make demo` and `make test`.
# Both bootstrap .venv themselves; `make test` also installs, when run as root, the
# Debian packages the integration tests need (scripts/install-system-deps.sh).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/saldo demo

system-deps:
	bash scripts/install-system-deps.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) system-deps lint typecheck
	$(BIN)/pytest

unit: $(STAMP)
	$(BIN)/pytest tests/unit

bench: $(STAMP)
	$(BIN)/python bench/topup_inquiry.py
	$(BIN)/python bench/sms_inquiry.py
	$(BIN)/python bench/sweep.py
	$(BIN)/python bench/charging.py

clean:
	rm -rf $(VENV) saldo.db saldo.db-wal saldo.db-shm .pytest_cache .mypy_cache .ruff_cache
