# ClubPress: every target installs what it needs first, so a bare Debian machine
# only needs `make run` or `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
APT_PACKAGES := fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 poppler-utils
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
MEMBERS ?= 5000

.PHONY: setup system-deps run test bench dev sample clean

setup: system-deps $(VENV)/.installed

# Debian packages: the CJK fonts, HarfBuzz subsetting (fast font embedding) and Pango.
system-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing system packages:" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(VENV)/.installed: requirements.lock pyproject.toml
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	@touch $@

run: setup
	$(BIN)/clubpress run

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python -m bench

# The Dagster UI with the assets, checks, schedule and sensor; its state (runs, schedule
# ticks, sensor cursors) persists in .dagster_home/.
dev: setup
	@mkdir -p .dagster_home
	@[ -f .dagster_home/dagster.yaml ] || printf 'telemetry:\n  enabled: false\n' > .dagster_home/dagster.yaml
	DAGSTER_HOME=$(CURDIR)/.dagster_home $(BIN)/dagster dev -m pipeline.definitions

# Regenerate the bundled sample exports in data/sample/ (deterministic).
sample: setup
	$(BIN)/clubpress sample --members $(MEMBERS) --seed 2026 --out data/sample

clean:
	rm -rf output data/warehouse.duckdb data/warehouse.duckdb.wal .dagster_home
