"""The gate's verdicts a release can rest on, against small loopback targets (no lab): nothing acknowledged,
a slow service and the connection cap, a locustfile written the plain Locust way, Locust's own errors,
a request hook that signs requests, Locust's table in a plain `locust -f` run, and `load plan`."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import ROOT
from gameday.cli import main
from gameday.procs import free_port, wait_port

STEADY = str(ROOT / "loadprofiles" / "ingest_steady.py")
SIGNED = str(ROOT / "loadprofiles" / "ingest_signed.py")
HERE = Path(__file__).parent

STOCK = '''
from locust import FastHttpUser, constant, task

class Stock(FastHttpUser):
    wait_time = constant(0.02)

    @task
    def post(self):
        self.client.post("/v1/trips", data='{"events":[]}', headers={"Content-Type": "application/json"})
'''


@contextmanager
def _server(*argv: str) -> Iterator[str]:
    """A loopback server process (bounded: it stops by itself), always stopped."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, *argv, "--port", str(port), "--seconds", "60"])
    try:
        assert wait_port(port, 10), "the test server did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def _noop(delay_ms: float = 0) -> Iterator[str]:
    return _server("-m", "gameday.load.noop_target", "--delay-ms", str(delay_ms))  # type: ignore[return-value]


def _gate(out: Path, profile: str, host: str, *args: str) -> tuple[int, dict]:
    with pytest.raises(SystemExit) as info:
        main(["load", "gate", profile, "--host", host, "--out", str(out), "--quiet", *args])
    return int(info.value.code or 0), json.loads((out / "summary.json").read_text())


def _words(text: str) -> str:
    return " ".join(text.split())  # the terminal wraps lines


@pytest.fixture(autouse=True)
def _in_checkout(monkeypatch):
    monkeypatch.chdir(ROOT)  # environments/local.yaml, as for a user in the checkout


def test_nothing_acknowledged_fails_whatever_the_latency_slos(tmp_path, capsys):
    """The service answers fast, but refuses every unsigned write: fast refusals are not latency."""
    with _server(str(HERE / "signed_service.py"), "--key", "k") as host:
        code, s = _gate(tmp_path, STEADY, host, "--rate", "50", "--duration", "2", "--slo", "p95<300ms")
    assert code == 1 and s["verdict"] == "fail"
    assert s["reasons"][0].startswith("nothing acknowledged")
    assert s["requests_sent"] > 50 and s["p95_ms"] is None, "refused requests have no latency percentile"
    assert "nothing acknowledged" in capsys.readouterr().out


def test_a_slow_service_beyond_the_connection_cap_is_inconclusive_naming_the_cap(tmp_path, capsys):
    """400 ms at 200 req/s needs 80 requests in flight; 20 connections make the generator the bottleneck."""
    with _noop(400) as host:
        code, s = _gate(tmp_path, STEADY, host, "--rate", "200", "--duration", "3", "--max-connections", "20",
                        "--slo", "p95<300ms")
    assert code == 3 and s["verdict"] == "inconclusive", s["reasons"]
    assert any("the generator limited the test" in r and "20 connections" in r and "--max-connections" in r
               for r in s["reasons"])
    assert "--max-connections" in _words(capsys.readouterr().out)


def test_the_same_slow_service_with_enough_connections_is_judged_on_its_real_latency(tmp_path):
    with _noop(400) as host:
        code, s = _gate(tmp_path, STEADY, host, "--rate", "200", "--duration", "3",
                        "--slo", "p95<300ms", "--slo", "p95<1s")
    assert code == 1 and s["verdict"] == "fail", s["reasons"]
    assert [x["expr"] for x in s["slos"] if not x["ok"]] == ["p95<300ms"]
    assert 395 <= s["p95_ms"] < 600, "latency is the service's 400 ms, not queueing in the generator"
    assert s["late_ratio"] < 0.05
    parts = json.loads((tmp_path / "part-0.json").read_text())
    assert 60 <= parts["peak_connections"] < 200, "connections opened as rate x latency needs"


def test_a_stock_fasthttpuser_locustfile_gates_with_a_closed_model_summary(tmp_path, capsys):
    lf = tmp_path / "stock.py"
    lf.write_text(STOCK)
    with _noop() as host:
        code, s = _gate(tmp_path / "o", str(lf), host, "--duration", "2", "--users", "4", "--rate", "100",
                        "--slo", "p95<300ms", "--slo", "errors<1%")
    assert code == 0 and s["verdict"] == "pass", s["reasons"]
    assert s["model"] == "closed" and s["events_acked"] > 50 and s["p95_ms"] is not None
    out = _words(capsys.readouterr().out)
    assert "closed-model run" in out and "Locust's response-time buckets" in out
    assert "unrecognized arguments" not in out


def test_locusts_own_errors_reach_the_terminal(tmp_path, capsys):
    lf = tmp_path / "stock.py"
    lf.write_text(STOCK)
    code, s = _gate(tmp_path / "refused", str(lf), f"http://127.0.0.1:{free_port()}", "--duration", "1",
                    "--users", "2", "--slo", "p95<300ms")
    assert code == 1 and s["verdict"] == "fail"
    assert "ConnectionRefusedError" in _words(capsys.readouterr().out)
    broken = tmp_path / "broken.py"
    broken.write_text("import no_such_module_for_gameday\n" + STOCK)
    code, s = _gate(tmp_path / "broken", str(broken), "http://127.0.0.1:9", "--duration", "1", "--slo", "p95<300ms")
    assert code == 3 and s["verdict"] == "inconclusive"
    assert "no_such_module_for_gameday" in _words(capsys.readouterr().out)
    engine = tmp_path / "engine.py"  # written the gameday way, broken: Locust's traceback, not a silent log
    engine.write_text("from gameday.load.users import IngestUser, RateDrivenShape\nraise RuntimeError('boom here')\n")
    code, s = _gate(tmp_path / "engine", str(engine), "http://127.0.0.1:9", "--duration", "1", "--slo", "p95<1s")
    assert code == 3 and any("RuntimeError: boom here" in r for r in s["reasons"])
    assert "RuntimeError: boom here" in _words(capsys.readouterr().out)


def test_a_locustfile_request_hook_gates_a_service_that_needs_a_computed_header(tmp_path, monkeypatch):
    monkeypatch.setenv("GAMEDAY_SIGNING_KEY", "s3cret")
    with _server(str(HERE / "signed_service.py"), "--key", "s3cret") as host:
        code, s = _gate(tmp_path, SIGNED, host, "--rate", "100", "--batch", "5", "--duration", "2",
                        "--slo", "p95<300ms", "--slo", "errors<0.1%")
    assert code == 0 and s["verdict"] == "pass", s["reasons"]
    assert s["events_acked"] >= 150 and s["errors"] == 0


def test_locust_f_with_its_web_ui_shows_the_engines_requests_in_locusts_table(tmp_path):
    web = free_port()
    with _noop() as host:
        proc = subprocess.Popen([sys.executable, "-m", "locust", "-f", STEADY, "--host", host, "--autostart",
                                 "--web-host", "127.0.0.1", "--web-port", str(web), "--gameday-rate", "50",
                                 "--gameday-duration", "20"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            assert wait_port(web, 15), "Locust's web UI did not start"
            stats: dict = {}
            for _ in range(40):  # bounded: 10 s
                time.sleep(0.25)
                with urllib.request.urlopen(f"http://127.0.0.1:{web}/stats/requests", timeout=5) as r:
                    stats = json.loads(r.read())
                rows = [s for s in stats["stats"] if s["name"] == "/v1/trips"]
                if rows and rows[0]["num_requests"] >= 50:
                    break
        finally:
            proc.terminate()
            proc.wait(15)
    row = next(s for s in stats["stats"] if s["name"] == "/v1/trips")
    assert row["method"] == "POST" and row["num_requests"] >= 50 and row["num_failures"] == 0
    assert 0 < row["avg_response_time"] < 1000


def test_load_plan_sizes_connections_and_workers_from_the_targets_latency(tmp_path, capsys):
    cal = tmp_path / "calibration.json"
    cal.write_text(json.dumps({"per_core_requests_per_s": {"1": 40000, "100": 3000}}))
    with pytest.raises(SystemExit) as info:
        main(["load", "plan", "--rate", "20000", "--batch", "1", "--latency", "400ms", "--max-connections", "500",
              "--calibration", str(cal)])
    assert info.value.code in (0, None)
    out = capsys.readouterr().out
    plan = json.loads(out[out.index("{"):])
    assert plan["connections"] == 8000 and plan["cpu_workers"] == 1 and plan["workers"] == 16
    assert plan["connections_per_worker"] == 500
    cal.write_text(json.dumps({"per_core_requests_per_s": {"1": 40000}, "per_core_requests_per_s_tls": {"1": 20000}}))
    with pytest.raises(SystemExit):
        main(["load", "plan", "--rate", "60000", "--batch", "1", "--tls", "--calibration", str(cal)])
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{"):])["workers"] == 5, "ceil(60000 / (20000 x 0.6)): the TLS figure"


def test_load_plan_on_a_fresh_clone_uses_the_reference_calibration_and_says_so(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["load", "plan", "--rate", "1000000", "--batch", "100", "--calibration", str(tmp_path / "none.json")])
    assert info.value.code in (0, None)
    out = capsys.readouterr().out
    plan = json.loads(out[out.index("{"):])
    assert "reference machine" in " ".join(out.split()) and plan["calibration"].endswith("reference_calibration.json")
    assert plan["workers"] >= 1
