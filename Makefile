PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/downwatch demo

test: $(STAMP)
	bash .ci/postgres    # Debian's postgresql (and nft) for the PostgreSQL tests, when missing and root
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check bot adapters tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) *.egg-info
