"""On the real lab, against small services that are not gameday's (``tests/services/pipeline.py``, fronting the
lab's public endpoint): a wrong token or a service that is down gets no fault (the lab's own event log shows
no fault and no runbook action), INCONCLUSIVE as soon as the warm-up ends, the cause on the console; an
asynchronous service passes the region drill with a read that polls (``read.within_s``) and is refused
before the fault without it; a lab from another environment file is refused with exit 2."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from gameday.cli import main
from gameday.lab.ingest_api import LAB_SERVICE
from labkit import in_shape

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services"))
from pipeline import PipelineService  # noqa: E402

pytestmark = pytest.mark.lab
TOKEN = "pipeline-token-5d1e"


def _env(tmp: Path, url: str, *, token: str | None = None, within_s: float = 0.0,
         time_scale: float | None = None) -> Path:
    env = yaml.safe_load((ROOT / "environments" / "local.yaml").read_text())
    if time_scale is not None:
        env["time_scale"] = time_scale
    service = LAB_SERVICE.model_dump(mode="json")
    service.update({"url": url, "headers": {"Authorization": f"Bearer {token}"} if token else {}})
    service["read"]["within_s"] = within_s
    env["service"] = service
    path = tmp / "env.yaml"
    path.write_text(yaml.safe_dump(env))
    return path


def _drill(tmp: Path, env_file: Path, name: str = "region-failover") -> Path:
    data = yaml.safe_load((ROOT / "drills" / f"{name}.yaml").read_text())
    data.pop("runbooks", None)
    data.update({"environment": str(env_file), "runbook": str(ROOT / "runbooks" / Path(data["runbook"]).name),
                 "load": {"profile": "builtin", "rate": 100, "batch": 1}, "warmup_s": 2, "cooldown_s": 1})
    path = tmp / "drill.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _lab_events(lab) -> list[dict]:
    return [json.loads(x) for x in (Path(lab.root) / "events.jsonl").read_text().splitlines() if x.strip()]


def _drill_run(lab, tmp: Path, env_file: Path, name: str = "region-failover") -> tuple[int, dict, list[dict]]:
    before = len(_lab_events(lab))
    with pytest.raises(SystemExit) as info:
        main(["drill", "run", str(_drill(tmp, env_file, name)), "--out", str(tmp / "out"), "--state-dir", str(lab.root)])
    report = json.loads((tmp / "out" / "report.json").read_text())
    return info.value.code, report, _lab_events(lab)[before:]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("case", ["wrong-token", "down"])
def test_a_service_failing_before_the_fault_is_not_faulted(lab, tmp_path, capsys, case):
    with PipelineService(token=TOKEN, upstream=lab.public_endpoint) as svc:
        url = svc.url if case == "wrong-token" else f"http://127.0.0.1:{_closed_port()}"
        code, s, lab_events = _drill_run(lab, tmp_path, _env(tmp_path, url, token="expired-token"))
    console = capsys.readouterr().out
    expected = ("write: HTTP 401: {\"message\": \"invalid token\"}" if case == "wrong-token"
                else "write: ClientConnectorError")
    assert code == 3 and s["verdict"] == "inconclusive"
    assert s["reasons"][0].startswith(f"not healthy before the fault: {expected}"), s["reasons"]
    assert "not healthy before the fault" in console and expected.split(":")[-1].strip(' "}') in console
    assert [e["kind"] for e in lab_events if e["kind"].startswith(("fault.", "action."))] == [], "nothing injected"
    assert in_shape(lab.status())
    kinds = [json.loads(x)["kind"] for x in (tmp_path / "out" / "journal.jsonl").read_text().splitlines()]
    assert "steady.failed" in kinds and "fault.applied" not in kinds


@pytest.mark.parametrize("within_s", [0.0, 2.0])
def test_an_asynchronous_service_passes_the_region_drill_when_its_read_polls(lab, tmp_path, within_s):
    # each of the smoke step's consecutive transactions waits out the 0.5 s read lag: 20x compressed rather
    # than the lab's 60x, its budget (5 document minutes) is 15 s, room on a starved machine (12.5 s seen)
    with PipelineService(read_lag_s=0.5, upstream=lab.public_endpoint) as svc:
        code, s, lab_events = _drill_run(lab, tmp_path, _env(tmp_path, svc.url, within_s=within_s, time_scale=0.05))
    if within_s == 0:  # the read-back answers 404 until the pipeline caught up: not steady, and nothing injected
        assert code == 3 and s["reasons"][0].startswith("not healthy before the fault: read: HTTP 404"), s["reasons"]
        assert not [e for e in lab_events if e["kind"].startswith("fault.")]
        return
    assert code == 0 and s["verdict"] == "pass", (s["reasons"], s.get("failure_reasons"))
    probes = [json.loads(x) for x in (tmp_path / "out" / "journal.jsonl").read_text().splitlines()]
    assert any(p["value"].get("reads", 1) > 1 for p in probes if p["kind"] == "probe" and p["value"]["ok"])
    assert "fault.fail_region" in [e["kind"] for e in lab_events] and in_shape(lab.status())


def test_a_lab_running_from_another_environment_file_is_refused(lab, tmp_path, capsys):
    env = yaml.safe_load((ROOT / "environments" / "local.yaml").read_text())
    env["lab"]["db_pool_size"] = 7  # another lab than the one running
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump(env))
    before = len(_lab_events(lab))
    with pytest.raises(SystemExit) as info:
        main(["drill", "run", str(_drill(tmp_path, other)), "--out", str(tmp_path / "out"), "--state-dir", str(lab.root)])
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2 and len(err.splitlines()) == 1, err
    assert str(other) in err and str(ROOT / "environments" / "local.yaml") in err
    assert not (tmp_path / "out").exists() and len(_lab_events(lab)) == before, "nothing started or changed"


def test_lost_writes_acknowledged_into_a_pipeline_are_named_as_such_when_settle_s_is_0(lab, tmp_path):
    """A service that acknowledges into a queue (reads served from its own index) and writes to the database 6 s
    later, reconciled with ``settle_s: 0``: the writes still in its pipeline read as lost, and the report says
    they were acknowledged after recovery and may still be in the pipeline, naming settle_s (not
    'acknowledged in the last 0 s before the fault')."""
    from gameday.report.words import rpo_sentence

    with PipelineService(write_lag_s=6.0, read_local=True, upstream=lab.public_endpoint) as svc:
        env_file = _env(tmp_path, svc.url)
        env = yaml.safe_load(env_file.read_text())
        env["service"]["store"]["settle_s"] = 0
        env_file.write_text(yaml.safe_dump(env))
        code, s, _ = _drill_run(lab, tmp_path, env_file, "az-outage")  # its runbook waits for no failure
    assert s["events_lost"] > 0, s["reasons"]
    assert s["lost_split"]["after_recovery"] > 0, s["lost_split"]
    text = rpo_sentence(s)
    assert "acknowledged after recovery, possibly still in the service's pipeline" in text and "settle_s" in text
    assert in_shape(lab.status())
