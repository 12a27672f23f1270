# sfops.integration: `make demo` and `make test` set everything up themselves.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Newest Python that ansible-core 2.21 supports: pyenv's 3.13/3.12 first, else what is on PATH.
BOOT_PYTHON ?= $(firstword \
	$(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) \
	$(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) \
	$(shell command -v python3.13 python3.12 python3 2>/dev/null))

# The oldest ansible-core the collection claims (meta/runtime.yml) gets a virtualenv of its own, on a
# Python that ansible-core 2.17 supports on the controller (3.10-3.12) and the emulator too (3.11+).
OLDEST_BOOT_PYTHON ?= $(firstword \
	$(wildcard $(HOME)/.pyenv/versions/3.11*/bin/python3.11) \
	$(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) \
	$(shell command -v python3.11 python3.12 2>/dev/null))

VENV := .venv
PY := $(CURDIR)/$(VENV)/bin/python
OLDEST_VENV := .venv-oldest
OLDEST_PY := $(CURDIR)/$(OLDEST_VENV)/bin/python
OLDEST_STAMP := $(OLDEST_VENV)/.sfops-installed
LINT_VENV := .venv-lint
VENV_STAMP := $(VENV)/.sfops-installed
LINT_STAMP := $(LINT_VENV)/.sfops-installed

BUILD := $(CURDIR)/build
# ansible-playbook and Python imports accept a symlinked collection...
COLLECTIONS := $(BUILD)/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/sfops/integration
# ...ansible-test and ansible-lint need a real copy.
SANITY_ROOT ?= $(BUILD)/sanity
SANITY_COPY := $(SANITY_ROOT)/ansible_collections/sfops/integration

PYTEST_ARGS ?=
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export PYTHONPATH := $(COLLECTIONS)

.PHONY: help venv venv-oldest collection demo test units units-oldest emulator-tests module-tests module-tests-oldest \
	module-tests-both sanity lint build clean bench test-live

help:
	@echo "make demo   roll out integration users to three emulated orgs: plan (check mode), apply, re-run"
	@echo "make test   unit and module (ansible-playbook) tests on the oldest and newest ansible-core claimed,"
	@echo "            emulator tests, ansible-test sanity and ansible-lint on the newest"
	@echo "make bench  API requests and wall time of scenario S1 vs record by record and Ansible's floor (~5 min); writes docs/performance.md"

# The virtualenv is rebuilt only when a requirements file changes.
$(VENV_STAMP): requirements.txt meta/requirements.txt requirements-dev.txt tests/emulator/pyproject.toml
	@test -x $(VENV)/bin/python || { \
		test -n "$(BOOT_PYTHON)" || { echo "No python3 found"; exit 1; }; \
		echo "Creating $(VENV) with $(BOOT_PYTHON)"; \
		$(BOOT_PYTHON) -m venv $(VENV); }
	@mkdir -p $(BUILD)
	@if $(PY) -c 'import sys; sys.exit(sys.version_info >= (3, 12))'; then \
		echo "$(VENV) has Python < 3.12: using the newest ansible-core it supports"; \
		sed 's/^ansible-core==.*/ansible-core>=2.17,<2.20/' requirements-dev.txt > $(BUILD)/requirements-dev.txt; \
	else cp requirements-dev.txt $(BUILD)/requirements-dev.txt; fi
	$(PY) -m pip install --quiet -r $(BUILD)/requirements-dev.txt
	$(PY) -m pip install --quiet -e tests/emulator
	@touch $@

venv: $(VENV_STAMP)

# The same pins as .venv but ansible-core, which comes from requirements-oldest.txt.
$(OLDEST_STAMP): requirements.txt meta/requirements.txt requirements-dev.txt requirements-oldest.txt \
		tests/emulator/pyproject.toml
	@test -x $(OLDEST_VENV)/bin/python || { \
		test -n "$(OLDEST_BOOT_PYTHON)" || { echo "No Python 3.11 or 3.12 found for ansible-core 2.17"; exit 1; }; \
		echo "Creating $(OLDEST_VENV) with $(OLDEST_BOOT_PYTHON)"; \
		$(OLDEST_BOOT_PYTHON) -m venv $(OLDEST_VENV); }
	@mkdir -p $(BUILD)
	@{ grep -v '^ansible-core==' requirements-dev.txt; grep '^ansible-core==' requirements-oldest.txt; } \
		> $(BUILD)/requirements-oldest.txt
	$(OLDEST_PY) -m pip install --quiet -r $(BUILD)/requirements-oldest.txt
	$(OLDEST_PY) -m pip install --quiet -e tests/emulator
	@touch $@

venv-oldest: $(OLDEST_STAMP)

$(LINT_STAMP): requirements-lint.txt
	@test -x $(LINT_VENV)/bin/python || $(PY) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/python -m pip install --quiet -r requirements-lint.txt
	@touch $@

collection:
	@mkdir -p $(dir $(COLLECTION_LINK))
	@ln -sfn $(CURDIR) $(COLLECTION_LINK)

demo: venv collection
	$(PY) scripts/demo.py

# Unit and module tests on the newest and the oldest ansible-core claimed; the rest on the newest.
test: venv venv-oldest collection
	$(MAKE) -k units units-oldest emulator-tests module-tests-both sanity lint

# Several minutes; never part of make test. BENCH_ARGS=--smoke for a quick check (one org, no latency,
# results in a temporary directory).
bench: venv collection
	$(PY) tests/bench/run_bench.py $(BENCH_ARGS)

# Each test run first says which ansible-core and Python it runs on.
VERSIONS := import sys, ansible.release as r; print("== ansible-core %s, Python %s ==" % (r.__version__, sys.version.split()[0]))

# pytest exits 5 when it collected nothing: make treats that as the failure it is.
units: venv collection
	@$(PY) -c '$(VERSIONS)'
	$(PY) -m pytest -q tests/unit $(PYTEST_ARGS)

units-oldest: venv-oldest collection
	@$(OLDEST_PY) -c '$(VERSIONS)'
	$(OLDEST_PY) -m pytest -q tests/unit $(PYTEST_ARGS)

emulator-tests: venv
	$(PY) -m pytest -q tests/emulator/tests $(PYTEST_ARGS)

# The modules and the role through real ansible-playbook runs against the emulator.
module-tests: venv collection
	@$(PY) -c '$(VERSIONS)'
	$(PY) -m pytest -q -n 2 tests/modules $(PYTEST_ARGS)

module-tests-oldest: venv-oldest collection
	@$(OLDEST_PY) -c '$(VERSIONS)'
	$(OLDEST_PY) -m pytest -q -n 2 tests/modules $(PYTEST_ARGS)

# Both at once: each suite spends about half its time waiting for ansible-playbook runs and the
# emulator, so together they keep the two cores busy (about 8 minutes instead of 14). The oldest
# suite's output follows the newest's; either failing fails the target.
module-tests-both: venv venv-oldest collection
	@mkdir -p $(BUILD)
	@newest=0; oldest=0; \
		$(MAKE) --no-print-directory module-tests-oldest > $(BUILD)/module-tests-oldest.log 2>&1 & pid=$$!; \
		$(MAKE) --no-print-directory module-tests || newest=$$?; \
		wait $$pid || oldest=$$?; \
		cat $(BUILD)/module-tests-oldest.log; \
		test $$newest -eq 0 && test $$oldest -eq 0

# The module tests against a real org (a sandbox or a Developer Edition org) given by SF_LIVE_* variables
# (tests/live/conftest.py); every test is skipped, saying what to set, without them. Not part of make test,
# which runs them once against the emulator (tests/modules/test_live_tests_on_the_emulator.py).
test-live: venv collection
	$(PY) -m pytest -q -rs tests/live $(PYTEST_ARGS)

# A fresh real copy of the working tree (tracked + untracked, not ignored), without the
# emulator package, which is not part of the collection and has its own tests.
$(SANITY_COPY): FORCE
	@rm -rf $(SANITY_ROOT) && mkdir -p $@
	@git ls-files -z --cached --others --exclude-standard \
		| grep -zv '^tests/emulator/' \
		| while IFS= read -r -d '' f; do test -e "$$f" && printf '%s\0' "$$f"; done \
		| tar --null -T - -cf - | tar -xf - -C $@
	@# build/ is git-ignored in this repo: give the copy its own repository so ansible-test's
	@# file discovery sees the files (untracked, not ignored) instead of skipping them all.
	@git -C $@ init -q
.PHONY: FORCE
FORCE:

# ansible-test builds its own virtualenvs and bootstraps pip from a host this network cannot
# reach, unless a bootstrap script is cached: ours runs ensurepip and installs from the index.
sanity: venv $(SANITY_COPY)
	@pip_version=$$($(PY) -c 'from ansible_test._internal.python_requirements import get_venv_packages as g; \
		from types import SimpleNamespace as N; print(g(N(version=None))["pip"])'); \
		mkdir -p $(HOME)/.ansible/test/cache; \
		cp scripts/get_pip_standin.py $(HOME)/.ansible/test/cache/get_pip_$${pip_version//./_}.py
	cd $(SANITY_COPY) && $(CURDIR)/$(VENV)/bin/ansible-test sanity --color no \
		--python $$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])') --requirements

lint: venv $(LINT_STAMP) $(SANITY_COPY)
	cd $(SANITY_COPY) && ANSIBLE_COLLECTIONS_PATH=$(SANITY_ROOT) $(CURDIR)/$(LINT_VENV)/bin/ansible-lint --offline

build: venv
	@mkdir -p $(BUILD)
	$(VENV)/bin/ansible-galaxy collection build --force --output-path $(BUILD) .

clean:
	rm -rf $(BUILD) tests/output reports
