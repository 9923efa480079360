"""The dashboards and exporters as a real Prometheus sees them at ordinary scrape intervals (15-60 s):
every panel expression is valid PromQL (promql-parser, the Prometheus parser's Rust port), no range
window is a literal shorter than a minute (rate() needs two samples in it), legends and groupings use
labels the exporters really emit, and promtool's metric lint rules hold for every exporter's text
(base units, counters end in _total, ``quantile`` only on summaries, no target label exported)."""

from __future__ import annotations

import re

import promql_parser
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from conftest import ROOT
from gameday.grafana.dashboards import load_dashboards, metric_names
from gameday.journal import Event
from gameday.lab.ingest_node import _metrics
from gameday.lab.metrics import lab_metrics
from gameday.metrics import RunnerMetrics

GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h"}
NON_BASE_UNITS = ("_ms", "_milliseconds", "_millis", "_us", "_microseconds", "_ns", "_minutes", "_hours", "_days",
                  "_kb", "_kilobytes", "_mb", "_megabytes", "_percent")
TARGET_LABELS = {"instance", "job"}


def _runner_text() -> str:
    m = RunnerMetrics("r1", "drill")
    for i, (kind, value) in enumerate([
        ("drill.start", {"steps": [{"id": "alert", "budget_s": 60}], "time_scale": 1 / 60, "probe_consecutive": 1}),
        ("fault.applied", {"t_applied": 1000.0}), ("step.start", {"id": "alert"}),
        ("step.end", {"id": "alert", "ok": True}), ("heartbeat.ack", {"ts": 1000.5}),
        ("probe", {"ok": True, "started": 1000.1}),
        ("load.tick", {"sent": 10, "acked_events": 10, "errors": 0, "indeterminate": 0, "late": 0, "dropped": 0,
                       "p50_ms": 1.0, "p95_ms": 2.0, "p99_ms": 3.0, "mean_ms": 1.2, "target_rate": 10}),
        ("reconcile", {"events_lost": 0}),
    ]):
        m(Event(i, 0, 1000.0 + i, kind, "test", value))
    m.final({"verdict": "pass", "rto_s": 1.0, "rpo_s": 0.0, "events_lost": 0,
             "cache": {"rto_s": 1.8, "rpo_s": 0.3, "lost_writes": 4}})  # the judged figures, the cache's among them
    return generate_latest(m.registry).decode()


def _node_text() -> str:
    node = _metrics({"node": "node-us-east-1a-od-1", "region": "us-east-1", "zone": "us-east-1a",
                     "capacity_type": "on-demand"})
    node["requests"].labels(**node["base"], code="202").inc()
    node["latency"].observe(0.01)
    return generate_latest(node["registry"]).decode()


def _lab_text() -> str:
    st = {"zones": ["us-east-1a", "us-west-2a"], "regions": {"primary": "us-east-1", "dr": "us-west-2"},
          "processes": [
              {"kind": "node", "name": "n1", "region": "us-east-1", "zone": "us-east-1a", "capacity_type": "spot",
               "state": "running", "health": "healthy"},
              {"kind": "db", "name": "db-us-east-1a", "region": "us-east-1", "zone": "us-east-1a", "role": "primary",
               "port": 5001, "connections": {"in_use": 12, "app": 8, "max": 450, "app_max": 437}},
              {"kind": "cache", "name": "cache-us-west-2a", "region": "us-west-2", "zone": "us-west-2a",
               "role": "replica", "repl_offset": 7240, "lag_bytes": 14}],
          "writer_endpoints": {"us-east-1": {"port": 6000, "target": 5001}},
          "replication": [{"standby": "db-us-east-1b", "sync_state": "sync", "lag_bytes": 0}],
          "link": {"delay_ms": 50.0, "cut": False}, "dns": {"answer": "us-east-1"}}
    return lab_metrics(st).decode()


EXPORTERS = {"runner": _runner_text, "ingest node": _node_text, "lab supervisor": _lab_text}


def _series_labels(texts: list[str]) -> dict[str, set[str]]:
    """Metric (sample) name -> every label it carries, from the exposition texts."""
    out: dict[str, set[str]] = {}
    for text in texts:
        for fam in text_string_to_metric_families(text):
            for s in fam.samples:
                out.setdefault(s.name, set()).update(s.labels)
    return out


def _expressions() -> list[tuple[str, str, str | None]]:
    return [(d["uid"], t["expr"], t.get("legendFormat")) for d in load_dashboards(ROOT / "dashboards")
            for p in d["panels"] for t in p["targets"]]


def _fill(expr: str) -> str:
    for var, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(var, value)
    return expr


@pytest.mark.parametrize("uid,expr,legend", _expressions(), ids=lambda x: str(x)[:60])
def test_every_panel_expression_is_valid_promql_with_no_window_under_a_minute(uid, expr, legend):
    promql_parser.parse(_fill(expr))  # raises on invalid PromQL
    for window in re.findall(r"\[([^\]]+)\]", expr):
        if window.startswith("$"):
            assert window in GRAFANA_VARIABLES, f"{uid}: unknown Grafana variable {window}"
            continue
        seconds = promql_parser.parse(f"x[{window}]").range.total_seconds()
        assert seconds >= 60, f"{uid}: {expr!r} uses a literal {window} window: empty at a 15 s scrape interval"


@pytest.mark.parametrize("uid,expr,legend", _expressions(), ids=lambda x: str(x)[:60])
def test_legends_and_groupings_use_labels_the_exporters_emit(uid, expr, legend):
    series = _series_labels([f() for f in EXPORTERS.values()])
    names = metric_names(expr)
    assert names and names <= set(series), f"{uid}: {expr!r} queries {names - set(series)} nobody exports"
    available = set().union(*(series[n] for n in names)) | {"le"}
    grouped = {g.strip() for clause in re.findall(r"by \(([^)]*)\)", expr) for g in clause.split(",")}
    assert grouped <= available, f"{uid}: {expr!r} groups by {grouped - available}, which the series lack"
    if legend and "sum" not in expr.split("(")[0]:
        used = set(re.findall(r"{{\s*(\w+)\s*}}", legend))
        assert used <= available | grouped, f"{uid}: legend {legend!r} names {used - available} (not exported)"
        assert not used & TARGET_LABELS, f"{uid}: legend {legend!r} shows the scrape target, not the thing measured"


@pytest.mark.parametrize("exporter", sorted(EXPORTERS))
def test_promtool_metric_lint_rules_hold(exporter):
    problems = []
    for fam in text_string_to_metric_families(EXPORTERS[exporter]()):
        if any(fam.name.endswith(u) or f"{u}_" in fam.name for u in NON_BASE_UNITS):
            problems.append(f"{fam.name}: not in a base unit (seconds, bytes, ratio)")
        for s in fam.samples:
            if fam.type == "counter" and s.name.endswith("_created"):
                continue
            if fam.type == "counter" and not s.name.endswith("_total"):
                problems.append(f"{s.name}: a counter's name must end in _total")
            if "quantile" in s.labels and fam.type != "summary":
                problems.append(f"{s.name}: 'quantile' is reserved for summaries ({fam.type})")
            if set(s.labels) & TARGET_LABELS:
                problems.append(f"{s.name}: exports {set(s.labels) & TARGET_LABELS}, which Prometheus renames")
    assert problems == []


def test_every_ingest_node_series_names_its_node_zone_and_region():
    for fam in text_string_to_metric_families(_node_text()):
        for s in fam.samples:
            assert {"node", "zone", "region"} <= set(s.labels), s


def test_the_rto_clock_a_dashboard_shows_equals_the_reports_rto(tmp_path):
    from fakekit import _drill, _run
    from gameday.targets.fake import FakeTarget

    metrics = RunnerMetrics("r", "drill")
    s = _run(tmp_path, FakeTarget(lag_s=0.1), drill=_drill(tmp_path), listeners=[metrics])
    assert s["verdict"] == "pass" and s["rto_s"] is not None
    assert abs(metrics.rto_clock() - s["rto_s"]) <= 0.05  # the drill's probe interval
