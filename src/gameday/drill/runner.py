"""Run a drill: load + heartbeat, the fault (its inverse journaled first), the runbook, measurement,
reconciliation, the inverse, the reports. Everything that happens is journaled as it happens.
"""

from __future__ import annotations

import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from gameday.drill.check import check
from gameday.drill.locust_load import LocustLoad
from gameday.drill.models import LoadedDrill, Step, resolve_ref
from gameday.drill.reconcile import reconcile
from gameday.drill.steps import ManualHandler, StepContext, StepOutcome, fill, run_step
from gameday.drill.workload import Heartbeat, Workload, recovered_since
from gameday.errors import Aborted
from gameday.journal import Journal, read_journal
from gameday.report.write import write_reports
from gameday.targets.base import INVERSES, Target

__all__ = ["DrillRun", "run_drill", "auto_confirm"]


def auto_confirm(delay_s: float) -> ManualHandler:
    """Manual steps in ``drill run``: confirmed automatically after ``delay_s``, and marked so."""
    def handler(step: Step) -> StepOutcome:
        time.sleep(delay_s)
        return StepOutcome(True, f"auto-confirmed after {delay_s:g} s (no person in the loop)", auto_confirmed=True)
    return handler


@dataclass
class DrillRun:
    loaded: LoadedDrill
    target: Target
    out_dir: Path
    manual: ManualHandler | None = None
    on_progress: Callable[[str], None] = lambda msg: None
    fault_override: tuple[str, dict[str, Any]] | None = None  # rehearsals draw their own fault
    gate: Callable[[Step, StepContext], StepOutcome | None] | None = None  # a person takes over steps
    on_fault: Callable[[Workload, float, Journal], None] | None = None  # e.g. the rehearsal's alerting
    listeners: list[Callable[[Any], None]] = field(default_factory=list)  # annotations, metrics

    _locust: LocustLoad | None = None

    def execute(self) -> dict[str, Any]:
        """Run the drill; return report.json's content. Raises Aborted (after the inverse) on a signal."""
        d, rb = self.loaded.drill, self.loaded.runbook
        self.out_dir.mkdir(parents=True, exist_ok=True)
        journal_path = self.out_dir / "journal.jsonl"
        journal_path.unlink(missing_ok=True)
        (self.out_dir / "ledger.txt").unlink(missing_ok=True)
        j = Journal(journal_path)
        j.listeners.extend(self.listeners)
        primary, dr = self.target.regions()
        variables = {"primary_region": primary, "dr_region": dr}
        run_id = uuid.uuid4().hex[:10]
        scale = self.loaded.environment.time_scale
        action, args = self.fault_override or (d.fault.action, fill(d.fault.args, variables))
        j.record("drill.start", "runner", {
            "drill": d.name, "run_id": run_id, "environment": self.loaded.environment.name,
            "environment_file": self.loaded.environment_path, "drill_file": self.loaded.path,
            "runbook": rb.name, "time_scale": scale, "targets": d.targets.model_dump(),
            "probe_consecutive": d.probe.consecutive, "declare_step": next((s.id for s in rb.steps if s.declares), None),
            "steps": [{"id": s.id, "name": s.name, "kind": s.kind, "budget_s": s.budget_s} for s in rb.steps],
            "load": d.load.model_dump(), "fault": {"action": action, "hidden": self.fault_override is not None},
        })
        if d.conditions.link_delay_ms is not None:
            j.record("condition.applied", "target", self.target.delay_link(d.conditions.link_delay_ms))
        max_s = d.warmup_s + d.recovery_timeout_s + sum((s.timeout_s or 0) + s.budget_s * scale for s in rb.steps) + 60
        builtin = d.load.profile == "builtin"
        workload = Workload(endpoint=self.target.public_endpoint(), run_id=run_id, journal=j,
                            ledger=self.out_dir / "ledger.txt", rate=d.load.rate, batch=d.load.batch,
                            probe_interval_s=d.probe.interval_s, probe_timeout_s=d.probe.timeout_s, max_s=max_s,
                            builtin_load=builtin)
        self._locust = None if builtin else LocustLoad(
            profile=resolve_ref(Path(self.loaded.path), d.load.profile), host=self.target.public_endpoint(),
            out_dir=self.out_dir / "load", rate=d.load.rate, batch=d.load.batch, max_s=max_s, run_id=run_id,
            journal=j)
        heartbeat = Heartbeat(dsn=self.target.writer_dsn(primary), run_id=run_id, journal=j,
                              interval_s=d.heartbeat_interval_s, max_s=max_s)
        previous = _install_signal_handlers()
        applied = False
        try:
            heartbeat.start()
            workload.start()
            if self._locust is not None:
                self._locust.start()
            self.on_progress(f"load {d.load.rate:g} events/s and heartbeat running; warming up {d.warmup_s:g} s")
            time.sleep(d.warmup_s)
            j.record("fault.intent", "runner", {"action": action, "args": args, "inverse": INVERSES[action]})
            applied = True
            t_call = time.time()
            result = getattr(self.target, action)(**args)
            t_fault = result.get("t_applied", t_call)
            j.record("fault.applied", "target", {"action": action, "args": args, "t_applied": t_fault, "result": result})
            self.on_progress("fault applied" if self.fault_override else f"fault applied: {action} {args}")
            if self.on_fault is not None:
                self.on_fault(workload, t_fault, j)
            ctx = StepContext(self.target, workload, d.probe.consecutive, t_fault, variables,
                              self.manual or auto_confirm(d.manual_confirm_s))
            stop_check = getattr(self.target, "check_stop_conditions", None)  # AWS: CloudWatch alarms
            for step in rb.steps:
                if stop_check is not None:
                    stop_check()  # Aborted: the inverse is applied below, exit 4
                j.record("step.start", "runner", {"id": step.id, "name": step.name})
                self.on_progress(f"step {step.id}: {step.name}")
                outcome = (self.gate(step, ctx) if self.gate else None) or run_step(step, ctx)
                j.record("step.end", "responder" if self.gate else "runner",
                         {"id": step.id, "ok": outcome.ok, "detail": outcome.detail,
                          "auto_confirmed": outcome.auto_confirmed, "skipped": outcome.skipped},
                         error=None if outcome.ok else outcome.detail)
                if not outcome.ok and not outcome.skipped:
                    self.on_progress(f"step {step.id} failed: {outcome.detail}")
                    break
            deadline = time.monotonic() + d.recovery_timeout_s
            while not recovered_since(workload.probe_log, t_fault, d.probe.consecutive) and time.monotonic() < deadline:
                time.sleep(0.05)
            if recovered_since(workload.probe_log, t_fault, d.probe.consecutive):
                j.record("drill.recovered", "runner", {})  # for people watching; the RTO is computed by check()
            time.sleep(d.cooldown_s)
        except Aborted as exc:
            self._finish(j, workload, heartbeat, applied, aborted=str(exc))
            _restore_signal_handlers(previous)
            raise
        self._finish(j, workload, heartbeat, applied, aborted=None)
        _restore_signal_handlers(previous)
        return write_reports(read_journal(journal_path), self.out_dir)

    def _finish(self, j: Journal, workload: Workload, heartbeat: Heartbeat, applied: bool, aborted: str | None) -> None:
        workload.stop()
        heartbeat.stop()
        ledger = self.out_dir / "ledger.txt"
        if self._locust is not None:
            self._locust.stop()
            ledger = self._locust.ledger
        if not aborted:
            self.on_progress("reconciling acknowledged events against the new primary")
            try:
                j.record("reconcile", "runner", reconcile(self.target.primary_dsn(), ledger, _run_id(j)))
            except Exception as exc:  # noqa: BLE001 - no reconciliation makes the verdict inconclusive
                j.record("reconcile.failed", "runner", {}, error=f"{type(exc).__name__}: {exc}")
        j.record("drill.end", "runner", {"aborted": bool(aborted), "reason": aborted})
        if applied:
            self.on_progress("undoing the fault (restoring the environment)")
            try:
                self.target.restore()
                j.record("fault.inverse_applied", "target", {"inverse": "restore"})
            except Exception as exc:  # noqa: BLE001 - journaled; `gameday recover` can retry
                j.record("fault.inverse_failed", "target", {"inverse": "restore"}, error=str(exc))
        j.close()
        if aborted:
            write_reports(read_journal(j.path), self.out_dir)


def _run_id(j: Journal) -> str:
    return next(e.value["run_id"] for e in read_journal(j.path) if e.kind == "drill.start")


def _raise_aborted(signum: int, frame: object) -> None:
    raise Aborted(f"received {signal.Signals(signum).name}")


def _install_signal_handlers() -> dict[int, Any]:
    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, _raise_aborted)
    return previous


def _restore_signal_handlers(previous: dict[int, Any]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def run_drill(loaded: LoadedDrill, target: Target, out_dir: Path, **kwargs: Any) -> dict[str, Any]:
    return DrillRun(loaded, target, out_dir, **kwargs).execute()
