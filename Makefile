# Two entry points for a newcomer: `make run` and `make test`. Both create .venv
# when it is missing and install the project into it first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint test-ckan bench profile setup clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m pipeline run

# The report page's test opens it in a real headless browser: Debian's chromium.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# Bytecode is cached (in .venv/pycache, even where PYTHONDONTWRITEBYTECODE is set): each
# pytest-xdist worker would otherwise compile the project and rewrite every test module's
# asserts again (about 2.5 s of each worker's start).
PYCACHE := env -u PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX=$(CURDIR)/$(VENV)/pycache

test: lint $(CHROMIUM)
	$(PYCACHE) $(BIN)/python -m pytest -q -n auto --dist loadfile

# ruff (format check and lint, configured in pyproject.toml) and sqlfluff (.sqlfluff).
lint: $(STAMP)
	$(BIN)/ruff format --check pipeline schemas tests benchmarks
	$(BIN)/ruff check pipeline schemas tests benchmarks
	$(BIN)/sqlfluff lint pipeline/sql benchmarks

# The push round trip against a real CKAN 2.9.11 (the portal's version), set up from
# nothing: Debian packages, CKAN in .ckan-venv/ (cached), a private PostgreSQL and Redis,
# all stopped at the end. See tests/ckan/run.sh.
test-ckan: $(STAMP)
	bash tests/ckan/run.sh $(BIN)/python -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

# Where the time goes: a run of generated reports under pyinstrument, in one process.
profile: $(STAMP)
	$(BIN)/python benchmarks/profile_run.py

clean:
	rm -rf curated/* exports/* && touch curated/.gitkeep exports/.gitkeep
