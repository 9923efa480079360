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

# The tests without the lab run on both cores (pytest-xdist); the lab tests share one lab, in one process,
# with the tests whose verdict needs the generator to keep time (marked serial) beside nothing else.
# LAB_WORKERS=2 (a machine with 4 cores or more) runs the lab tests on two workers, each with its own session
# lab (every port free_port(), every state dir the worker's own), a test file whole on one worker (a module's
# own lab stays with its tests; not loadgroup: with pytest 9.2 it ignores xdist_group, pytest-xdist#1386),
# then the serial ones alone. Not on 2 cores: the lab tests are CPU-bound (the
# 47 not marked serial used 1000 CPU-seconds in one run here), two labs there starve each other's drills.
LAB_WORKERS ?= 1

test: check docs
	$(BIN)/python -m pytest -q -m "not lab and not serial" -n 2
	if [ "$(LAB_WORKERS)" -gt 1 ]; then \
	  $(BIN)/python -m pytest -q -m "lab and not serial" -n $(LAB_WORKERS) --dist loadfile && \
	  $(BIN)/python -m pytest -q -m "serial"; \
	else $(BIN)/python -m pytest -q -m "lab or serial"; fi

# The documentation site (docs/, mkdocs.yml) into site/: a warning is an error; the command and operation
# reference pages are generated from the code while it builds (gameday.cli.reference). Seconds.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# Each run in its own folder, out/drill/region-failover/<time>-<run id>/ (latest: the newest); it prints where.
drill: $(STAMP)
	$(BIN)/gameday drill run drills/region-failover.yaml --auto-confirm 1

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

# The lab's knee as ingest latency is added inside its nodes: one lab, under five minutes under the shared lab
# lock (not part of make test); then the table, exit 1 unless each knee is below the one before.
bench-capacity: $(STAMP)
	rm -f out/bench-capacity/knee-*.json
	flock /tmp/gameday-lab.lock $(BIN)/python -m gameday.api.capacity_bench --latency 100 200 400
	$(BIN)/python -m gameday.api.capacity_bench --combine
