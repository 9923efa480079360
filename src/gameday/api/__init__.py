"""gameday's Python API: every command of the CLI as a function (the CLI only parses and prints).

    from gameday import api
    report = api.run_drill("drills/region-failover.yaml")  # out/drill/region-failover/<time>-<run id>/
    summary = api.run_load(api.LoadOptions(profile=Path("loadprofiles/ingest_steady.py"), rate=200,
                                           slos=["p95<300ms"]))
    verdict = api.run_experiment("experiments/az-outage.yaml")
    undone = api.recover_journal(Path("out/drill/region-failover/latest/journal.jsonl"))
    api.init_folder(Path("gameday"))  # the standard folder (``aws=AwsInitOptions(...)``: with discovery)

Runs on the local lab use :func:`lab_session`, one context manager with one stop policy: reuse a running
lab (restored to its configured shape) or start one, and stop only a lab the run started, unless kept.
"""

from __future__ import annotations

from gameday.api.chaos import dry_run_experiment, run_experiment, validate_experiment
from gameday.api.drill import load_drill_for_run, plan_drill, regenerate_reports, run_drill
from gameday.api.init import init_folder
from gameday.api.lab import LabSession, lab_session
from gameday.api.load import LoadOptions, run_load
from gameday.api.plan import aws_plan
from gameday.api.recover import recover_journal
from gameday.api.rehearse import run_rehearsal
from gameday.api.targets import open_target

__all__ = ["run_drill", "plan_drill", "load_drill_for_run", "regenerate_reports", "LoadOptions", "run_load",
           "run_experiment", "validate_experiment", "dry_run_experiment", "aws_plan", "recover_journal",
           "lab_session", "LabSession", "open_target", "run_rehearsal", "init_folder"]
