# pgvault: two commands on a fresh Debian/Ubuntu machine, as root or as a user with sudo.
#   make demo   installs what is missing, then runs the sandbox end to end
#   make test   installs what is missing, then runs the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
# Debian's packages: the database, the backup tool, the SSH server standing in for
# the DB host, and the tools the tests and benchmarks drive.
APT_PACKAGES := postgresql postgresql-contrib pgbackrest openssh-server openssh-client sudo \
	python3-venv ca-certificates procps zstd lz4 gzip cron chromium tzdata

.PHONY: deps system-deps demo lint test test-fast test-unit soak bench bench-reference clean-sandbox
# the benchmark's dataset: small (about 210 MB, under 10 minutes), default (about 2 GB) or a seed scale number
SCALE ?= default

deps: system-deps $(BIN)/.installed

system-deps:
	@missing=$$(for p in $(APT_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "installing Debian packages:" $$missing; \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing \
	    || { $(SUDO) apt-get update -q && \
	         $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; }; \
	fi

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[control,sandbox,test]'
	touch $@

demo: deps
	$(BIN)/fab sandbox.demo

# ruff (pyflakes, pycodestyle, bugbear, pyupgrade, import order) over the whole tree; make test runs it first
lint: deps
	$(BIN)/ruff check .

# the suite runs in TEST_WORKERS pytest-xdist processes, a whole test module at a time in one process
# (--dist loadfile), the heaviest modules handed out first (tests/conftest.py); each process that runs a test
# needing the shared sandbox starts its own (tests/fixtures.py). Most of the suite waits on PostgreSQL,
# pgBackRest and S3, so three processes keep two cores busy.
TEST_WORKERS ?= 3
XDIST := -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

test: lint
	$(BIN)/pytest -m "not soak" $(XDIST) --durations=25

test-fast: lint
	$(BIN)/pytest -m "not slow and not soak" $(XDIST)

# the soak test: PGVAULT_SOAK_MINUTES (default 10) of writes, backups, retention and drills
soak: deps
	$(BIN)/pytest -m soak tests/soak

# the benchmark (not part of make test): bench/runs/<time>-<scale>.md and .json
bench: deps
	$(BIN)/python -m bench run --scale $(SCALE)

# the committed reference run at the default scale: bench/RESULTS.md and bench/reference.json
bench-reference: deps
	$(BIN)/python -m bench run --scale default --reference

test-unit: lint
	$(BIN)/pytest -m "unit or infra"

clean-sandbox: deps
	$(BIN)/fab sandbox.down
