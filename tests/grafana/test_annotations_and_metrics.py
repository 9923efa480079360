"""Annotations arrive in order with the run's tags; an unreachable Grafana changes no verdict; the runner
serves its metrics while it runs."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest
import yaml
from werkzeug import Response

from conftest import ROOT
from gameday.cli import main
from gameday.journal import Event
from gameday.metrics import RunnerMetrics, serve_metrics


def _drill(tmp_path, name="region-failover"):
    data = yaml.safe_load((ROOT / "drills" / f"{name}.yaml").read_text())
    data.update({"environment": str(ROOT / "environments" / "local.yaml"),
                 "runbook": str(ROOT / "runbooks" / Path(
                     yaml.safe_load((ROOT / "drills" / f"{name}.yaml").read_text())["runbook"]).name),
                 "warmup_s": 1.5, "cooldown_s": 0.5})
    data["runbooks"] = {k: str(ROOT / "runbooks" / Path(v).name) for k, v in data.get("runbooks", {}).items()}
    if data["load"]["profile"] != "builtin":
        data["load"]["profile"] = str(ROOT / data["load"]["profile"])
    p = tmp_path / f"{name}.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


@pytest.mark.lab
def test_a_drill_annotates_grafana_in_order_with_its_run_id(lab, tmp_path, httpserver, monkeypatch):
    received: list[dict] = []

    def annotate(request):
        received.append(request.get_json())
        return Response(json.dumps({"id": len(received), "message": "Annotation added"}), 200,
                        content_type="application/json")

    httpserver.expect_request("/api/annotations", method="POST").respond_with_handler(annotate)
    monkeypatch.setenv("GRAFANA_TOKEN", "tok")
    with pytest.raises(SystemExit) as info:
        main(["drill", "run", str(_drill(tmp_path)), "--out", str(tmp_path / "out"), "--state-dir", str(lab.root),
              "--grafana-url", httpserver.url_for("/")])
    assert info.value.code == 0
    kinds = [next(t for t in a["tags"] if "." in t) for a in received]
    run_tags = {t for a in received for t in a["tags"] if t.startswith("run:")}
    assert len(run_tags) == 1 and all("gameday" in a["tags"] and "drill" in a["tags"] for a in received)
    assert kinds[0] == "drill.start" and kinds[-1] == "run.verdict"
    assert kinds.index("fault.intent") < kinds.index("fault.applied") < kinds.index("step.start")
    steps = yaml.safe_load((ROOT / "runbooks" / "region-failover.yaml").read_text())["steps"]
    assert kinds.count("step.start") == kinds.count("step.end") == len(steps)
    assert "drill.recovered" in kinds and "fault.inverse_applied" in kinds
    times = [a["time"] for a in received[:-1]]
    assert times == sorted(times), "annotations arrive in the order things happened"
    assert "verdict pass" in received[-1]["text"]


@pytest.mark.lab
def test_an_unreachable_grafana_leaves_the_verdict_unchanged(lab, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["drill", "run", str(_drill(tmp_path, "az-outage")), "--out", str(tmp_path / "out"),
              "--state-dir", str(lab.root), "--grafana-url", "http://127.0.0.1:9"])
    assert info.value.code == 0
    assert json.loads((tmp_path / "out" / "report.json").read_text())["verdict"] == "pass"
    assert "annotations to http://127.0.0.1:9 failing" in capsys.readouterr().err


def test_runner_metrics_follow_the_journal_and_are_served():
    m = RunnerMetrics("run-1", "drill")
    events = [("drill.start", {"probe_consecutive": 3, "steps": [], "time_scale": 1}),
              ("fault.applied", {"t_applied": 100.0}), ("step.start", {"id": "promote"}),
              ("step.end", {"id": "promote", "ok": True})]
    for i, ok in enumerate([False, False, True, False, True, True, True, True]):  # probes every 0.2 s from 100.2
        events.append(("probe", {"ok": ok, "started": 100.2 + 0.2 * i - 0.05}))
    events.append(("reconcile", {"events_lost": 7}))
    for i, (kind, value) in enumerate(events):
        t = value["started"] + 0.05 if kind == "probe" else 100.0 + i * 0.5 if kind.startswith("step") else 100.0
        m(Event(i, 0, t, kind, "test", value))
    server = serve_metrics(m, 0)
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/metrics", timeout=3).read().decode()
    finally:
        server.shutdown()
    # the checker's rule: the first of 3 consecutive successes after the outage was seen ended at 100.2 + 0.8
    assert re.search(r"^gameday_drill_rto_clock_seconds 1\.0$", text, re.M), text
    assert re.search(r'^gameday_drill_step_duration_seconds\{step="promote"\} 0\.5$', text, re.M)
    assert re.search(r"^gameday_events_lost 7\.0$", text, re.M)
