"""Dashboards: load the JSON in dashboards/, check it imports into Grafana 10+ unchanged, push it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from gameday.errors import ConfigError, DriverError
from gameday.grafana.client import grafana_api

__all__ = ["load_dashboards", "panel_queries", "metric_names", "push_dashboards", "FOLDER_UID"]

FOLDER_UID = "gameday"
_PROMQL_WORDS = {"sum", "rate", "irate", "increase", "by", "without", "histogram_quantile", "max", "min", "avg",
                 "count", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "le", "time",
                 "clamp_min", "clamp_max", "vector", "scalar", "abs", "label_replace", "topk", "bottomk", "offset",
                 "max_over_time", "min_over_time", "avg_over_time", "deriv", "delta", "idelta", "bool"}


def load_dashboards(folder: Path) -> list[dict[str, Any]]:
    out = []
    for path in sorted(folder.glob("*.json")):
        try:
            d = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ConfigError(f"not valid JSON: {exc}", file=str(path)) from None
        for key in ("uid", "title", "panels", "schemaVersion"):
            if key not in d:
                raise ConfigError("required field is missing", file=str(path), field=key)
        out.append(d)
    if not out:
        raise ConfigError("no dashboard JSON files", file=str(folder))
    return out


def panel_queries(dashboard: dict[str, Any]) -> list[str]:
    exprs = []
    for panel in dashboard.get("panels", []):
        for t in panel.get("targets", []):
            if t.get("expr"):
                exprs.append(t["expr"])
    return exprs


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (identifiers that are not functions, keywords or labels)."""
    expr = re.sub(r'"[^"]*"', '""', expr)  # label values
    expr = re.sub(r"\{[^}]*\}", "{}", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "[]", expr)  # ranges
    expr = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", expr)  # grouping labels
    names = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr))
    return {n for n in names if n not in _PROMQL_WORDS and not n.startswith("$")}


def push_dashboards(dashboards: list[dict[str, Any]], *, url: str, token: str | None,
                    folder_title: str = "gameday") -> list[dict[str, Any]]:
    """Create the folder if missing, then create or update each dashboard (by uid): idempotent."""
    from grafana_client.client import GrafanaClientError, GrafanaException

    api = grafana_api(url, token)
    try:
        try:
            api.folder.get_folder(FOLDER_UID)
        except GrafanaClientError as exc:
            if getattr(exc, "status_code", None) != 404:
                raise
            api.folder.create_folder(folder_title, uid=FOLDER_UID)
        results = []
        for d in dashboards:
            body = {k: v for k, v in d.items() if k not in ("id", "version")}
            r = api.dashboard.update_dashboard({"dashboard": body, "folderUid": FOLDER_UID, "overwrite": True,
                                                "message": "pushed by gameday"})
            results.append({"uid": d["uid"], "title": d["title"], "status": r.get("status"), "version": r.get("version")})
        return results
    except (GrafanaException, OSError) as exc:
        raise DriverError(f"Grafana at {url}: {exc}", code=str(getattr(exc, "status_code", "")) or None) from None
