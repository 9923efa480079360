"""Wiring a run to Grafana annotations and the runner's Prometheus endpoint (both optional)."""

from __future__ import annotations

import sys
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
    listeners: list[Any] = field(default_factory=list)
    annotator: Any = None
    server: Any = None

    def start(self) -> Observers:
        if self.grafana_url:
            from gameday.grafana.annotations import Annotator

            self.annotator = Annotator(url=self.grafana_url, token=self.grafana_token, run_id=self.run_id,
                                       kind_of_run=self.kind_of_run)
            self.listeners.append(self.annotator)
        if self.metrics_port is not None:
            metrics = RunnerMetrics(self.run_id, self.kind_of_run)
            try:
                self.server = serve_metrics(metrics, self.metrics_port, self.metrics_addr)
            except OSError:  # the port is taken (another run): any free port rather than no metrics
                self.server = serve_metrics(metrics, 0, self.metrics_addr)
            print(f"metrics: http://{self.metrics_addr}:{self.server.server_port}/metrics", file=sys.stderr)
            self.listeners.append(metrics)
        return self

    def attach(self, journal: Journal) -> None:
        journal.listeners.extend(self.listeners)

    def finish(self, verdict: str, detail: str = "") -> None:
        """The last annotation (the verdict), then stop everything."""
        if self.annotator is not None:
            self.annotator(Event(0, time.monotonic_ns(), time.time(), "run.verdict", "runner",
                                 {"verdict": verdict, "detail": detail}))
            self.annotator.close()
        if self.server is not None:
            self.server.shutdown()
