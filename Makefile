# Two commands on a fresh machine:  make demo   and   make test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint serve bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Serve the sample web, crawl it into archive.db, print a summary and how to browse it.
demo: $(STAMP)
	$(BIN)/python -m crawler demo --db archive.db

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

serve: $(STAMP)
	$(BIN)/python -m archive serve --db archive.db

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) archive.db archive.db-wal archive.db-shm archive.db.lock .pytest_cache
