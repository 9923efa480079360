"""Run a drill in phases: begin (journal), prepare (conditions, background), inject (the fault, its
inverse journaled first), the runbook, the wait for recovery, and ``_finish``, which runs whatever
happened after the first change (a signal, a driver error, a bug): reconcile when it can, undo every
journaled intent, journal ``drill.end``, write the reports. The verdict is the checker's, from the
journal: an exception is journaled as ``drill.error`` and judged (3 or 1), a signal is ``aborted`` (4).
"""

from __future__ import annotations

import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gameday import operations
from gameday.drill import cache, lagwatch
from gameday.drill.background import Background, BackgroundSpec, Reconciler, live_background, live_reconciler
from gameday.drill.confirm import auto_confirm
from gameday.drill.data_probe import data_probe_options
from gameday.drill.live import LiveRecovery
from gameday.drill.models import LoadedDrill, Step, resolve_ref
from gameday.drill.signals import signals_abort, signals_deferred
from gameday.drill.steady import STEADY_FAILED, STEADY_OK, steady_state
from gameday.drill.steps import ManualHandler, StepContext, StepOutcome, run_step
from gameday.drill.store import heartbeat_dsn, holding_dsn
from gameday.errors import Aborted
from gameday.journal import Event, Journal, read_journal
from gameday.judge.drill import window_end
from gameday.report.write import write_reports
from gameday.runs import claim
from gameday.service.ids import outcome_series
from gameday.service.resolved import Service
from gameday.targets.base import FaultResult, Target

__all__ = ["DrillRun", "run_drill", "auto_confirm", "EVIDENCE_SOURCES"]

EVIDENCE_SOURCES = ("probe", "load")  # the client evidence the recovery machine reads


@dataclass
class DrillRun:
    loaded: LoadedDrill
    target: Target
    out_dir: Path
    manual: ManualHandler | None = None
    on_progress: Callable[[str], None] = lambda msg: None
    fault_override: tuple[str, dict[str, Any]] | None = None  # rehearsals draw their own fault
    gate: Callable[[Step, StepContext], StepOutcome | None] | None = None  # a person takes over steps
    on_fault: Callable[[Background, float, Journal], None] | None = None  # e.g. the rehearsal's alerting
    listeners: list[Callable[[Any], None]] = field(default_factory=list)  # annotations, metrics
    background: Callable[[BackgroundSpec], Background] = live_background
    reconciler: Reconciler | None = None  # default: the service's present_query on the live database
    operator: str | None = None  # who runs the drill (journaled; manual steps name who confirmed them)
    run_id: str | None = None  # the caller's (metrics, annotations share it); default: a new one
    _t_fault: float | None = None
    _live: LiveRecovery | None = None
    _window_closed: bool = False
    _unsteady: bool = False  # the steady state did not hold: nothing injected, nothing to reconcile
    _cache: cache.CacheWatch | None = None  # the cache probe and heartbeat, when the drill's targets name the cache
    _lag: lagwatch.LagWatch | None = None  # the consumer-lag readings, when the environment names a group

    def execute(self) -> dict[str, Any]:
        """Run the drill; return report.json's content (the verdict says what happened)."""
        for name, args in self._changes():  # ConfigError (exit 2) before the journal, the load, anything
            self.target.preflight(name, args)
        j, run_id = self._begin()
        bg: Background | None = None
        try:
            with signals_abort():
                bg = self._prepare(j, run_id)
                if self._steady_state(j, bg):  # no fault on a service that is already failing
                    t_fault = self._inject(j, bg)
                    self._runbook(j, bg, t_fault)
                    self._await_recovery(j, bg, t_fault)
        except Aborted as exc:
            self._finish(j, bg, run_id, aborted=str(exc))
        except Exception as exc:  # noqa: BLE001 - journaled and judged; the cleanup below always runs
            j.record("drill.error", "runner", {"traceback": traceback.format_exc()[-2000:]},
                     error=f"{type(exc).__name__}: {exc}")
            self.on_progress(f"the run failed: {type(exc).__name__}: {exc}")
            self._finish(j, bg, run_id, aborted=None)
        else:
            self._finish(j, bg, run_id, aborted=None)
        return write_reports(read_journal(j.path), self.out_dir)

    # ---- phases -------------------------------------------------------------------------------
    def _begin(self) -> tuple[Journal, str]:
        d, rb, env = self.loaded.drill, self.loaded.runbook, self.loaded.environment
        claim(self.out_dir)  # made now, and linked as latest when it is a run folder of its own
        for stale in ("journal.jsonl", "ledger.txt"):
            (self.out_dir / stale).unlink(missing_ok=True)
        j = Journal(self.out_dir / "journal.jsonl")
        self._live = LiveRecovery(EVIDENCE_SOURCES, d.probe.consecutive)
        j.listeners.append(self._live.on_event)  # the live recovery machine sees every event, as the checker will
        j.listeners.extend(self.listeners)
        run_id = self.run_id or uuid.uuid4().hex[:10]
        action = (self._fault() or ("planned", {}))[0]
        j.record("drill.start", "runner", {
            "drill": d.name, "run_id": run_id, "environment": env.name,
            "environment_file": self.loaded.environment_path, "drill_file": self.loaded.path,
            "runbook": rb.name, "time_scale": env.time_scale, "targets": d.targets.model_dump(),
            "probe_consecutive": d.probe.consecutive, "request_timeout_s": d.probe.timeout_s,
            "declare_step": next((s.id for s in rb.steps if s.declares), None),
            "steps": [{"id": s.id, "name": s.name, "kind": s.kind, "budget_s": s.budget_s} for s in rb.steps],
            "load": d.load.model_dump(), "fault": {"action": action, "hidden": self.fault_override is not None},
            "operator": self.operator, "evidence_sources": list(EVIDENCE_SOURCES),
        })
        return j, run_id

    def _fault(self) -> tuple[str, dict[str, Any]] | None:
        """The fault to inject, validated; None for a planned move (a failback): T0 is the runbook's start."""
        d, env = self.loaded.drill, self.loaded.environment
        if self.fault_override is not None:
            name, args = self.fault_override
            return name, operations.validate(name, args, env, where="fault")
        if d.fault is None:
            return None
        return d.fault.action, operations.validate(d.fault.action, d.fault.args, env, file=self.loaded.path,
                                                   where="fault.args")

    def _prepare(self, j: Journal, run_id: str) -> Background:
        d, scale = self.loaded.drill, self.loaded.environment.time_scale
        if d.conditions.link_delay_ms is not None:  # undone like a fault: its intent is journaled first
            args = {"ms": d.conditions.link_delay_ms}
            j.record("fault.intent", "runner", {**operations.intent("delay_link", args), "condition": True})
            result = operations.apply(self.target, "delay_link", args)
            j.record("condition.applied", "target", _as_dict(result))
        self._starting_state(j)
        planned = d.warmup_s + d.recovery_timeout_s + sum((s.timeout_s or 0) + s.budget_s * scale
                                                           for s in self.loaded.runbook.steps)
        max_s = 4 * planned + 600  # a safety ceiling, journaled if reached: the runner stops them when the run ends
        profile = None if d.load.profile == "builtin" else resolve_ref(Path(self.loaded.path), d.load.profile)
        service = self.target.service()
        bg = self.background(BackgroundSpec(
            service=service, writer_dsn=self._heartbeat_dsn(j, service), run_id=run_id,
            journal=j, out_dir=self.out_dir, rate=d.load.rate, batch=d.load.batch, profile=profile,
            probe_interval_s=d.probe.interval_s, probe_timeout_s=d.probe.timeout_s,
            heartbeat_interval_s=d.heartbeat_interval_s, max_s=max_s,
            evidence_bucket_s=0.1 if scale < 1 else 1.0))
        bg.start()
        self._cache = cache.start_watch(
            (service.cache_url or self.target.cache_url()) if d.targets.watches_cache else None,  # the service's own first
            d.targets.watches_cache, run_id=run_id,
            journal=j, probe_interval_s=d.probe.interval_s, probe_timeout_s=d.probe.timeout_s,
            heartbeat_interval_s=d.heartbeat_interval_s, max_s=max_s)
        self._lag = lagwatch.start(self.target, j, self.loaded.environment, max_s)  # MSK consumer lag, if named
        _await_load(j)
        self.on_progress(f"load {d.load.rate:g} events/s and heartbeat running; warming up {d.warmup_s:g} s")
        time.sleep(d.warmup_s)
        return bg

    def _heartbeat_dsn(self, j: Journal, service: Service) -> str | None:
        """Where the heartbeat commits; None (journaled: RPO unmeasured, never 0) when the Target gives no
        database, e.g. a service without ``store:`` on an environment whose writer gameday cannot find."""
        try:
            return heartbeat_dsn(service, self.target, self._writer_region())
        except Exception as exc:  # noqa: BLE001 - a run without a heartbeat still measures RTO
            j.record("heartbeat.failed", "heartbeat", {"table": service.spec.heartbeat_table},
                     error=f"no database to write the heartbeat to: {type(exc).__name__}: {exc}")
            return None

    def _steady_state(self, j: Journal, bg: Background) -> bool:
        """After the warm-up: the last ``probe.consecutive`` probes ok and the load's requests answered
        (``gameday.drill.steady``). While the latest probe is ok but the streak is not complete yet (a short
        warm-up, a service just back from ``prepare``), it waits for the streak, at most N probe periods."""
        p = self.loaded.drill.probe
        deadline = time.monotonic() + p.consecutive * (p.interval_s + p.timeout_s)
        while time.monotonic() < deadline and (bg.probe_log == [] or bg.probe_log[-1].ok) and not (
                len(bg.probe_log) >= p.consecutive and all(x.ok for x in bg.probe_log[-p.consecutive:])):
            time.sleep(0.05)
        bg.journal_failures()  # the reasons tallied since the last drain, so the summary can quote the body
        st = steady_state(read_journal(j.path), consecutive=p.consecutive, now=time.time())
        j.record(STEADY_OK if st.holds else STEADY_FAILED, "runner", st.value())
        if not st.holds:
            self._unsteady = True
            self.on_progress(f"{st.summary}: nothing was injected")
        return st.holds

    def _prepared(self) -> list[tuple[str, dict[str, Any]]]:
        """The drill's ``prepare`` operations, validated."""
        env = self.loaded.environment
        return [(op.action, operations.validate(op.action, op.args, env, file=self.loaded.path,
                                                where=f"prepare[{i}].args"))
                for i, op in enumerate(self.loaded.drill.prepare)]

    def _changes(self) -> list[tuple[str, dict[str, Any]]]:
        """Every fault and preparation the run will apply, validated: what the driver's preflight checks."""
        fault = self._fault()
        return [*self._prepared(), fault] if fault else self._prepared()

    def _writer_region(self) -> str | None:
        """A planned move starts where the writer is now (a failback: the DR region); a fault, from the primary."""
        if self._fault() is not None:
            return None
        st = self.target.status()
        return st.writer_region or (st.dr_region if st.dr_promoted else st.primary_region)

    def _starting_state(self, j: Journal) -> None:
        """The drill's ``prepare`` operations (faults with their inverse journaled first), unless the environment
        is already failed over (a failback after a real failover)."""
        prepare = self._prepared()
        if not prepare:
            return
        st = self.target.status()
        if st.dr_promoted and st.dns_region == st.dr_region:
            j.record("prepare.skipped", "runner", {"reason": "the environment is already failed over"})
            self.on_progress("the environment is already failed over: nothing to prepare")
            return
        for action, args in prepare:
            if operations.get(action).role == "fault":
                j.record("fault.intent", "runner", {**operations.intent(action, args), "condition": True})
            self.on_progress(f"preparing: {action} {args}")
            result = operations.apply(self.target, action, args)
            j.record("prepare.applied", "target", {"action": action, "args": args, "result": _as_dict(result)})

    def _inject(self, j: Journal, bg: Background) -> float:
        fault = self._fault()
        if fault is None:  # a planned move: nothing breaks; the clock starts with the runbook
            t0 = time.time()
            ev = j.record("fault.applied", "runner", {"action": "planned", "args": {}, "t_applied": t0,
                                                      "window": "open", "result": {"planned": True}})
            self._t_fault = t0
            self._start_live(ev)
            self.on_progress("planned move: the runbook starts now")
            return t0
        action, args = fault
        self.target.check_stop_conditions()
        j.record("fault.intent", "runner", operations.intent(action, args))
        t_call = time.time()
        result = operations.apply(self.target, action, args)
        t_fault = result.t_applied if isinstance(result, FaultResult) else t_call
        ev = j.record("fault.applied", "target", {"action": action, "args": args, "t_applied": t_fault,
                                                  "effect_within_s": self._effect_within_s(action),
                                                  "result": _as_dict(result)})
        self._t_fault = t_fault
        self._start_live(ev)
        self.on_progress("fault applied" if self.fault_override else f"fault applied: {action} {args}")
        if self.on_fault is not None:
            self.on_fault(bg, t_fault, j)
        return t_fault

    def _effect_within_s(self, action: str) -> float:
        """How long the fault's effect may take to show to clients: the drill's ``fault.effect_within_s`` (real
        seconds, scaled), the lab's own window, or the operation's (AWS) window at the environment's scale."""
        d, env = self.loaded.drill, self.loaded.environment
        if d.fault is not None and d.fault.effect_within_s:
            return round(d.fault.effect_within_s * env.time_scale, 3)
        if env.lab is not None:
            return env.lab.effect_within_s + (env.lab.spot_notice_s if action == "interrupt_spot" else 0.0)
        return round(operations.EFFECT_WITHIN_S.get(action, 60.0) * env.time_scale, 3)

    def _start_live(self, applied: Event) -> None:
        assert self._live is not None
        self._live.start(applied.value["t_applied"], window_end(applied))

    def _close_window(self, j: Journal) -> None:
        """A planned move's effect window closes at its smoke test (or its runbook's end): from then on a
        failure is an outage, and a run that saw none has RTO 0."""
        if self._fault() is None and not self._window_closed:
            self._window_closed = True
            j.record("window.closed", "runner", {"t": time.time()})

    def _runbook(self, j: Journal, bg: Background, t_fault: float) -> None:
        d = self.loaded.drill
        primary, dr = self.target.regions()
        assert self._live is not None
        ctx = StepContext(self.target, self._live, d.probe.consecutive, t_fault,
                          {"primary_region": primary, "dr_region": dr},
                          self.manual or auto_confirm(d.manual_confirm_s), on_wait=self.on_progress,
                          time_scale=self.loaded.environment.time_scale, close_window=lambda: self._close_window(j),
                          ledger=bg.ledger_now, on_intent=lambda name, args: j.record(
                              "fault.intent", "runner", {**operations.intent(name, args), "condition": True}))
        for step in self.loaded.runbook.steps:
            self.target.check_stop_conditions()  # Aborted: the inverse is applied in _finish, exit 4
            j.record("step.start", "runner", {"id": step.id, "name": step.name})
            self.on_progress(f"step {step.id}: {step.name}")
            outcome = (self.gate(step, ctx) if self.gate else None) or run_step(step, ctx)
            j.record("step.end", "responder" if self.gate else "runner",
                     {"id": step.id, "ok": outcome.ok, "detail": outcome.detail,
                      "auto_confirmed": outcome.auto_confirmed, "skipped": outcome.skipped,
                      **({"confirmed_by": outcome.confirmed_by} if outcome.confirmed_by else {}),
                      **({"result": outcome.result} if outcome.result is not None else {})},
                     error=None if outcome.ok else outcome.detail)
            if not outcome.ok and not outcome.skipped:
                self.on_progress(f"step {step.id} failed: {outcome.detail}")
                return

    def _await_recovery(self, j: Journal, bg: Background, t_fault: float) -> None:
        """Wait (at most ``recovery_timeout_s``) for the live machine to declare recovery; the load, probe and
        heartbeat go on meanwhile, so a slow runbook still gets a measured RTO."""
        d = self.loaded.drill
        assert self._live is not None
        self._close_window(j)
        deadline = time.monotonic() + d.recovery_timeout_s
        while not self._live.result().recovered and time.monotonic() < deadline:
            time.sleep(0.05)
        rec = self._live.result()
        if rec.t_recovered is not None:  # what the live machine declared; the checker computes the same
            j.record("drill.recovered", "runner", {"t_recovered": rec.t_recovered, "state": rec.state.value,
                                                   "rto_s": round(rec.t_recovered - t_fault, 3)})
        time.sleep(d.cooldown_s)

    def _finish(self, j: Journal, bg: Background | None, run_id: str, aborted: str | None) -> None:
        """Always: stop the background, reconcile (unless aborted), undo every intent, end, close."""
        with signals_deferred():
            if bg is not None:
                bg.stop()
                self._fine_series(j, bg)
                if not self._unsteady:  # an aborted run still says what it lost; an unsteady one changed nothing
                    self._reconcile(j, bg, run_id)
            cache.finish_watch(self._cache, j, reconcile=not self._unsteady)
            lagwatch.stop(self._lag)
            j.record("drill.end", "runner", {"aborted": bool(aborted), "reason": aborted})
            self._undo(j)
            j.close()

    def _fine_series(self, j: Journal, bg: Background) -> None:
        """The load's outcomes per 100 ms (per second at full scale), for the report's timeline."""
        bucket = 0.1 if self.loaded.environment.time_scale < 1 else 1.0
        try:
            series = outcome_series(bg.ledger, bucket)
        except (OSError, ValueError):
            return
        if series:
            j.record("load.series", "runner", series)

    def _reconcile(self, j: Journal, bg: Background, run_id: str) -> None:
        self.on_progress("reconciling acknowledged events against the new primary")
        store = True
        try:
            service = self.target.service()
            store = service.spec.store is not None
            reconciler = self.reconciler or live_reconciler(service)
            dsn = self._store_dsn(service)
            j.record("reconcile", "runner", reconciler(dsn, bg.ledger, run_id, self._t_fault))
        except Exception as exc:  # noqa: BLE001 - no reconciliation makes the verdict inconclusive
            j.record("reconcile.failed", "runner", {"store": store}, error=f"{type(exc).__name__}: {exc}")

    def _store_dsn(self, service: Service) -> str:
        """The database holding the writes now (``drill.store.holding_dsn``)."""
        return holding_dsn(service, self.target)

    def _undo(self, j: Journal) -> None:
        from gameday.drill.recover import pending_inverses

        pending = pending_inverses(read_journal(j.path))
        if pending:
            self.on_progress("undoing the fault (restoring the environment)")
        for rec in reversed(pending):
            try:
                operations.undo(self.target, rec, journal=j)
                j.record("fault.inverse_applied", "target", {"inverse": rec["inverse"], "fault": rec["action"],
                                                             "intent_seq": rec["seq"]})
            except Exception as exc:  # noqa: BLE001 - journaled; `gameday recover` can retry
                j.record("fault.inverse_failed", "target", {"inverse": rec["inverse"], "fault": rec["action"],
                                                            "intent_seq": rec["seq"]},
                         error=f"{type(exc).__name__}: {exc}")


def _as_dict(result: Any) -> dict[str, Any]:
    if isinstance(result, FaultResult):
        return result.as_dict()
    return dict(result) if isinstance(result, dict) else {"result": str(result)}


def run_drill(loaded: LoadedDrill, target: Target, out_dir: Path, **kwargs: Any) -> dict[str, Any]:
    """Run a drill, with the data probe after a data fault (``gameday.drill.data_probe``)."""
    return DrillRun(loaded, target, out_dir, **data_probe_options(kwargs)).execute()


def _await_load(j: Journal, within_s: float = 30.0) -> None:
    """The warm-up counts from the load's first answers: a Locust generator takes seconds to start on a busy
    machine, and a fault before any write was answered measures no loss at all. Bounded; the steady-state
    check judges what came (no load answered by its end: not steady)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline and not any(e.kind in _LOAD_ANSWERS for e in read_journal(j.path)):
        time.sleep(0.1)


_LOAD_ANSWERS = ("load.tick", "load.evidence")
