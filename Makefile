# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP_FLAGS := --disable-pip-version-check -q

.PHONY: demo test bench clean

$(VENV)/.base: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) --upgrade pip
	$(PY) -m pip install $(PIP_FLAGS) -e .
	touch $@

$(VENV)/.dev: $(VENV)/.base
	$(PY) -m pip install $(PIP_FLAGS) -e ".[dev]"
	touch $@

$(VENV)/.bench: $(VENV)/.base
	$(PY) -m pip install $(PIP_FLAGS) -e ".[bench]"
	touch $@

demo: $(VENV)/.base
	$(VENV)/bin/marljax demo --out results/demo

# Lint and format are checked first (ruff, configured in pyproject.toml), so drift fails CI.
# pytest exits 5 when it collects no test; that is not a failure of the project. The suite is
# compile-bound (single-threaded XLA compiles), so two workers (pytest-xdist) use both cores; a test
# file stays on one worker, so its module-scoped fixtures compile once.
test: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -x -q -n 2 --dist loadfile --durations=15 tests; rc=$$?; if [ $$rc -eq 5 ]; then exit 0; else exit $$rc; fi

bench: $(VENV)/.bench
	$(PY) benchmarks/env_throughput.py

clean:
	rm -rf $(VENV) results build *.egg-info
