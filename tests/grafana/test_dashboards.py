"""Dashboards: every metric a panel queries is really exported; they import into Grafana 10+ unchanged;
push creates each dashboard once and updates it on the second push (a local stub of the Grafana API)."""

from __future__ import annotations

import json
import re

import pytest
from prometheus_client import generate_latest
from werkzeug import Response

from conftest import ROOT
from gameday.cli import main
from gameday.grafana.dashboards import load_dashboards, metric_names, panel_queries
from gameday.journal import Event
from gameday.lab.ingest_node import _metrics
from gameday.lab.metrics import lab_metrics
from gameday.metrics import RunnerMetrics

DASHBOARDS = ROOT / "dashboards"


def _names(text: bytes) -> set[str]:
    """Sample names in Prometheus text (what a query can select)."""
    return {m.group(1).decode() for m in re.finditer(rb"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", text, re.M)}


def _runner_metrics_text() -> bytes:
    m = RunnerMetrics("r1", "drill")
    for i, (kind, value) in enumerate([
        ("drill.start", {"steps": [{"id": "alert", "budget_s": 60}], "time_scale": 1 / 60}),
        ("fault.applied", {"t_applied": 1000.0}), ("step.start", {"id": "alert"}),
        ("step.end", {"id": "alert", "ok": True}), ("heartbeat.ack", {"ts": 1000.5}), ("probe", {"ok": True}),
        ("load.tick", {"sent": 10, "acked_events": 10, "errors": 0, "indeterminate": 0, "late": 0, "dropped": 0,
                       "p50_ms": 1.0, "p95_ms": 2.0, "p99_ms": 3.0, "target_rate": 10}),
        ("reconcile", {"events_lost": 0}),
    ]):
        m(Event(i, 0, 1000.0 + i, kind, "test", value))
    m.final({"verdict": "pass", "rto_s": 1.0, "rpo_s": 0.0, "events_lost": 0,
             "cache": {"rto_s": 1.8, "rpo_s": 0.3, "lost_writes": 4}})  # the judged figures, the cache's among them
    return generate_latest(m.registry)


@pytest.mark.lab
def test_every_metric_a_panel_queries_is_exported_by_gameday(lab):
    node = _metrics({"node": "n", "region": "r", "zone": "z", "capacity_type": "spot"})
    node["requests"].labels(**node["base"], code="202").inc()
    exported = _names(generate_latest(node["registry"])) | _names(_runner_metrics_text()) | \
        _names(lab_metrics(lab.status()))
    for d in load_dashboards(DASHBOARDS):
        for expr in panel_queries(d):
            missing = metric_names(expr) - exported
            assert not missing, f"{d['uid']}: {expr!r} queries metrics nobody exports: {missing}"


def test_dashboards_import_into_grafana_10_unchanged():
    for d in load_dashboards(DASHBOARDS):
        assert d["schemaVersion"] >= 36 and d["uid"] and "id" not in d
        variables = {v["name"]: v for v in d["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
        ids = [p["id"] for p in d["panels"]]
        assert len(ids) == len(set(ids))
        for p in d["panels"]:
            for ds in [p["datasource"], *[t["datasource"] for t in p["targets"]]]:
                assert ds == {"type": "prometheus", "uid": "${datasource}"}, f"hard-coded datasource in {d['uid']}"
        assert panel_queries(d)


def test_metric_names_reads_promql_without_functions_or_labels():
    assert metric_names('sum by (code) (rate(gameday_ingest_requests_total{code!="202"}[15s]))') == \
        {"gameday_ingest_requests_total"}
    assert metric_names("time() - gameday_heartbeat_last_ack_timestamp_seconds") == \
        {"gameday_heartbeat_last_ack_timestamp_seconds"}


class GrafanaStub:
    """Enough of the Grafana HTTP API for folders and dashboards, recording what it receives."""

    def __init__(self, server) -> None:
        self.folders: dict[str, dict] = {}
        self.dashboards: dict[str, dict] = {}
        self.requests: list[tuple[str, str, dict, str]] = []
        server.expect_request(re.compile(r"/api/.*")).respond_with_handler(self.handle)

    def handle(self, request) -> Response:
        body = request.get_json(silent=True) or {}
        self.requests.append((request.method, request.path, body, request.headers.get("Authorization", "")))
        if request.method == "GET" and request.path.startswith("/api/folders/"):
            uid = request.path.rsplit("/", 1)[1]
            if uid in self.folders:
                return Response(json.dumps(self.folders[uid]), 200, content_type="application/json")
            return Response(json.dumps({"message": "folder not found"}), 404, content_type="application/json")
        if request.method == "POST" and request.path == "/api/folders":
            self.folders[body["uid"]] = {"uid": body["uid"], "title": body["title"]}
            return Response(json.dumps(self.folders[body["uid"]]), 200, content_type="application/json")
        if request.method == "POST" and request.path == "/api/dashboards/db":
            uid = body["dashboard"]["uid"]
            if uid in self.dashboards and not body.get("overwrite"):
                return Response(json.dumps({"message": "exists"}), 412, content_type="application/json")
            version = self.dashboards.get(uid, {}).get("version", 0) + 1
            self.dashboards[uid] = {"version": version, "folderUid": body.get("folderUid"), "body": body["dashboard"]}
            return Response(json.dumps({"status": "success", "uid": uid, "version": version}), 200,
                            content_type="application/json")
        return Response(json.dumps({"message": "not in the stub"}), 404, content_type="application/json")


def test_push_creates_each_dashboard_once_and_updates_on_the_second_push(httpserver, monkeypatch, capsys):
    stub = GrafanaStub(httpserver)
    monkeypatch.setenv("GRAFANA_TOKEN", "s3cret-token")
    for _ in range(2):
        with pytest.raises(SystemExit) as info:
            main(["dashboards", "push", "--grafana-url", httpserver.url_for("/"), "--dir", str(DASHBOARDS)])
        assert info.value.code == 0
    assert list(stub.folders) == ["gameday"]
    assert [r[1] for r in stub.requests].count("/api/folders") == 1, "the folder is created once"
    uids = {d["uid"] for d in load_dashboards(DASHBOARDS)}
    assert set(stub.dashboards) == uids
    assert {v["version"] for v in stub.dashboards.values()} == {2}, "the second push updates, it does not duplicate"
    assert all(v["folderUid"] == "gameday" for v in stub.dashboards.values())
    assert all(auth == "Bearer s3cret-token" for *_, auth in stub.requests)
    assert "s3cret-token" not in capsys.readouterr().out


def test_push_to_an_unreachable_grafana_is_an_error_naming_it(capsys, monkeypatch):
    monkeypatch.setenv("GRAFANA_TOKEN", "tok")
    with pytest.raises(SystemExit) as info:
        main(["dashboards", "push", "--grafana-url", "http://127.0.0.1:9", "--dir", str(DASHBOARDS)])
    assert info.value.code == 1 and "127.0.0.1:9" in capsys.readouterr().err
