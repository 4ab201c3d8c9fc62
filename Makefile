# The two commands a new user needs (see README):  make serve   and   make test
# Everything else here is what those two need on a fresh machine: a virtualenv with the pinned
# Python packages, and the pinned buf CLI from npm.

VENV    := .venv
PY      := $(VENV)/bin/python
PYSTAMP := $(VENV)/.installed
JSSTAMP := node_modules/.installed

.PHONY: setup serve test fuzz generate lint fmt lock

setup: $(PYSTAMP) $(JSSTAMP)

$(PYSTAMP): pyproject.toml clients/python/pyproject.toml requirements/lock.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check pip==26.3
	$(PY) -m pip install --quiet -c requirements/lock.txt -e clients/python -e '.[dev]'
	touch $@

# `npm install` with the committed lock installs the locked versions. Not `npm ci`: buf's
# per-platform binaries are optional dependencies, and npm leaves the other platforms' entries
# out of the lock, which `npm ci` then refuses as out of sync.
$(JSSTAMP): package.json package-lock.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

## Run the gateway against the built-in WeChat sandbox: no credentials, no network.
serve: $(PYSTAMP)
	$(VENV)/bin/fapiao-gateway serve --sandbox

## The whole test suite: codegen freshness, buf lint/format, ruff, mypy, unit, sandbox, end to end.
test: setup
	$(VENV)/bin/pytest -n 2

## A long property-based run of malformed requests against every RPC (the suite runs a short one).
fuzz: setup
	FAPIAO_FUZZ_EXAMPLES=5000 $(VENV)/bin/pytest tests/e2e/test_fuzz.py

## Regenerate the committed clients from proto/.
generate: setup
	scripts/generate

## Apply ruff's formatting and safe fixes.
fmt: $(PYSTAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## Refresh requirements/lock.txt from what pyproject.toml resolves to.
lock: $(PYSTAMP)
	$(PY) -m pip freeze --exclude-editable > requirements/lock.txt
