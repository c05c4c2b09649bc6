# Apuri: `make run` starts the bot, `make test` runs every check. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP     := $(VENV)/.installed-dev
LOCALES := bot/i18n/locales
PYBABEL := $(BIN)/pybabel

.PHONY: run migrate test lint format bench i18n clean help

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Apuri needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(RUNTIME_STAMP)

run: $(RUNTIME_STAMP)  ## install, migrate the database and start the bot
	$(BIN)/apuri run

migrate: $(RUNTIME_STAMP)  ## bring the database up to date
	$(BIN)/apuri migrate

lint: $(DEV_STAMP)  ## ruff (lint and format) and the import contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: lint  ## install the dev tools, lint, run the whole test suite
	$(BIN)/python -m pytest

format: $(DEV_STAMP)  ## format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(DEV_STAMP)  ## benchmarks against the fake Bot API, with ratios to a baseline
	$(BIN)/python -m bench

i18n: $(DEV_STAMP)  ## extract messages and merge them into the fi, sv and en catalogs
	$(PYBABEL) extract -F babel.cfg -k plain -k N_ --no-location --sort-output \
		--project=apuri -o $(LOCALES)/apuri.pot bot handlers
	for lang in fi sv en; do \
		if [ -f $(LOCALES)/$$lang/LC_MESSAGES/apuri.po ]; then \
			$(PYBABEL) update --no-fuzzy-matching -i $(LOCALES)/apuri.pot -d $(LOCALES) -D apuri -l $$lang; \
		else \
			$(PYBABEL) init -i $(LOCALES)/apuri.pot -d $(LOCALES) -D apuri -l $$lang; \
		fi; \
	done

clean:  ## remove the virtual environment and caches (keeps data/)
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
