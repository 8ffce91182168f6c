# PicoClaw stack: one entry point for developers and CI.
#   make test           everything CI runs (installs what it needs on a fresh Debian machine)
#   make deploy         ansible-playbook site.yml with the bundled inventory
#   make bench-gateway  gateway memory/latency benchmark (prints one JSON object per profile)
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3
INVENTORY ?= inventory/hosts.yml

.PHONY: test deps system-deps lint sanity units gateway-test wizard-test build image-test molecule \
        molecule-fleet deploy bench-gateway deploy-figures clean

# Ordered cheap-to-expensive; scripts/test-all.sh runs each gate and prints a pass/fail summary.
GATES := lint sanity units gateway-test wizard-test build image-test molecule molecule-fleet

test: deps system-deps
	@scripts/test-all.sh $(GATES)

deps: $(VENV)/.deps-stamp

$(VENV)/.deps-stamp: requirements-dev.txt gateway_src/pyproject.toml
	@# Debian/Ubuntu ship venv separately: install it when missing (root), else say what to install.
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] \
	  && apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); } \
	  || { echo "make: cannot create $(VENV): install python3-venv (apt-get install python3-venv)" >&2; exit 1; }
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt -e 'gateway_src[all]'
	touch $@

# Docker engine, compose v2, debootstrap and shellcheck (root, Debian); a no-op where they already work.
system-deps:
	bash scripts/ci/install-docker.sh

lint: deps
	cd gateway_src && ../$(BIN)/ruff check . && ../$(BIN)/ruff format --check .
	$(BIN)/ruff check plugins tests scripts
	$(BIN)/python scripts/role_vars.py
	bash scripts/collection/lint.sh
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/collection/changelog.sh

sanity: deps
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/collection/sanity.sh

units: deps
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/collection/units.sh

gateway-test: deps
	cd gateway_src && ../$(BIN)/pytest -q -p no:cacheprovider tests

wizard-test: deps
	$(BIN)/pytest -q -p no:cacheprovider tests/wizard

build: deps
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/collection/build.sh

image-test: deps
	$(BIN)/pytest -q -p no:cacheprovider tests/image

molecule: deps
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/molecule test

molecule-fleet: deps
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/molecule test --scenario-name fleet

deploy: deps
	$(BIN)/ansible-playbook -i $(INVENTORY) site.yml

bench-gateway: deps
	$(MAKE) -C gateway_src bench-gateway PYTHON=$(CURDIR)/$(BIN)/python

deploy-figures: deps system-deps
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python tests/molecule/deploy_figures.py

clean:
	rm -rf build .pytest_cache gateway_src/wheelhouse/*.whl
