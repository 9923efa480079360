"""The gate against loopback services that fail (``tests/services/failing_service.py``, no lab): the default
SLOs, a service's own errors that stay FAIL behind a limited generator, hard limits that trip, failure reasons
named by status and body (secrets redacted), and ``gameday report`` reproducing the gate from its journal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from test_gate_verdicts import STEADY, _gate, _server, _words

from conftest import ROOT
from gameday.cli import main
from gameday.journal import read_journal
from gameday.lab.ingest_api import LAB_SERVICE
from gameday.procs import free_port

FAILING = str(ROOT / "tests" / "services" / "failing_service.py")


@pytest.fixture(autouse=True)
def _in_checkout(monkeypatch):
    monkeypatch.chdir(ROOT)


def _failing(*args: str):
    return _server(FAILING, *args)


def _written(out: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(out.iterdir()) if p.suffix in (".json", ".jsonl", ".xml", ".html"))


def test_a_service_failing_99_in_100_with_only_a_latency_slo_fails_on_the_default_slos(tmp_path, capsys):
    with _failing("--error-share", "0.99") as host:
        code, s = _gate(tmp_path, STEADY, host, "--rate", "100", "--duration", "3", "--slo", "p95<300ms")
    assert code == 1 and s["verdict"] == "fail", s["reasons"]
    slos = {x["expr"]: x for x in s["slos"]}
    assert slos["p95<300ms"]["ok"] and not slos["p95<300ms"]["default"], "the fast failures are not latency"
    assert slos["achieved>=95%"]["default"] and not slos["achieved>=95%"]["ok"]
    assert slos["errors<1%"]["default"] and slos["errors<1%"]["observed"] >= 0.95
    assert any(r.startswith("SLO breached: achieved>=95% (default SLO)") for r in s["reasons"])
    out = _words(capsys.readouterr().out)
    assert "achieved>=95% (default)" in out and "errors<1% (default)" in out and "BREACHED" in out
    junit = (tmp_path / "junit.xml").read_text()
    assert 'name="achieved&gt;=95% (default)"' in junit and 'name="errors&lt;1% (default)"' in junit
    assert s["failure_reasons"][0]["reason"] == "write: HTTP 500: internal error"


def test_a_failing_service_behind_the_connection_cap_is_fail_not_inconclusive(tmp_path):
    """200 ms at 200/s needs 40 connections; 10 make the generator late, and half the answers are 500s."""
    with _failing("--error-share", "0.5", "--delay-ms", "200") as host:
        code, s = _gate(tmp_path, STEADY, host, "--rate", "200", "--duration", "3", "--max-connections", "10",
                        "--slo", "p95<1s")
    assert code == 1 and s["verdict"] == "fail", s["reasons"]
    assert any(r.startswith("SLO breached: errors<1% (default SLO)") and "service's own failures" in r
               for r in s["reasons"])
    assert any("the generator limited the test" in r for r in s["reasons"]), "the cap is still named"
    assert s["service_failures"] == s["errors"] + s["indeterminate"]


@pytest.mark.parametrize("service, load, limit", [
    (("--error-share", "0.5"), ("--rate", "100"), "achieved>=90%"),
    (("--delay-ms", "300"), ("--rate", "100", "--max-connections", "2"), "late<10%"),
    (("--delay-ms", "500"), ("--rate", "1000", "--max-connections", "1"), "dropped<1"),
], ids=["achieved", "late", "dropped"])
def test_hard_limits_on_achieved_late_and_dropped_trip(tmp_path, service, load, limit):
    with _failing(*service) as host:
        code, s = _gate(tmp_path, STEADY, host, *load, "--duration", "30", "--hard-limit", limit, "--grace", "1")
    assert code == 1 and s["verdict"] == "fail", s["reasons"]
    assert s["reasons"][0].startswith(f"aborted early: hard limit {limit} breached"), s["reasons"]
    ticks = [e.value["t"] for e in read_journal(tmp_path / "journal.jsonl") if e.kind == "load.tick"]
    assert max(ticks) < 20, "the run stopped early, long before its 30 s"


def test_a_503_with_a_body_is_named_by_status_and_body_and_report_reproduces_the_gate(tmp_path, capsys):
    body = "upstream busy: ingest queue full, retry later"
    with _failing("--error-share", "0.3", "--status", "503", "--body", body) as host:
        code, s = _gate(tmp_path, STEADY, host, "--rate", "100", "--duration", "2")
    assert code == 1 and s["verdict"] == "fail"
    top = s["failure_reasons"][0]
    assert top["reason"] == f"write: HTTP 503: {body}" and top["source"] == "load"
    assert top["count"] == s["errors"], "every failed request has its reason"
    first = capsys.readouterr().out
    assert f"write: HTTP 503: {body}" in _words(first)
    assert f"HTTP 503: {body}" in (tmp_path / "junit.xml").read_text()
    events = read_journal(tmp_path / "journal.jsonl")
    assert events[0].kind == "gate.start" and any(e.kind == "failures" for e in events)
    before = {n: (tmp_path / n).read_text() for n in ("summary.json", "junit.xml", "report.html")}
    with pytest.raises(SystemExit) as info:
        main(["report", str(tmp_path / "journal.jsonl")])
    assert info.value.code == 1
    assert {n: (tmp_path / n).read_text() for n in before} == before, "the journal alone gives the same reports"
    again = _words(capsys.readouterr().out)
    assert "drill None" not in again and again.startswith("Load gate") and "FAIL" in again
    assert f"write: HTTP 503: {body}" in again and "errors<1% (default)" in again


def _env_with_token(tmp: Path) -> Path:
    env = yaml.safe_load((ROOT / "environments" / "local.yaml").read_text())
    env["service"] = {**LAB_SERVICE.model_dump(mode="json", exclude_none=True),
                      "headers": {"Authorization": "Bearer ${GATE_TEST_TOKEN}"}}
    path = tmp / "env.yaml"
    path.write_text(yaml.safe_dump(env))
    return path


def test_a_wrong_token_is_errors_100_percent_and_http_401_with_the_token_redacted(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GATE_TEST_TOKEN", "wrong-token-1234")
    env = _env_with_token(tmp_path)
    with _failing("--token", "right-token-9876") as host:
        code, s = _gate(tmp_path / "o", STEADY, host, "--env", str(env), "--rate", "50", "--duration", "2",
                        "--slo", "p95<300ms")
    assert code == 1 and s["verdict"] == "fail"
    errors = next(x for x in s["slos"] if x["expr"] == "errors<1%")
    assert errors["observed"] == 1.0 and errors["shown"] == "100 %", "what was observed, never None"
    reason = s["failure_reasons"][0]["reason"]
    assert reason.startswith("write: HTTP 401: unauthorized") and "Bearer ***" in reason
    assert "HTTP 401" in s["reasons"][0], "nothing acknowledged, and why"
    printed = capsys.readouterr().out
    assert "None" not in printed, "every figure nothing measured says so"
    assert "wrong-token-1234" not in printed + _written(tmp_path / "o")


def test_a_refused_connection_is_named_as_such_not_as_an_http_status(tmp_path):
    code, s = _gate(tmp_path, STEADY, f"http://127.0.0.1:{free_port()}", "--rate", "20", "--duration", "1")
    assert code == 1 and s["verdict"] == "fail"
    reason = s["failure_reasons"][0]["reason"]
    assert reason.startswith("write: ConnectionRefusedError") and "HTTP" not in reason
    assert s["failed_by"]["refused"] == s["errors"] and s["failed_by"]["http_errors"] == 0
    assert json.loads((tmp_path / "summary.json").read_text())["failure_reasons"] == s["failure_reasons"]
