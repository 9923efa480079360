"""Drills from Python: validate, plan, run (on the lab or AWS), regenerate reports from a journal."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gameday.api.observe import new_run_id, observers
from gameday.api.targets import open_target
from gameday.config import check_service
from gameday.drill.data_probe import data_probe_options
from gameday.drill.models import LoadedDrill, load_drill
from gameday.drill.runner import DrillRun
from gameday.errors import ConfigError
from gameday.journal import Event, read_journal
from gameday.lab.control import DEFAULT_DIR
from gameday.lab.ingest_api import LAB_SERVICE
from gameday.operations import DATA_FAULTS, env_regions, fill
from gameday.report.write import write_reports
from gameday.restore.damage import statement_for
from gameday.runs import run_folder

__all__ = ["load_drill_for_run", "plan_drill", "run_drill", "regenerate_reports"]


def load_drill_for_run(drill: Path, env: Path | None = None, *, confirm: str | None = None) -> LoadedDrill:
    """Load and check everything a run needs before anything is touched (ConfigError: exit 2)."""
    loaded = load_drill(drill, env)
    e = loaded.environment
    if e.protected and confirm != e.name:
        raise ConfigError(f"environment '{e.name}' is protected: pass --confirm {e.name}", field="--confirm")
    check_service(e, loaded.environment_path)
    fault = loaded.drill.fault.action if loaded.drill.fault else None
    if fault in DATA_FAULTS:  # the destructive statement must be described before anything starts
        statement_for(e.service or LAB_SERVICE, fault, file=loaded.environment_path)
    return loaded


def plan_drill(loaded: LoadedDrill, *, confirm: str | None = None) -> list[str]:
    """What the drill would do, one line each; on AWS every API call, resolved with read-only calls."""
    if loaded.environment.kind == "aws":
        from gameday.api.plan import aws_plan, plan_lines

        return plan_lines(aws_plan(Path(loaded.path), Path(loaded.environment_path), confirm=confirm))
    d, scale = loaded.drill, loaded.environment.time_scale
    primary, dr = env_regions(loaded.environment)
    regions = {"primary_region": primary, "dr_region": dr}  # what the run fills in: the plan shows it filled
    lines = [f"environment {loaded.environment.name} (the local lab); load {d.load.profile} at {d.load.rate:g} "
             f"events/s; heartbeat every {d.heartbeat_interval_s:g} s",
             f"fault: {d.fault.action} {fill(d.fault.args, regions)} (inverse journaled first)" if d.fault else
             "no fault: a planned move, timed from the runbook's start"]
    if d.fault is not None and d.fault.action in DATA_FAULTS:  # the operator reads what will run on the data
        spec = loaded.environment.service or LAB_SERVICE
        lines.append(f"  statement: {statement_for(spec, d.fault.action, file=loaded.environment_path)}")
    for op in d.prepare:
        lines.append(f"prepare (unless already failed over): {op.action} {fill(op.args, regions)}")
    if d.conditions.link_delay_ms is not None:
        lines.insert(1, f"condition: cross-region link delay {d.conditions.link_delay_ms:g} ms (undone afterwards)")
    for i, st in enumerate(loaded.runbook.steps, 1):
        what = st.call or st.wait_for or (" ".join(st.command or []) if st.kind == "shell" else "a person confirms")
        what += f" {fill(st.args, regions)}" if st.call and st.args else ""
        lines.append(f"  {i}. [{st.kind}] {st.name}: {what} (budget {round(st.budget_s * scale, 3):g} s)")
    return [*lines, "dry run: nothing was changed"]


def run_drill(drill: Path | LoadedDrill, *, env: Path | None = None, out_dir: Path | None = None,
              state_dir: Path = DEFAULT_DIR, keep_lab: bool = False, confirm: str | None = None,
              on_progress: Callable[[str], None] = lambda msg: None, grafana_url: str | None = None,
              metrics_port: int | None = None, metrics_addr: str = "127.0.0.1", metrics_linger_s: float = 0.0,
              pushgateway: str | None = None, **run_options: Any) -> dict[str, Any]:
    """Run a drill end to end and return report.json's content (``verdict`` says how it ended).

    ``run_options`` go to :class:`~gameday.drill.runner.DrillRun` (``manual``, ``gate``, ``fault_override``,
    ``on_fault``). The lab is started if needed and stopped again if this run started it. ``out_dir`` defaults
    to a folder of the run's own, ``out/drill/<drill name>/<time>-<run id>/`` (``gameday.runs``).
    """
    loaded = drill if isinstance(drill, LoadedDrill) else load_drill_for_run(drill, env, confirm=confirm)
    run_id = run_options.pop("run_id", None) or new_run_id()  # one id: journal, metrics, annotations, uploads
    out_dir = out_dir or run_folder("drill", loaded.drill.name, run_id)
    obs = observers("drill", grafana_url, metrics_port, run_id=run_id, metrics_addr=metrics_addr,
                    metrics_linger_s=metrics_linger_s, pushgateway=pushgateway)
    summary: dict[str, Any] = {"verdict": "aborted"}
    try:
        with open_target(loaded.environment, Path(loaded.environment_path), state_dir=state_dir, keep_lab=keep_lab,
                         confirm=confirm, on_progress=on_progress) as target:
            summary = DrillRun(loaded, target, out_dir, on_progress=on_progress, listeners=obs.listeners,
                               run_id=run_id, **data_probe_options(run_options)).execute()
    finally:
        obs.finish(summary["verdict"], _figures(summary), summary)
    return summary


def _figures(summary: dict[str, Any]) -> str:
    """RTO, RPO and lost as the annotation states them; what was not measured says so (never ``None``)."""
    parts = [f"{label} {'not measured' if summary.get(key) is None else f'{summary[key]}{unit}'}"
             for label, key, unit in (("RTO", "rto_s", " s"), ("RPO", "rpo_s", " s"), ("lost", "events_lost", ""))]
    return ", ".join(parts)


def regenerate_reports(journal: Path, out_dir: Path | None = None) -> dict[str, Any]:
    """Every report of a run from its journal alone (offline), by the kind of run its start event names:
    a drill's report.json (and .md, .html, junit.xml), a chaos experiment's verdict.json and junit.xml."""
    events = read_journal(journal)
    start = next((e.kind for e in events if e.kind in ("drill.start", "chaos.start", "gate.start")), None)
    if start is None:  # nothing to report on: exit 2, and no report written beside someone else's file
        raise ConfigError("not a gameday run journal (no drill.start, chaos.start or gate.start event)",
                          file=str(journal))
    if start == "chaos.start":
        return _regenerate_chaos(events, journal, out_dir or journal.parent)
    return write_reports(events, out_dir or journal.parent)


def _regenerate_chaos(events: list[Event], journal: Path, out_dir: Path) -> dict[str, Any]:
    """verdict.json and junit.xml again from the journals beside ``journal`` (offline)."""
    from gameday.chaos.verdict import chaos_summary
    from gameday.report.chaos import write_chaos_reports

    ctk_file = journal.parent / "journal.json"
    ctk = json.loads(ctk_file.read_text()) if ctk_file.exists() else None
    summary = chaos_summary(events, ctk)
    write_chaos_reports(summary, ctk, out_dir)
    return summary
