"""The run's observers (Grafana annotations, the runner's metrics endpoint), configured at the API edge:
the Grafana token comes from ``GRAFANA_TOKEN`` here and is never printed."""

from __future__ import annotations

import os
import uuid

from gameday.observe import Observers

__all__ = ["observers", "new_run_id"]


def new_run_id() -> str:
    """A run's id: in its journal, metrics, annotations, uploaded folder and history."""
    return uuid.uuid4().hex[:10]


def observers(kind: str, grafana_url: str | None, metrics_port: int | None, run_id: str | None = None,
              metrics_addr: str = "127.0.0.1", metrics_linger_s: float = 0.0,
              pushgateway: str | None = None) -> Observers:
    return Observers(run_id or new_run_id(), kind, grafana_url=grafana_url,
                     grafana_token=os.environ.get("GRAFANA_TOKEN"), metrics_port=metrics_port,
                     metrics_addr=metrics_addr, metrics_linger_s=metrics_linger_s, pushgateway=pushgateway).start()
