"""The runner's own Prometheus metrics, fed by its journal, served on 127.0.0.1 while it runs.

Names (the dashboards query exactly these): gameday_run_info, gameday_drill_rto_clock_seconds,
gameday_drill_step_active, gameday_drill_step_duration_seconds, gameday_drill_steps_completed_total,
gameday_drill_fault_active, gameday_heartbeat_last_ack_timestamp_seconds, gameday_probe_success,
gameday_events_acked_total, gameday_events_lost, gameday_load_target_rate, gameday_load_sent_total,
gameday_load_errors_total, gameday_load_late_total, gameday_load_dropped_total, gameday_load_latency_ms.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge

from gameday.journal import Event

__all__ = ["RunnerMetrics", "serve_metrics"]


class RunnerMetrics:
    """A journal listener that keeps the run's metrics current."""

    def __init__(self, run_id: str, kind_of_run: str) -> None:
        self.registry = r = CollectorRegistry()
        Gauge("gameday_run_info", "The run being measured", ["run_id", "kind"], registry=r).labels(run_id, kind_of_run).set(1)
        self.t_fault: float | None = None
        self.recovered = False
        rto = Gauge("gameday_drill_rto_clock_seconds", "Seconds since the fault while not recovered (then frozen)",
                    registry=r)
        rto.set_function(self._rto)
        self._rto_frozen: float | None = None
        self.step_active = Gauge("gameday_drill_step_active", "1 while the runbook step runs", ["step"], registry=r)
        self.step_duration = Gauge("gameday_drill_step_duration_seconds", "Actual duration of a finished step",
                                   ["step"], registry=r)
        self.step_budget = Gauge("gameday_drill_step_budget_seconds", "Budget of a step (scaled)", ["step"], registry=r)
        self.steps_done = Counter("gameday_drill_steps_completed", "Runbook steps finished", ["ok"], registry=r)
        self.fault_active = Gauge("gameday_drill_fault_active", "1 while a fault is applied", registry=r)
        self.heartbeat = Gauge("gameday_heartbeat_last_ack_timestamp_seconds", "Commit time of the last acked heartbeat",
                               registry=r)
        self.probe = Gauge("gameday_probe_success", "Last synthetic write-then-read: 1 ok, 0 failed", registry=r)
        self.acked = Counter("gameday_events_acked", "Events acknowledged to the load generator", registry=r)
        self.lost = Gauge("gameday_events_lost", "Acknowledged events missing after reconciliation", registry=r)
        self.target_rate = Gauge("gameday_load_target_rate", "Target events/s", registry=r)
        self.sent = Counter("gameday_load_sent", "Requests sent", registry=r)
        self.errors = Counter("gameday_load_errors", "Failed or unanswered requests", registry=r)
        self.late = Counter("gameday_load_late", "Requests that started late", registry=r)
        self.dropped = Counter("gameday_load_dropped", "Requests dropped by the generator", registry=r)
        self.latency = Gauge("gameday_load_latency_ms", "Latency over the last second, from intended send",
                             ["quantile"], registry=r)
        self._step_start: dict[str, float] = {}

    def _rto(self) -> float:
        if self._rto_frozen is not None:
            return self._rto_frozen
        return 0.0 if self.t_fault is None else time.time() - self.t_fault

    def __call__(self, e: Event) -> None:
        v: dict[str, Any] = e.value
        if e.kind == "fault.applied":
            self.t_fault = v.get("t_applied") or e.t_wall
            self.fault_active.set(1)
        elif e.kind == "fault.inverse_applied":
            self.fault_active.set(0)
        elif e.kind == "drill.recovered" and self.t_fault is not None:
            self._rto_frozen = e.t_wall - self.t_fault
        elif e.kind == "drill.start":
            for s in v.get("steps", []):
                self.step_budget.labels(s["id"]).set(s["budget_s"] * v.get("time_scale", 1.0))
        elif e.kind == "step.start":
            self.step_active.labels(v["id"]).set(1)
            self._step_start[v["id"]] = e.t_wall
        elif e.kind == "step.end":
            self.step_active.labels(v["id"]).set(0)
            self.step_duration.labels(v["id"]).set(e.t_wall - self._step_start.get(v["id"], e.t_wall))
            self.steps_done.labels("true" if v.get("ok") else "false").inc()
        elif e.kind == "heartbeat.ack":
            self.heartbeat.set(v["ts"])
        elif e.kind == "probe":
            self.probe.set(1 if v.get("ok") else 0)
        elif e.kind == "load.tick":
            self.acked.inc(v.get("acked_events") or 0)
            self.sent.inc(v.get("sent") or 0)
            self.errors.inc((v.get("errors") or 0) + (v.get("indeterminate") or 0))
            self.late.inc(v.get("late") or 0)
            self.dropped.inc(v.get("dropped") or 0)
            if v.get("target_rate") is not None:
                self.target_rate.set(v["target_rate"])
            for q, key in (("0.5", "p50_ms"), ("0.95", "p95_ms"), ("0.99", "p99_ms")):
                if v.get(key) is not None:
                    self.latency.labels(q).set(v[key])
        elif e.kind == "reconcile":
            self.lost.set(v.get("events_lost", 0))


def serve_metrics(metrics: RunnerMetrics, port: int) -> Any:
    """Serve on 127.0.0.1:port (0: any free port); returns the server (``.server_port``, ``.shutdown()``)."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, addr="127.0.0.1", registry=metrics.registry)
    return server
