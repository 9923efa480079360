# The two commands a newcomer needs: `make drill` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: setup check test docs drill lab-up lab-down lab-status bench-lab bench-load bench-soak bench-soak-lab bench-capacity clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

# constraints.txt pins every package to versions known to work together: a fresh install resolves
# at once instead of backtracking through the index (kubernetes >= 32 alone can take many minutes).
$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# The checks first (seconds), then the tests: the README's one test command, which .ci/run calls.
check: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/mypy

# The tests without the lab run on both cores (pytest-xdist); so do the lab tests, each worker with its own
# session lab (tests/conftest.py; every port is free_port(), every state dir the worker's own), test by test
# (--dist loadgroup) but for those sharing a lab of their own (marked xdist_group: on one worker). Last, the
# tests whose verdict needs the generator to keep time (marked serial) run in one process beside nothing else.
test: check docs
	$(BIN)/python -m pytest -q -m "not lab and not serial" -n 2
	$(BIN)/python -m pytest -q -m "lab and not serial" -n 2 --dist loadgroup
	$(BIN)/python -m pytest -q -m "serial"

# The documentation site (docs/, mkdocs.yml) into site/: a warning is an error; the command and operation
# reference pages are generated from the code while it builds (gameday.cli.reference). Seconds.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

drill: $(STAMP)
	$(BIN)/gameday drill run drills/region-failover.yaml --out out/drill --auto-confirm 1

lab-up: $(STAMP)
	$(BIN)/gameday lab up

lab-status: $(STAMP)
	$(BIN)/gameday lab status

lab-down: $(STAMP)
	$(BIN)/gameday lab down

bench-lab: $(STAMP)
	$(BIN)/python -m gameday.lab.bench

clean:
	-$(BIN)/gameday lab down
	rm -rf .gameday out site

bench-load: $(STAMP)
	$(BIN)/python -m gameday.load.bench

# The runner's cost over soaks of 1 h, 10 h and 24 h of 8 workers (synthetic files, a few minutes, ~1 GB in /tmp).
bench-soak: $(STAMP)
	$(BIN)/python -m gameday.soak_bench

# A real 10-minute soak against the lab: the runner's own CPU per minute, last within 20 % of the first
# (~12 minutes of lab time under the shared lab lock: not part of make test).
bench-soak-lab: $(STAMP)
	flock /tmp/gameday-lab.lock $(BIN)/python -m gameday.api.soak_lab_bench

# The lab's knee as ingest latency is added (minutes of lab time: not part of make test).
bench-capacity: $(STAMP)
	flock /tmp/gameday-lab.lock $(BIN)/python -m gameday.api.capacity_bench
