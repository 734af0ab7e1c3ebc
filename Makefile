# Pixee Imports. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# make test runs against the real PostgreSQL and Redis on localhost.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/pixee
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15
# make bench has its own database (created if missing) and Redis db, apart from the tests'.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/pixee_bench
BENCH_BROKER_URL ?= redis://127.0.0.1:6379/11

.DEFAULT_GOAL := help
.PHONY: help venv run test test-fast bench lint format migrations services browser clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed ## Create .venv with the project and its test tools (idempotent)

run: venv ## Serve the embedded default (SQLite, filesystem broker): web + worker + beat on :8000 (make run PORT=8080 for another port)
	PORT=$(PORT) BIN=$(BIN) scripts/run-embedded

services: ## Start PostgreSQL and Redis on localhost when installed and stopped
	scripts/ensure-services

browser: ## Debian's Chromium for the admin's browser tests (apt-get install when missing)
	scripts/ensure-chromium

test: venv services browser ## The whole suite on PostgreSQL + Redis, end-to-end tests included
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) $(BIN)/pytest $(PYTEST_ARGS)

test-fast: venv services ## The suite without the slow end-to-end tests
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) $(BIN)/pytest -m "not slow" $(PYTEST_ARGS)

bench: venv services ## The benchmarks (BENCH_ROWS=100000 for a quick run); figures go to var/bench/results.json
	DATABASE_URL=$(BENCH_DATABASE_URL) CELERY_BROKER_URL=$(BENCH_BROKER_URL) $(BIN)/python -m bench

lint: venv ## ruff (lint + format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: venv ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations: venv ## Make migrations after a model change
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py makemigrations

clean: ## Remove the embedded default's data (var/)
	rm -rf var/
