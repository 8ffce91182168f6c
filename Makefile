# PicoClaw stack: one entry point for developers and CI.
#   make test           everything CI runs (installs what it needs on a fresh Debian machine)
#   make deploy         ansible-playbook site.yml with the bundled inventory
#   make bench-gateway  gateway memory/latency benchmark (prints one JSON object per profile)
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3
INVENTORY ?= inventory/hosts.yml
GATEWAY_TEST_WORKERS ?= 2
# The pinned tools first on PATH for every recipe and script (scripts/lib.sh reads PICOCLAW_VENV).
export PICOCLAW_VENV := $(abspath $(VENV))
export PATH := $(PICOCLAW_VENV)/bin:$(PATH)
# Installed again only when these files change (by content: a worktree may share another's venv).
DEPS_HASH := $(shell cat requirements-dev.txt gateway_src/pyproject.toml | sha256sum | cut -c1-16)

.PHONY: test deps install-deps system-deps lint sanity units gateway-test wizard-test build image-test molecule \
        molecule-fleet deploy bench-gateway deploy-figures clean

# Ordered cheap-to-expensive; scripts/test-all.sh runs each gate and prints a pass/fail summary.
GATES := lint sanity units gateway-test wizard-test build image-test molecule molecule-fleet

test: deps system-deps
	@scripts/test-all.sh $(GATES)

deps:
	@[ "$$(cat $(VENV)/.deps-stamp 2>/dev/null)" = "$(DEPS_HASH)" ] || $(MAKE) --no-print-directory install-deps

install-deps:
	@# Debian/Ubuntu ship venv separately: install it when missing (root), else say what to install.
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); command -v apt-get >/dev/null \
	  && [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); } \
	  || { echo "make: cannot create $(VENV): install python3-venv (apt-get install python3-venv)" >&2; exit 1; }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt -e 'gateway_src[all]'
	echo $(DEPS_HASH) > $(VENV)/.deps-stamp

# Docker engine, compose v2, debootstrap and shellcheck (root, Debian); a no-op where they already work.
system-deps:
	bash scripts/ci/install-docker.sh

lint: deps
	cd gateway_src && ruff check . && ruff format --check .
	ruff check plugins tests scripts
	python scripts/role_vars.py
	bash scripts/collection/lint.sh
	bash scripts/collection/changelog.sh

sanity: deps
	bash scripts/collection/sanity.sh

units: deps
	bash scripts/collection/units.sh

# Both cores: the e2e tests that share a gateway are grouped on one worker (tests/e2e/conftest.py).
gateway-test: deps
	$(MAKE) --no-print-directory -C gateway_src test PYTHON=python WORKERS=$(GATEWAY_TEST_WORKERS)

wizard-test: deps
	pytest -q -p no:cacheprovider tests/wizard

build: deps
	bash scripts/collection/build.sh

image-test: deps
	pytest -q -p no:cacheprovider tests/image

molecule: deps
	molecule test

molecule-fleet: deps
	molecule test --scenario-name fleet

deploy: deps
	ansible-playbook -i $(INVENTORY) site.yml

bench-gateway: deps
	$(MAKE) -C gateway_src bench-gateway PYTHON=python

deploy-figures: deps system-deps
	python scripts/bench/deploy_figures.py

clean:
	rm -rf build .pytest_cache gateway_src/wheelhouse/*.whl
