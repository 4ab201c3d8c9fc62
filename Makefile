# The two commands a new user needs (see README):  make serve   and   make test
# Everything else here is what those two need on a fresh machine: a virtualenv with the pinned
# Python packages, the pinned npm packages (buf, dclint, the TypeScript client's toolchain),
# and the Debian packages the Go and Java clients and the deployment checks use
# (scripts/install-debian-packages).

VENV    := .venv
PY      := $(VENV)/bin/python
PYSTAMP := $(VENV)/.installed
JSSTAMP := node_modules/.installed

.PHONY: setup debian-packages serve test fuzz generate config-example lint fmt lock bench bench-tools

setup: $(PYSTAMP) $(JSSTAMP) debian-packages

# Fast when installed (one dpkg query). Where apt-get cannot run, setup goes on: the tests
# that need a missing package then skip and name it.
debian-packages:
	@scripts/install-debian-packages || echo "make: warning: $$(scripts/install-debian-packages --check); the tests needing them will skip"

$(PYSTAMP): pyproject.toml clients/python/pyproject.toml requirements/lock.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check pip==26.3
	$(PY) -m pip install --quiet -c requirements/lock.txt -e clients/python -e '.[dev]'
	touch $@

# `npm install` with the committed lock installs the locked versions. Not `npm ci`: buf's
# per-platform binaries are optional dependencies, and npm leaves the other platforms' entries
# out of the lock, which `npm ci` then refuses as out of sync.
$(JSSTAMP): package.json package-lock.json clients/typescript/package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

## Run the gateway against the built-in WeChat sandbox: no credentials, no network.
serve: $(PYSTAMP)
	$(VENV)/bin/fapiao-gateway serve --sandbox

## The whole test suite: codegen freshness, buf lint/format/breaking, ruff, mypy, unit, sandbox,
## end to end, and every language's client against a live gateway.
test: setup
	$(VENV)/bin/pytest -n 2

## A long property-based run of malformed requests against every RPC (the suite runs a short one).
fuzz: setup
	FAPIAO_FUZZ_EXAMPLES=5000 $(VENV)/bin/pytest tests/e2e/test_fuzz.py

## nginx and h2load for the benchmarks (Debian packages; a no-op when installed).
bench-tools:
	scripts/install-bench-tools

## The gateway against its baselines, every RPC; rewrites the table in docs/benchmarks.md.
bench: setup bench-tools
	$(PY) -m bench.gateway --write-docs

## Regenerate the committed clients from proto/.
generate: setup
	scripts/generate

## Rewrite deploy/fapiao-gateway.example.toml from the settings model (the tests fail when stale).
config-example: $(PYSTAMP)
	$(VENV)/bin/fapiao-gateway config example --output deploy/fapiao-gateway.example.toml

## Apply ruff's formatting and safe fixes.
fmt: $(PYSTAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## Refresh requirements/lock.txt from what pyproject.toml resolves to.
lock: $(PYSTAMP)
	$(PY) -m pip freeze --exclude-editable > requirements/lock.txt
