# Two commands do everything on a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test browser-deps messages check-migrations

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $@

## Serve the demo on http://127.0.0.1:8000 (SQLite file in var/, demo data loaded once).
run: $(INSTALLED)
	$(BIN)/python -m backend migrate
	$(BIN)/python -m backend load-demo
	$(BIN)/python -m backend serve --host 127.0.0.1 --port 8000

## The whole suite: SQLite always, PostgreSQL too when TEST_DATABASE_URL is set.
test: $(INSTALLED) browser-deps
	$(BIN)/python -m pytest

## Debian's Chromium for the browser tests (installed when missing and we are root).
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "chromium is not installed and cannot be installed here: browser tests will be skipped"; \
	  fi; \
	fi

## Re-extract translatable strings and merge them into the catalogues (edit the .po files afterwards).
messages: $(INSTALLED)
	@mkdir -p var
	$(BIN)/pybabel extract -F backend/locale/babel.cfg -k N_ -k gettext -k ngettext:1,2 --no-location --sort-output -o var/messages.pot .
	$(BIN)/pybabel update -i var/messages.pot -d backend/locale -l id --no-location --width 120

## Fails when the models and the migrations disagree.
check-migrations: $(INSTALLED)
	$(BIN)/python -m backend migrate
	$(BIN)/alembic check
