# Framescope: `make run` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: run test install migrate demo lint bench data clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

run: demo
	$(PY) manage.py run_all

test: install
	FRAMESCOPE_DATA_DIR=$${FRAMESCOPE_DATA_DIR:-$(CURDIR)/var/test} $(PY) -m pytest $(PYTEST_ARGS)

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
