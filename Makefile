# The whole developer loop. `make help` lists the targets.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
ENGINE ?= mkdocs
export PYTHONHASHSEED := 0
export SOURCE_DATE_EPOCH ?= 0

.DEFAULT_GOAL := help
.PHONY: help install site validate test test-fast serve lint lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	touch $@

install: $(VENV)/.installed ## create .venv and install the pinned dependencies

site: $(VENV)/.installed ## install, validate and build the site into site/
	$(PY) build.py build

validate: $(VENV)/.installed ## check the data package (errors name file, row, field, rule)
	$(PY) build.py validate

serve: $(VENV)/.installed ## build and serve on http://127.0.0.1:8000, rebuilding when data changes
	$(PY) build.py serve

test: $(VENV)/.installed ## run the whole test suite (unit, golden, property, browser)
	$(PY) -m ruff check .
	$(PY) -m pytest

test-fast: $(VENV)/.installed ## the tests that need no browser
	$(PY) -m pytest -m "not browser"

lint: $(VENV)/.installed ## ruff lint and format check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

lock: ## re-pin dependencies with hashes (needs pip-tools)
	$(PY) -m piptools compile --quiet --generate-hashes --allow-unsafe --extra test --strip-extras -o requirements.lock pyproject.toml

clean: ## remove build output (keeps .venv)
	rm -rf .build site
