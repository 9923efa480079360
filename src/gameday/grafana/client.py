"""One place that builds the Grafana client: the token comes from the caller (the CLI reads
GRAFANA_TOKEN), never from here, and is never printed."""

from __future__ import annotations

from typing import Any

__all__ = ["grafana_api"]


def grafana_api(url: str, token: str | None, timeout: float = 5.0) -> Any:
    from grafana_client import GrafanaApi

    return GrafanaApi.from_url(url, credential=token, timeout=timeout)
