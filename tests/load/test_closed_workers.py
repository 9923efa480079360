"""A plain ``FastHttpUser`` locustfile scales out on Locust's own distributed mode (``--workers 2``: a master and
two workers, all on 127.0.0.1), judged from Locust's aggregated statistics, with the service description's
headers applied to its client (``--service-headers``); the service is described without ``store:`` (a gate needs
no database). Against ``tests/services/failing_service.py``, which requires the bearer token."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from test_gate_verdicts import _server

from conftest import ROOT
from gameday.cli import main

TOKEN = "orders-token-5e1d"  # the service accepts it; it must never reach an output file
FAILING = str(ROOT / "tests" / "services" / "failing_service.py")
STOCK = str(Path(__file__).with_name("stock_orders.py"))


def _environment(tmp: Path, url: str) -> Path:
    env = yaml.safe_load((ROOT / "environments" / "local.yaml").read_text())
    env["service"] = {"url": url, "headers": {"Authorization": "Bearer ${ORDERS_TOKEN}"},
                      "write": {"path": "/orders", "body": '{"items":[{{events}}]}', "event": '{"id":"{{event_id}}"}'}}
    path = tmp / "staging.yaml"
    path.write_text(yaml.safe_dump(env))
    return path


def _gate(tmp: Path, url: str, *args: str) -> tuple[int, dict]:
    out = tmp / "out"
    with pytest.raises(SystemExit) as info:
        main(["load", "gate", STOCK, "--env", str(_environment(tmp, url)), "--workers", "2", "--users", "4",
              "--duration", "2", "--slo", "p95<1s", "--quiet", "--out", str(out), *args])
    return int(info.value.code or 0), json.loads((out / "summary.json").read_text())


@pytest.fixture(autouse=True)
def _token(monkeypatch):
    monkeypatch.setenv("ORDERS_TOKEN", TOKEN)


def test_a_fasthttpuser_locustfile_gates_on_a_master_and_two_workers_with_the_services_headers(tmp_path):
    with _server(FAILING, "--token", TOKEN, "--ok-status", "201") as url:
        code, s = _gate(tmp_path, url, "--service-headers")
    assert code == 0 and s["verdict"] == "pass", s["reasons"]
    assert s["model"] == "closed" and s["workers"] == 2 and s["errors"] == 0
    assert s["workers_reported"] == 2, "both workers' statistics reached the master"
    assert s["events_acked"] > 100 and any("a master and 2 workers" in n for n in s["notes"])
    written = "".join(p.read_text() for p in (tmp_path / "out").iterdir() if p.suffix in (".json", ".jsonl", ".html"))
    assert TOKEN not in written


def test_a_failing_service_fails_the_distributed_gate(tmp_path):
    with _server(FAILING, "--token", TOKEN, "--ok-status", "201", "--error-share", "0.3") as url:
        code, s = _gate(tmp_path, url, "--service-headers")
    assert code == 1 and s["verdict"] == "fail", s["reasons"]
    assert 0.2 < s["error_ratio"] < 0.4 and s["workers"] == 2
    assert any(r.startswith("SLO breached: errors<1% (default SLO)") for r in s["reasons"]), s["reasons"]

