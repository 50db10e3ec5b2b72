# The two commands a newcomer needs: `make demo` and `make test`.
# Both bootstrap .venv themselves; `make test` also installs, when run as root, the
# Debian packages the integration tests need (scripts/install-system-deps.sh).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench system-deps clean lock lock-check

# Every package comes from requirements.lock, at its exact version and with its hashes
# (scripts/lock.py says how the lock is made); Saldo itself is then installed editable on top.
$(STAMP): requirements.lock pyproject.toml | lock-check
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

lock-check:
	@$(PYTHON) scripts/lock.py check

# Moves every locked version to the newest that pyproject.toml's ranges allow; run the tests
# and commit requirements.lock after it. `make lock ARGS=--upgrade-package=babel` moves one.
lock:
	test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install -q uv; }
	$(PYTHON) scripts/lock.py write $(BIN)/uv $${ARGS:---upgrade}

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
	$(BIN)/python bench/portal_line.py
	$(BIN)/python bench/sweep.py
	$(BIN)/python bench/charging.py

# Everything `make demo` and the README's examples leave behind, so the next demo starts afresh.
clean:
	rm -rf $(VENV) saldo.db saldo.db-wal saldo.db-shm saldo-sandbox.db demo-vouchers.csv \
		replay.db replay.db-wal replay.db-shm saldo-outbox saldo-speech .pytest_cache .mypy_cache .ruff_cache
