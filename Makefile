# Trainy: `make run` serves on embedded defaults; `make test` runs everything on real services.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint services-up services-down services-status deps deps-dev python-check deploy-tools image

run: deps ## Serve Trainy on http://127.0.0.1:8000 with SQLite and a small demo; no services needed.
	DEBUG=true $(PY) manage.py migrate --noinput
	DEBUG=true $(PY) manage.py load_demo
	@echo "Trainy is starting on http://$(HOST):$(PORT)/ (demo account: demo / demo)"
	DEBUG=true $(PY) manage.py runserver $(HOST):$(PORT)

test: deps-dev services-up ## Install and start the real services, then run ruff and every test (the chart's and Flux's checks included).
	scripts/test

lint: deps-dev
	$(VENV)/bin/ruff check .

services-up: ## Install (if missing) and start PostgreSQL, Redis, RabbitMQ, FerretDB, Chromium.
	scripts/services install
	scripts/services up

deploy-tools: ## Build helm and kustomize, install checkov (once; cached in /var/cache/trainy).
	scripts/deploy-tools install

image: ## Build the image from the Dockerfile with buildah on a stand-in base (see README, "The image").
	scripts/image build

services-down:
	scripts/services down

services-status:
	scripts/services status

python-check:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Trainy needs Python 3.11 or newer; this is " + sys.version.split()[0])'

# The virtualenv is rebuilt only when the requirements change (stamp files).
$(VENV)/.deps: requirements.txt | python-check
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.deps-dev: requirements.txt requirements-dev.txt $(VENV)/.deps
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

deps: $(VENV)/.deps
deps-dev: $(VENV)/.deps-dev
