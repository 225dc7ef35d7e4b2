# Framescope: `make run` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# What `make run` needs (the app) and what `make test`, `lint` and `bench` need on top (the test extras): a newcomer
# who only runs the app does not wait for Playwright, pandas, statsmodels and the rest. --no-compile: Python compiles
# the modules it imports when it first imports them, instead of pip compiling all 5,000 files of the dependencies at
# install; migrate and load_demo skip Django's system checks, which run_all's server runs (docs/benchmarks.md, First run).
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
PYTEST_ARGS ?=
# Test processes in parallel (pytest-xdist; each has its own data folder and broker: tests/conftest.py).
TEST_PROCESSES ?= auto

.PHONY: run test install install-run migrate demo lint bench data clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --no-compile -e .
	@touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --no-compile -e ".[test]"
	@touch $(TEST_STAMP) $(RUN_STAMP)

install-run: $(RUN_STAMP)

install: $(TEST_STAMP)

migrate: install-run
	$(PY) manage.py migrate --noinput --skip-checks

demo: migrate
	$(PY) manage.py load_demo --skip-checks

run: demo
	$(PY) manage.py run_all

test: install
	FRAMESCOPE_DATA_DIR=$${FRAMESCOPE_DATA_DIR:-$(CURDIR)/var/test} $(PY) -m pytest -n $(TEST_PROCESSES) $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check annotator ml tests bench scripts
	$(PY) -m ruff format --check annotator ml tests bench scripts

bench: install
	$(PY) -m bench

# The real BABE data set (AGPL-3.0) for the data tests and benchmarks; the tests do not need it.
data:
	$(PYTHON) scripts/fetch_babe.py

clean:
	rm -rf $(VENV) var
