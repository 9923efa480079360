"""The runner's own Prometheus metrics, fed by its journal, served while it runs.

Names (the dashboards query exactly these, in base units, counters ending in ``_total``):
gameday_run_info, gameday_drill_rto_clock_seconds, gameday_drill_step_active,
gameday_drill_step_duration_seconds, gameday_drill_step_budget_seconds, gameday_drill_steps_completed_total,
gameday_drill_fault_active, gameday_heartbeat_last_ack_timestamp_seconds, gameday_probe_success,
gameday_events_acked_total, gameday_events_lost, gameday_load_target_rate, gameday_load_sent_total,
gameday_load_errors_total, gameday_load_late_total, gameday_load_dropped_total,
gameday_load_latency_seconds (a histogram of every acknowledged request's latency from its intended send),
and once the run is judged, the report's figures: gameday_drill_rto_seconds, gameday_drill_rpo_seconds,
gameday_events_lost (each only when it was measured) and gameday_run_verdict.

After the run the endpoint can stay up (``linger_s``) so a scrape still finds the final figures, and/or the
registry is pushed to a Pushgateway (a CronJob's pod may be gone before the next scrape).

The RTO clock is the recovery machine the runbook's waits and the checker use (``gameday.drill.live``, fed
every journal event): it runs from the fault and stops at the recovery instant once the machine declares
it, so the live number and report.json agree.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.utils import floatToGoString

from gameday.drill.live import LiveRecovery
from gameday.journal import Event
from gameday.judge.drill import window_end
from gameday.load.window import LATENCY_BUCKETS_S

__all__ = ["RunnerMetrics", "serve_metrics"]


class _LatencyHistogram:
    """The load's latency from the intended send time as a Prometheus histogram: every tick adds its second's
    requests per bucket (``gameday.load.window.bucket_counts``), so any scrape interval sees every request.
    prometheus_client's Histogram observes one value at a time; this collector adds a second's counts at once."""

    def __init__(self) -> None:
        self.buckets = [0] * (len(LATENCY_BUCKETS_S) + 1)
        self.sum_s = 0.0

    def collect(self) -> Iterator[Metric]:
        cumulative, running = [], 0
        for bound, n in zip([*map(floatToGoString, LATENCY_BUCKETS_S), "+Inf"], self.buckets, strict=True):
            running += n
            cumulative.append((bound, running))
        yield HistogramMetricFamily("gameday_load_latency_seconds",
                                    "Request latency from the intended send time (every acknowledged request)",
                                    buckets=cumulative, sum_value=self.sum_s)

    def update(self, v: dict[str, Any]) -> None:
        counts = v.get("latency_buckets")
        if not counts or len(counts) != len(self.buckets):
            return  # a generator that does not count by bucket: nothing rather than a guess
        self.buckets = [a + int(b) for a, b in zip(self.buckets, counts, strict=True)]
        if v.get("mean_ms") is not None:
            self.sum_s += sum(counts) * v["mean_ms"] / 1000


class RunnerMetrics:
    """A journal listener that keeps the run's metrics current."""

    def __init__(self, run_id: str, kind_of_run: str) -> None:
        self.registry = r = CollectorRegistry()
        Gauge("gameday_run_info", "The run being measured", ["run_id", "kind"], registry=r).labels(run_id, kind_of_run).set(1)
        self.t_fault: float | None = None
        self.live: LiveRecovery | None = None  # the recovery machine, from drill.start on
        self._lock = threading.Lock()
        Gauge("gameday_drill_rto_clock_seconds", "Seconds since the fault while not recovered (then the RTO)",
              registry=r).set_function(self.rto_clock)
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
        self.latency = _LatencyHistogram()
        r.register(self.latency)
        self._step_start: dict[str, float] = {}
        self._final_done = False
        self._handlers: dict[str, Callable[[Event], None]] = {
            "drill.start": self._start, "fault.applied": self._fault, "fault.inverse_applied": self._inverse,
            "step.start": self._step, "step.end": self._step_end, "probe": self._probe, "load.tick": self._tick,
            "heartbeat.ack": lambda e: self.heartbeat.set(e.value["ts"]),
            "reconcile": self._reconciled,
        }

    def _reconciled(self, e: Event) -> None:
        if e.value.get("events_lost") is not None:  # a service without store: counts none (not 0)
            self.lost.set(e.value["events_lost"])

    def final(self, summary: dict[str, Any]) -> None:
        """The report's figures once the run is judged (the checker's numbers, so metrics and report agree);
        a figure that was not measured is left out rather than exposed as 0."""
        if self._final_done:
            return
        self._final_done = True
        r = self.registry
        for name, key, doc in (("gameday_drill_rto_seconds", "rto_s", "RTO as the report states it"),
                               ("gameday_drill_rpo_seconds", "rpo_s", "RPO (data time lost) as the report states it")):
            if summary.get(key) is not None:
                Gauge(name, doc, registry=r).set(summary[key])
        if summary.get("events_lost") is not None:
            self.lost.set(summary["events_lost"])
        cache = summary.get("cache") or {}
        for name, key, doc in (("gameday_drill_cache_rto_seconds", "rto_s", "cache RTO through the primary endpoint"),
                               ("gameday_drill_cache_rpo_seconds", "rpo_s", "span of acknowledged cache writes lost"),
                               ("gameday_drill_cache_lost_writes", "lost_writes", "acknowledged cache writes lost")):
            if cache.get(key) is not None:
                Gauge(name, doc, registry=r).set(cache[key])
        Gauge("gameday_run_verdict", "1 for the run's verdict", ["verdict"], registry=r).labels(
            str(summary.get("verdict", "inconclusive"))).set(1)

    def rto_clock(self) -> float:
        with self._lock:
            if self.t_fault is None:
                return 0.0
            rec = self.live.result() if self.live is not None else None
            if rec is not None and rec.t_recovered is not None:
                return round(rec.t_recovered - self.t_fault, 3)
            return time.time() - self.t_fault

    def __call__(self, e: Event) -> None:
        if e.kind == "drill.start":
            self.live = LiveRecovery(tuple(e.value.get("evidence_sources", ["probe"])),
                                     int(e.value.get("probe_consecutive", 5)), first_seq=e.seq)
        if self.live is not None:
            self.live.on_event(e)
        handler = self._handlers.get(e.kind)
        if handler is not None:
            handler(e)

    def _start(self, e: Event) -> None:
        for s in e.value.get("steps", []):
            self.step_budget.labels(s["id"]).set(s["budget_s"] * e.value.get("time_scale", 1.0))

    def _fault(self, e: Event) -> None:
        with self._lock:
            self.t_fault = e.value.get("t_applied") or e.t_wall
            if self.live is not None and "t_applied" in e.value:
                self.live.start(e.value["t_applied"], window_end(e))
        self.fault_active.set(1)

    def _inverse(self, e: Event) -> None:
        self.fault_active.set(0)

    def _step(self, e: Event) -> None:
        self.step_active.labels(e.value["id"]).set(1)
        self._step_start[e.value["id"]] = e.t_wall

    def _step_end(self, e: Event) -> None:
        sid = e.value["id"]
        self.step_active.labels(sid).set(0)
        self.step_duration.labels(sid).set(e.t_wall - self._step_start.get(sid, e.t_wall))
        self.steps_done.labels("true" if e.value.get("ok") else "false").inc()

    def _probe(self, e: Event) -> None:
        ok = bool(e.value.get("ok"))
        self.probe.set(1 if ok else 0)

    def _tick(self, e: Event) -> None:
        v = e.value
        self.acked.inc(v.get("acked_events") or 0)
        self.sent.inc(v.get("sent") or 0)
        self.errors.inc((v.get("errors") or 0) + (v.get("indeterminate") or 0))
        self.late.inc(v.get("late") or 0)
        self.dropped.inc(v.get("dropped") or 0)
        if v.get("target_rate") is not None:
            self.target_rate.set(v["target_rate"])
        self.latency.update(v)


def serve_metrics(metrics: RunnerMetrics, port: int, addr: str = "127.0.0.1") -> Any:
    """Serve on addr:port (0: any free port); returns the server (``.server_port``, ``.shutdown()``)."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, addr=addr, registry=metrics.registry)
    return server
