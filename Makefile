# evenergy-etl: every target goes through uv; `make` alone lists them.
# uv is not assumed on the machine: it is installed once into .tools/ from PyPI.

PYTHON ?= python3
UV := .tools/bin/uv
RUN := $(UV) run --frozen

.PHONY: help dev system fmt lint test check demo run bench clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-7s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

# --compile-bytecode: the installed packages' .pyc are written once here (9 s on 2 cores, then
# 0.4 s). Where PYTHONDONTWRITEBYTECODE is set (as in the container this was measured in),
# Python never writes them itself and every process compiles dbt, dlt, pyarrow... from source
# again: 1.1 s of dbt's 2.9 s import, in each CLI run and benchmark worker the tests start.
dev: $(UV)  ## install the project and its dev tools into .venv
	$(UV) sync --frozen --compile-bytecode

system:  ## Chromium and PostgreSQL for the browser and catalog tests (apt-get, when missing)
	scripts/system-packages

fmt: dev  ## format the code
	$(RUN) ruff format pipelines bench tests
	$(RUN) ruff check --fix pipelines bench tests

lint: dev  ## ruff and mypy
	$(RUN) ruff format --check pipelines bench tests
	$(RUN) ruff check pipelines bench tests
	$(RUN) mypy

# `test` depends on `lint`, so CI (`.ci/run` calls `make test`) gates formatting, lint and
# types too; make runs a prerequisite once, so `make check` lints once.
test: lint system  ## lint and types, then the whole test suite (offline; simulator on loopback)
	$(RUN) pytest

check: lint test  ## lint, types, tests: the same gate as `make test`, which CI runs

demo: dev  ## simulator + pipeline + models + Parquet export + summary
	$(RUN) evenergy-etl demo

run: dev  ## the nightly job, as cron calls it
	$(RUN) evenergy-etl run

bench: dev  ## request efficiency, throughput, memory and model speed; writes bench/results/
	$(RUN) python -m bench

clean:  ## remove local build products (not the warehouse)
	rm -rf .venv .tools .pytest_cache .ruff_cache .mypy_cache
