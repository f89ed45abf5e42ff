# Tangram — two commands: `make run` (set up everything and serve) and `make test` (lint + suite).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test lint format install db admin demo web web-deps api-types api-types-check chromium serve worker fuzz clean help

help:
	@echo "make run    set up (virtualenv, dependencies, database, admin) and serve on http://$(HOST):$(PORT)"
	@echo "make test   set up what the suite needs, then lint and run every test"
	@echo "make lint   ruff, mypy (strict), the layer contracts, tsc, eslint and the API types"
	@echo "make fuzz   schemathesis over a served instance with the demo, as an administrator and an agent"
	@echo "make api-types  regenerate the front end's typed API client from the OpenAPI document"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# the web front end (React + Vite in static/): npm packages from package-lock.json, then a build
WEB_STAMP := static/node_modules/.installed
$(WEB_STAMP): static/package-lock.json
	cd static && npm ci --no-audit --no-fund
	@touch $(WEB_STAMP)

web-deps: $(WEB_STAMP)

web: $(WEB_STAMP)
	cd static && npm run build

# the front end's typed API client is generated from the server's OpenAPI document; `make lint`
# fails when the committed types differ from what the API says now
API_CACHE := static/node_modules/.cache/tangram
api-types: install $(WEB_STAMP)
	@mkdir -p $(API_CACHE)
	$(BIN)/tangram openapi --output $(API_CACHE)/openapi.json
	cd static && npm run --silent api:types

api-types-check: install $(WEB_STAMP)
	@mkdir -p $(API_CACHE)
	@$(BIN)/tangram openapi --output $(API_CACHE)/openapi.json
	@cd static && npx openapi-typescript node_modules/.cache/tangram/openapi.json --default-non-nullable false --silent -o node_modules/.cache/tangram/schema.d.ts
	@cmp -s $(API_CACHE)/schema.d.ts static/src/client/schema.d.ts || \
		(echo "static/src/client/schema.d.ts is out of date with the API: run make api-types"; exit 1)

# browser tests drive Debian's headless Chromium
chromium:
	@dpkg -s chromium fonts-wqy-zenhei >/dev/null 2>&1 || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-wqy-zenhei)

db: install
	$(BIN)/tangram db upgrade

admin: db
	$(BIN)/tangram user ensure-admin

# the after-sales package and a two-year demo history (once: later runs keep the data)
DEMO_TICKETS ?= 120
demo: admin
	$(BIN)/tangram demo seed --once --tickets $(DEMO_TICKETS) --package apps/aftersales

serve: install
	$(BIN)/tangram serve --host $(HOST) --port $(PORT)

run: demo web serve

worker: install
	$(BIN)/tangram worker

lint: install $(WEB_STAMP) api-types-check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	cd static && npm run --silent typecheck && npx eslint .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# the suite in one process per core (pytest-xdist; each process has its own database)
TEST_WORKERS ?= auto
test: lint web chromium
	cd static && npm test --silent
	$(BIN)/pytest -n $(TEST_WORKERS)
	$(BIN)/python -m tests.fuzz

# schemathesis against a served instance with the after-sales demo (SQLite unless
# TANGRAM_TEST_DATABASE_URL names a PostgreSQL database); FUZZ_EXAMPLES cases per operation
FUZZ_EXAMPLES ?= 5
fuzz: install
	$(BIN)/python -m tests.fuzz --max-examples $(FUZZ_EXAMPLES)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info static/node_modules static/dist
