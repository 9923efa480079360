"""Wiring a run to Grafana annotations and the runner's Prometheus endpoint (both optional)."""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from gameday.journal import Event, Journal
from gameday.metrics import RunnerMetrics, serve_metrics

__all__ = ["Observers"]


@dataclass
class Observers:
    """Listeners for a run's journal: Grafana annotations (when a URL is given) and metrics (when a port is)."""

    run_id: str
    kind_of_run: str
    grafana_url: str | None = None
    grafana_token: str | None = None
    metrics_port: int | None = None
    metrics_addr: str = "127.0.0.1"  # 0.0.0.0 where Prometheus scrapes from elsewhere (a pod)
    metrics_linger_s: float = 0.0  # keep serving the final figures this long after the run
    pushgateway: str | None = None  # push the final figures there (a CronJob's pod may be gone before a scrape)
    metrics: RunnerMetrics | None = None
    linger: threading.Timer | None = None  # closes the endpoint after the linger
    listeners: list[Any] = field(default_factory=list)
    annotator: Any = None
    server: Any = None

    def start(self) -> Observers:
        if self.grafana_url:
            from gameday.grafana.annotations import Annotator

            self.annotator = Annotator(url=self.grafana_url, token=self.grafana_token, run_id=self.run_id,
                                       kind_of_run=self.kind_of_run)
            self.listeners.append(self.annotator)
        if self.metrics_port is not None or self.pushgateway:
            self.metrics = metrics = RunnerMetrics(self.run_id, self.kind_of_run)
            self.listeners.append(metrics)
        if self.metrics is not None and self.metrics_port is not None:
            metrics = self.metrics
            try:
                self.server = serve_metrics(metrics, self.metrics_port, self.metrics_addr)
            except OSError:  # the port is taken (another run): any free port rather than no metrics
                self.server = serve_metrics(metrics, 0, self.metrics_addr)
            print(f"metrics: http://{self.metrics_addr}:{self.server.server_port}/metrics", file=sys.stderr)
        return self

    def attach(self, journal: Journal) -> None:
        journal.listeners.extend(self.listeners)

    def finish(self, verdict: str, detail: str = "", summary: dict[str, Any] | None = None) -> None:
        """The last annotation (the verdict) and the final figures; the endpoint closes now, or after the
        linger (a non-daemon timer: the process exits once it fired)."""
        if self.annotator is not None:
            self.annotator(Event(0, time.monotonic_ns(), time.time(), "run.verdict", "runner",
                                 {"verdict": verdict, "detail": detail}))
            self.annotator.close()
        if self.metrics is not None:
            self.metrics.final({"verdict": verdict, **(summary or {})})
            if self.pushgateway:
                self._push()
        if self.server is None:
            return
        if self.metrics_linger_s > 0:
            print(f"metrics: the final figures stay at http://{self.metrics_addr}:{self.server.server_port}/metrics "
                  f"for {self.metrics_linger_s:g} s", file=sys.stderr)
            self.linger = threading.Timer(self.metrics_linger_s, self.server.shutdown)
            self.linger.start()
        else:
            self.server.shutdown()

    def _push(self) -> None:
        """The registry to the Pushgateway, grouped by kind of run (the next run of that kind replaces it)."""
        from prometheus_client import push_to_gateway

        assert self.metrics is not None and self.pushgateway is not None
        try:
            push_to_gateway(self.pushgateway, job="gameday", grouping_key={"kind": self.kind_of_run},
                            registry=self.metrics.registry, timeout=10)
        except Exception as exc:  # noqa: BLE001 - a Pushgateway outage never changes a verdict: warn, go on
            print(f"warning: push to the Pushgateway {self.pushgateway} failed: {type(exc).__name__}: {exc}",
                  file=sys.stderr)
