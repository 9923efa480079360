"""A service that opens a database connection per client connection (``tests/services/orders.py``: a thread per
connection, no pool), hosted by the lab with few connections (``lab.rds.max_connections: 40``): when zone b
goes down and latency rises, it exhausts its database connections. The lab must stay in control as RDS does:
its control plane and gameday's heartbeat and reconciliation have slots the application cannot take, so
``lab status`` shows a primary, ``lab restore`` works, reconciliation runs, rollbacks restore the zone, and
the refusals are visible (lab events, connections in ``lab status``). With the default max_connections the
same drill passes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from conftest import ROOT, _assert_nothing_left
from gameday.cli import main
from gameday.lab.control import LabClient, lab_down, lab_up, read_state
from labkit import in_shape

pytestmark = pytest.mark.lab
ORDERS = Path(__file__).with_name("orders.py")
# How long the exhausted service's drill waits for a recovery that does not come (in its runbook's waits and
# for the drill's): the same drill with the default max_connections recovers ~4 s after the fault, and the
# refusals start within a second of it; 20 s here cost ~45 s of CI for the same verdict.
NOT_RECOVERING_S = 8


def _environment(tmp: Path, max_connections: int | None) -> Path:
    env = yaml.safe_load((ROOT / "environments" / "local.yaml").read_text())
    env["name"] = f"orders-lab-{max_connections or 'default'}"
    if max_connections is not None:
        env["lab"]["rds"]["max_connections"] = max_connections
    py = sys.executable
    env["lab"]["service"] = {"setup": [py, str(ORDERS), "migrate", "--dsn", "{{dsn}}"],
                             "command": [py, str(ORDERS), "serve", "--port", "{{port}}", "--dsn", "{{dsn}}"],
                             "health_path": "/health"}
    env["service"] = {
        "write": {"method": "POST", "path": "/orders", "body": '{"orders":[{{events}}]}',
                  "event": '{"id":"{{event_uuid}}","item":"i-{{seq}}"}', "ok": [201]},
        "read": {"method": "GET", "path": "/orders/{{event_uuid}}", "ok": [200]},
        "store": {"present_query": "SELECT order_id::text FROM shop.orders WHERE order_id = ANY(%(ids)s::uuid[])"},
        "heartbeat_table": "shop_ops.gameday_heartbeat"}
    path = tmp / f"{env['name']}.yaml"
    path.write_text(yaml.safe_dump(env, sort_keys=False))
    return path


def _lab(tmp: Path, max_connections: int | None):  # type: ignore[no-untyped-def]
    env_file, state_dir = _environment(tmp, max_connections), tmp / "lab"
    try:
        yield lab_up(env_file, state_dir), env_file
    finally:
        st = read_state(state_dir) or {}
        pids = [*st.get("pids", []), *([st["supervisor_pid"]] if st.get("supervisor_pid") else [])]
        lab_down(state_dir)
        _assert_nothing_left(state_dir, pids)


def _drill(tmp: Path, env_file: Path, recovery_timeout_s: float) -> Path:
    """drills/az-outage.yaml on ``env_file``; its runbook's waits, the recovery wait and the warm-up and cool-down
    shortened (a service that does not recover is the point here, waiting minutes for it is not)."""
    runbook = yaml.safe_load((ROOT / "runbooks" / "az-evacuation.yaml").read_text())
    for step in runbook["steps"]:
        if "timeout_s" in step:
            step["timeout_s"] = min(step["timeout_s"], recovery_timeout_s)
    (tmp / "az-evacuation.yaml").write_text(yaml.safe_dump(runbook))
    drill = yaml.safe_load((ROOT / "drills" / "az-outage.yaml").read_text())
    drill.update({"environment": str(env_file), "runbook": str(tmp / "az-evacuation.yaml"),
                  "recovery_timeout_s": recovery_timeout_s, "warmup_s": 2, "cooldown_s": 0.5,  # sleeps: see test_drill_lab
                  # 40 writes/s, not the drill's 100: a client connection is a database connection here, and on a
                  # slow machine (CI) 100/s at 250 ms took the service's 27 before the fault, so the drill rightly
                  # injected nothing. Writes that hang after the fault still need 40 more connections a second.
                  "load": {"profile": "builtin", "rate": 40, "batch": 1}})
    path = tmp / "az-outage.yaml"
    path.write_text(yaml.safe_dump(drill))
    return path


def _gameday(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gameday.cli", *args], capture_output=True, text=True, timeout=180,
                          cwd=ROOT)


def _primary(st: dict[str, Any]) -> dict[str, Any]:
    prims = [p for p in st["processes"] if p["kind"] == "db" and p["role"] == "primary"]
    assert prims, f"no primary in lab status: {[(p['name'], p['role']) for p in st['processes'] if p['kind'] == 'db']}"
    return prims[0]


def _refusals(client: LabClient) -> list[dict[str, Any]]:
    return [e for e in client.status()["events"] if e["kind"] == "rds.connections_refused"]


@pytest.fixture(scope="class")
def storm(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A lab with max_connections 40 hosting the orders service, for the tests of one class (stopped after it)."""
    yield from _lab(tmp_path_factory.mktemp("storm"), 40)


class TestFortyConnections:

    def test_the_az_drill_exhausts_the_services_connections_and_the_lab_stays_in_control(self, storm, tmp_path):
        client, env_file = storm
        drill_file = _drill(tmp_path, env_file, recovery_timeout_s=NOT_RECOVERING_S)
        drill = subprocess.Popen([sys.executable, "-m", "gameday.cli", "drill", "run", str(drill_file),
                                  "--out", str(tmp_path / "out"), "--state-dir", str(client.root)],
                                 cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 60
            while not _refusals(client) and drill.poll() is None and time.monotonic() < deadline:
                time.sleep(0.3)
            refused = _refusals(client)
            assert refused, "the service exhausted its connections: PostgreSQL refused it (a lab event)"
            assert refused[0]["by_role"].get("app") and "connection slots are reserved" in refused[0]["message"]
            assert drill.poll() is None, "refusals seen while the drill runs"
            look = _gameday("lab", "status", "--json", "--state-dir", str(client.root))  # the operator's view
            assert look.returncode == 0, look.stderr
            conns = _primary(json.loads(look.stdout))["connections"]
            assert conns["max"] == 40 and conns["app_max"] == 27, conns
        finally:
            output, _ = drill.communicate(timeout=240)
        report = json.loads((tmp_path / "out" / "report.json").read_text())
        assert isinstance(report.get("events_lost"), int), ("reconciliation ran", report.get("verdict"),
                                                             report.get("reasons"), output[-3000:])
        kinds = [json.loads(x)["kind"] for x in (tmp_path / "out" / "journal.jsonl").read_text().splitlines()]
        assert "reconcile" in kinds and "reconcile.failed" not in kinds
        assert "fault.inverse_applied" in kinds and "fault.inverse_failed" not in kinds
        assert in_shape(client.status()), "the drill's undo brought the lab back to its configured shape"
        assert report["verdict"] == "fail" and drill.returncode == 1
        reasons = json.dumps(report.get("failure_reasons"))
        assert "connection slots are reserved" in reasons or "too many clients" in reasons, reasons
        assert "connection slots are reserved" in output or "too many clients" in output, "the console says why"

    def test_with_every_application_slot_taken_lab_status_and_restore_still_work(self, storm):
        client, _ = storm
        port = client.status()["writer_endpoints"]["us-east-1"]["port"]
        held: list[psycopg.Connection] = []
        try:
            while True:  # take what the application can take, as a leaking service would
                try:
                    held.append(psycopg.connect(f"host=127.0.0.1 port={port} user=app dbname=postgres",
                                                connect_timeout=2))
                except psycopg.OperationalError as exc:
                    assert "connection slots are reserved" in str(exc), exc
                    break
                assert len(held) <= 40, "the application was never refused"
            look = _gameday("lab", "status", "--json", "--state-dir", str(client.root))
            assert look.returncode == 0, look.stderr
            assert _primary(json.loads(look.stdout))["connections"]["app"] >= len(held) - 1
            res = _gameday("lab", "restore", "--state-dir", str(client.root))
            assert res.returncode == 0, res.stdout + res.stderr
        finally:
            for c in held:
                c.close()
        assert in_shape(client.status())

    def test_the_az_experiments_rollback_restores_the_zone(self, storm, tmp_path):
        client, env_file = storm
        with pytest.raises(SystemExit):
            main(["chaos", "run", str(ROOT / "experiments" / "az-outage.yaml"), "--env", str(env_file),
                  "--out", str(tmp_path), "--state-dir", str(client.root)])
        v = json.loads((tmp_path / "verdict.json").read_text())
        assert v["faults_applied"] == ["fail_zone"] and v["rolled_back"], v
        kinds = [json.loads(x)["kind"] for x in (tmp_path / "gameday-journal.jsonl").read_text().splitlines()]
        assert "fault.inverse_applied" in kinds
        st = client.status()
        assert not st["zones_down"] and in_shape(st), "the rollback restored zone b"


def test_with_the_default_max_connections_the_same_drill_passes(tmp_path):
    for client, env_file in _lab(tmp_path, None):
        with pytest.raises(SystemExit) as info:
            main(["drill", "run", str(_drill(tmp_path, env_file, recovery_timeout_s=20)), "--out",
                  str(tmp_path / "out"), "--state-dir", str(client.root)])
        report = json.loads((tmp_path / "out" / "report.json").read_text())
        assert info.value.code == 0 and report["verdict"] == "pass", report["reasons"]
        assert not _refusals(client), "nothing was refused"
        assert _primary(client.status())["connections"]["max"] == 450
