# Two commands do all the set-up on a fresh machine with Python 3.11:
#   make run    the gateway on an embedded SQLite database, with demo data and a dev API key
#   make test   the test suite (SQLite, plus PostgreSQL and Redis when they answer; both required in CI)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install lock ide-assets bench clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/stateset-cli serve --demo

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Re-pin every dependency after editing pyproject.toml: requirements.lock (with the dev extra) for
# development and tests, requirements-production.lock (without it) for the image.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 -o requirements-production.lock

# Re-copy GraphiQL's and Swagger UI's browser files after changing ide-assets/package.json:
# npm ci checks them against package-lock.json, vendor.py copies them with their integrity.
ide-assets:
	cd ide-assets && npm ci --ignore-scripts --no-audit --no-fund
	$(PYTHON) ide-assets/vendor.py

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) stateset.db stateset.db-wal stateset.db-shm
