# The whole developer loop. `make help` lists the targets.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
ENGINE ?= mkdocs
# PROJECT=DIR works on another summary's project folder (build.py --project DIR); default: this repository.
PROJECT ?=
PROJECT_ARG := $(if $(PROJECT),--project $(PROJECT))
# $(or ...) would split a default of 100,1000,5000 at its commas: a plain default instead.
SIZES  ?= 100,1000,5000
export PYTHONHASHSEED := 0
export SOURCE_DATE_EPOCH ?= 0

.DEFAULT_GOAL := help
.PHONY: help install site validate test test-fast serve lint lock clean release-check deploy bench lighthouse

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	touch $@

install: $(VENV)/.installed ## create .venv and install the pinned dependencies

site: $(VENV)/.installed $(if $(filter zensical,$(ENGINE)),$(VENV)/.zensical) ## install, validate and build site/ (ENGINE=mkdocs|zensical)
	$(PY) build.py build --engine $(ENGINE) $(PROJECT_ARG)

$(VENV)/.zensical: $(VENV)/.installed requirements-zensical.txt
	$(PY) -m pip install --quiet --no-deps --require-hashes -r requirements-zensical.txt
	touch $@

.build/tools/lighthouse/node_modules/.bin/lighthouse:
	mkdir -p .build/tools/lighthouse
	cd .build/tools/lighthouse && npm init -y >/dev/null && npm install --no-audit --no-fund lighthouse@13.5.0

lighthouse: .build/tools/lighthouse/node_modules/.bin/lighthouse ## install Lighthouse (npm) under .build/tools, for make bench

bench: $(VENV)/.installed $(VENV)/.zensical ## benchmark 100/1,000/5,000 synthetic studies (SIZES=...); Lighthouse if installed
	$(PY) build.py bench --sizes $(SIZES) $(if $(wildcard .build/tools/lighthouse/node_modules/.bin/lighthouse),--lighthouse)

validate: $(VENV)/.installed ## check the data package (errors name file, row, field, rule)
	$(PY) build.py validate $(PROJECT_ARG)

serve: $(VENV)/.installed ## build and serve on http://127.0.0.1:8000, rebuilding when data changes
	$(PY) build.py serve $(PROJECT_ARG)

test: $(VENV)/.installed ## run the whole test suite (unit, golden, property, browser)
	$(PY) -m ruff check .
	$(PY) -m pytest

release-check: $(VENV)/.installed ## does the data version bump match the changes since main? (BASE=ref to compare)
	$(PY) build.py release-check $(PROJECT_ARG) $(if $(BASE),--base $(BASE))

deploy: $(VENV)/.installed ## commit this data version as a snapshot to the local gh-pages branch (SITE_URL=... or mkdocs.yml site_url)
	$(PY) build.py deploy $(PROJECT_ARG) $(if $(SITE_URL),--site-url "$(SITE_URL)") $(if $(PUSH),--push)

test-fast: $(VENV)/.installed ## the tests that need no browser
	$(PY) -m pytest -m "not browser"

lint: $(VENV)/.installed ## ruff lint and format check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

lock: $(VENV)/.installed ## re-pin dependencies with hashes
	$(PY) -m pip install --quiet pip-tools
	$(PY) -P -m piptools compile --quiet --generate-hashes --allow-unsafe --extra test --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

clean: ## remove build output (keeps .venv)
	rm -rf .build site
