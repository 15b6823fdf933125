# Two commands do everything on a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
# `make run PORT=8080` serves the demo on another port.
PORT ?= 8000
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# The exact versions that were tested, with their hashes: dev.lock (runtime and test tools) for this virtual
# environment, app.lock (runtime only) for the production image. `make lock` rewrites both from pyproject.toml.
APP_LOCK := requirements/app.lock
DEV_LOCK := requirements/dev.lock
UV_VERSION := 0.13.9
PIP := $(BIN)/python -m pip --quiet --disable-pip-version-check

.PHONY: run test test-clock-shift test-deps lock lint messages check-migrations

$(INSTALLED): $(DEV_LOCK) pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install --require-hashes -r $(DEV_LOCK)
	$(PIP) install --no-deps -e .
	@touch $@

## Re-resolve the dependencies of pyproject.toml into the lock files (universal: any platform, Python 3.11+).
## `make lock UPGRADE=1` moves every package to its newest allowed version; otherwise pins change only where needed.
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install uv==$(UV_VERSION)
	@mkdir -p requirements
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes $(if $(UPGRADE),--upgrade) \
	  --custom-compile-command "make lock" pyproject.toml -o $(APP_LOCK)
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes $(if $(UPGRADE),--upgrade) \
	  --custom-compile-command "make lock" --extra dev pyproject.toml -o $(DEV_LOCK)

## Serve the demo on http://127.0.0.1:8000 (SQLite file in var/, demo data loaded once).
run: $(INSTALLED)
	$(BIN)/python -m backend migrate
	$(BIN)/python -m backend load-demo
	$(BIN)/python -m backend serve --host 127.0.0.1 --port $(PORT)

## Lint, format and type checks, as configured in pyproject.toml (ruff and mypy come with the dev lock). All three
## run even when one fails, so one run reports every problem.
lint: $(INSTALLED)
	status=0; \
	$(BIN)/ruff check . || status=1; \
	$(BIN)/ruff format --check . || status=1; \
	$(BIN)/mypy || status=1; \
	exit $$status

## The whole suite: SQLite always, PostgreSQL too when TEST_DATABASE_URL is set. Two test processes share it out
## (each with a PostgreSQL database of its own; the browser tests all in one of them): `pytest -n 0` runs serially.
PYTEST_PARALLEL := -n 2 --dist loadgroup
test: $(INSTALLED) test-deps
	$(BIN)/python -m pytest $(PYTEST_PARALLEL)

## The suite without the browser, run a year ahead and a year back (libfaketime moves the clock of the tests and of
## the servers they start): no rule and no test may depend on the day it runs.
test-clock-shift: $(INSTALLED) test-deps
	@command -v faketime >/dev/null 2>&1 || { echo "faketime is missing: apt-get install faketime"; exit 1; }
	faketime -f '+365d' $(BIN)/python -m pytest $(PYTEST_PARALLEL) -m "not browser"
	faketime -f '-365d' $(BIN)/python -m pytest $(PYTEST_PARALLEL) -m "not browser"

## Debian's Chromium (browser tests), docker-compose v1 (validates docker-compose.yml without an engine) and
## faketime (make test-clock-shift), installed when missing and we are root; otherwise those tests are skipped
## with a reason. axe-core for the accessibility tests comes from the npm registry, pinned by
## tests/browser/package-lock.json.
AXE_STAMP := tests/browser/node_modules/.package-lock.json
test-deps:
	@if [ ! -f $(AXE_STAMP) ] || [ tests/browser/package-lock.json -nt $(AXE_STAMP) ]; then \
	  if command -v npm >/dev/null 2>&1; then echo "installing axe-core"; \
	    npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error; \
	  else echo "npm missing: the accessibility tests will be skipped"; fi; \
	fi
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  if ! command -v chromium >/dev/null 2>&1 || ! command -v docker-compose >/dev/null 2>&1 \
	    || ! command -v faketime >/dev/null 2>&1 || ! command -v caddy >/dev/null 2>&1; then apt-get update -qq; fi; \
	  command -v chromium >/dev/null 2>&1 || { echo "installing chromium"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; \
	  command -v docker-compose >/dev/null 2>&1 || { echo "installing docker-compose"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null; }; \
	  command -v faketime >/dev/null 2>&1 || { echo "installing faketime"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null; }; \
	  command -v caddy >/dev/null 2>&1 || { echo "installing caddy (checks deploy/Caddyfile)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends caddy >/dev/null; }; \
	else \
	  command -v chromium >/dev/null 2>&1 || echo "chromium missing and not installable here: browser tests will be skipped"; \
	fi

## Re-extract translatable strings and merge them into the catalogues (edit the .po files afterwards).
messages: $(INSTALLED)
	@mkdir -p var
	$(BIN)/pybabel extract -F backend/locale/babel.cfg -k N_ -k gettext -k ngettext:1,2 --no-location --sort-output -o var/messages.pot .
	$(BIN)/pybabel update -i var/messages.pot -d backend/locale -l id --width 120

## Fails when the models and the migrations disagree.
check-migrations: $(INSTALLED)
	$(BIN)/python -m backend migrate
	$(BIN)/alembic check
