"""Drills on the real lab: measurement truth (RPO vs a known link delay, lost events vs an independent
count), Multi-AZ drills lose nothing, tight targets fail with reasons, crashes are recoverable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import yaml

from conftest import ROOT
from gameday.cli import main
from gameday.drill.models import load_drill
from gameday.drill.runner import run_drill
from gameday.journal import read_journal
from gameday.lab.ingest_api import LAB_SERVICE
from gameday.report.write import write_reports
from gameday.targets.local import LocalTarget
from labkit import in_shape, passed_but_for_the_clock

pytestmark = pytest.mark.lab


def _drill_file(tmp: Path, name: str, **changes) -> Path:
    data = yaml.safe_load((ROOT / "drills" / f"{name}.yaml").read_text())
    data["environment"] = str(ROOT / "environments" / "local.yaml")
    data["runbook"] = str(ROOT / "runbooks" / Path(data["runbook"]).name)
    data["runbooks"] = {k: str(ROOT / "runbooks" / Path(v).name) for k, v in data.get("runbooks", {}).items()}
    data.update({"warmup_s": 1.5, "cooldown_s": 0.5, **changes})  # sleeps: no assertion needs longer
    p = tmp / f"{name}.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def _run(lab, path: Path, out: Path) -> dict:
    loaded = load_drill(path)
    return run_drill(loaded, LocalTarget(loaded.environment, state_dir=lab.root), out)


def _independent_lost(lab, out: Path) -> int:
    """Acked ids (read from the ledger by this test) missing from the current primary (its own query)."""
    acked = []
    for ledger in (out / "ledger.txt",):  # the built-in writer's or the Locust profile's
        for line in ledger.read_text().splitlines():
            f = line.split()
            if f[0] == "a":
                acked.append(f[1])
            elif f[:2] == ["R", "a"]:
                acked += [f"{f[2]}-{n:0{int(f[3])}d}" for n in range(int(f[4]), int(f[4]) + int(f[5]))]
    st = lab.status()
    port = next(p["port"] for p in st["processes"] if p["kind"] == "db" and p["role"] == "primary")
    with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres") as c:
        have = {r[0] for r in c.execute("SELECT event_id FROM trips WHERE event_id = ANY(%s)", (acked,))}
    return len(set(acked) - have)




def _heartbeat_cadence(out: Path, before_s: float) -> float:
    """The widest gap between acknowledged heartbeats in the ``before_s`` seconds before the fault."""
    events = read_journal(out / "journal.jsonl")
    t0 = next(e.value["t_applied"] for e in events if e.kind == "fault.applied")
    ts = sorted(e.value["ts"] for e in events if e.kind == "heartbeat.ack" and t0 - before_s <= e.value["ts"] <= t0)
    return max((b - a for a, b in zip(ts, ts[1:], strict=False)), default=before_s)


def _without_store(tmp: Path) -> Path:
    """environments/local.yaml with the lab's own API described as a team would without a database: no store:."""
    env = yaml.safe_load((ROOT / "environments" / "local.yaml").read_text())
    env["service"] = LAB_SERVICE.model_dump(mode="json", exclude={"store"})
    (tmp / "env.yaml").write_text(yaml.safe_dump(env))
    return tmp / "env.yaml"


def test_region_failover_without_store_measures_rpo_by_the_heartbeat_and_says_events_were_not_counted(lab, tmp_path):
    path = _drill_file(tmp_path, "region-failover", conditions={"link_delay_ms": 300},
                       environment=str(_without_store(tmp_path)), load={"profile": "builtin", "rate": 100, "batch": 1})
    s = _run(lab, path, tmp_path / "out")
    assert s.get("rpo_s") is not None, s["reasons"]
    # The heartbeat bounds RPO to its cadence, never low: every 0.1 s on a quiet machine, but a heartbeat that
    # waited for the CPU (CI, 2 cores) leaves a wider gap before the fault, and the bound is that much higher.
    cadence = _heartbeat_cadence(tmp_path / "out", before_s=0.3 + 0.5)
    assert 0.3 - 0.05 <= s["rpo_s"] <= 0.3 + max(0.1, cadence) + 0.05, (s["rpo_s"], cadence)
    assert s["rpo_s"] == s["rpo_heartbeat_s"] > 0
    assert next(t for t in s["targets"] if t["name"] == "rpo")["ok"]
    assert s["events_lost"] is None and s["events_counted"] is False and s["events_acked"] > 0
    md = " ".join((tmp_path / "out" / "report.md").read_text().split())
    assert "from the heartbeat's gaps alone: lost events were not counted" in md
    assert in_shape(lab.status()), "the drill's inverse restores the lab"


@pytest.mark.parametrize("delay_ms", [1500])  # 300 ms: the drill without store: above (one lab drill less in CI)
def test_region_failover_rpo_matches_the_link_delay_and_lost_events_match_an_independent_count(lab, tmp_path, delay_ms):
    path = _drill_file(tmp_path, "region-failover", conditions={"link_delay_ms": delay_ms})
    s = _run(lab, path, tmp_path / "out")
    # Never less than the link's delay (every write crosses it) less the heartbeat interval and 50 ms; more by
    # what the replica had not replayed yet, which a starved machine lengthens (1.664 s for 1.5 s in CI): a wrong
    # method (the heartbeat interval, the time since the last write, the outage) is still far outside
    assert delay_ms / 1000 - 0.15 <= s["rpo_s"] <= delay_ms / 1000 + 0.5, (s["rpo_s"], delay_ms)
    assert s["events_lost"] == _independent_lost(lab, tmp_path / "out")
    assert s["events_lost"] > 0, "with real lag, the writes in flight on the link are lost"
    assert s["verdict"] == "pass", s["reasons"]
    step = next(e for e in read_journal(tmp_path / "out" / "journal.jsonl")
                if e.kind == "step.end" and e.value["id"] == "promote-cache")
    detail = step.value["detail"]  # the DR cache replica promoted; through the primary endpoint it takes writes
    assert step.value["ok"] and "'node': 'cache-us-west-2a'" in detail, detail
    assert "'endpoint_role': 'primary'" in detail and "'endpoint_write': True" in detail, detail
    assert in_shape(lab.status()), "the drill's inverse restores the lab (the cache group rebuilt, DR replica following)"


@pytest.mark.parametrize("name", ["az-outage", "rds-failover"])
def test_multi_az_drills_lose_nothing(lab, tmp_path, name):
    s = _run(lab, _drill_file(tmp_path, name), tmp_path / "out")
    assert s["events_lost"] == 0 == _independent_lost(lab, tmp_path / "out")
    assert s["events_acked"] > 100
    assert s["rpo_s"] == 0
    passed_but_for_the_clock(s)


def test_targets_tighter_than_the_lab_can_meet_exit_1_naming_target_and_step(lab, tmp_path, capsys):
    rb = yaml.safe_load((ROOT / "runbooks" / "region-failover.yaml").read_text())
    next(s for s in rb["steps"] if s["id"] == "scale")["budget_s"] = 3  # 0.05 s in the lab: nodes need longer
    (tmp_path / "tight-runbook.yaml").write_text(yaml.safe_dump(rb))
    path = _drill_file(tmp_path, "region-failover", runbook=str(tmp_path / "tight-runbook.yaml"),
                       targets={"rto_s": 6, "rpo_s": 300})  # RTO 0.1 s in the lab
    with pytest.raises(SystemExit) as info:
        main(["drill", "run", str(path), "--out", str(tmp_path / "out"), "--state-dir", str(lab.root)])
    assert info.value.code == 1
    text = capsys.readouterr().out.replace("\n", " ")
    assert "rto target breached" in text and "step 'scale' blew its budget" in text
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["verdict"] == "fail" and report["blown_steps"] == ["scale"]
    junit = (tmp_path / "out" / "junit.xml").read_text()
    assert 'failures="2"' in junit and "step scale" in junit
    # the report is a pure function of the journal: regenerated offline, it says the same
    again = write_reports(read_journal(tmp_path / "out" / "journal.jsonl"), tmp_path / "again")
    assert again == report


def _wait_for_fault(journal: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if journal.exists() and "fault.applied" in journal.read_text():
            return
        time.sleep(0.1)
    raise AssertionError("the fault was never applied")


def _wait_shape(lab, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if in_shape(lab.status()):
            return True
        time.sleep(0.3)
    return False


def _runner(tmp_path: Path, lab) -> subprocess.Popen:
    path = _drill_file(tmp_path, "region-failover", manual_confirm_s=30)  # long enough to be caught mid-drill
    return subprocess.Popen([sys.executable, "-m", "gameday.cli", "drill", "run", str(path), "--out",
                             str(tmp_path / "out"), "--state-dir", str(lab.root)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT)


def test_kill_9_of_the_runner_then_recover_restores_the_lab(lab, tmp_path):
    proc = _runner(tmp_path, lab)
    try:
        _wait_for_fault(tmp_path / "out" / "journal.jsonl")
        time.sleep(0.5)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert lab.status()["regions_down"] == ["us-east-1"], "the runner died with the fault applied"
        main_code = subprocess.run([sys.executable, "-m", "gameday.cli", "recover", str(tmp_path / "out" / "journal.jsonl"),
                                    "--state-dir", str(lab.root)], cwd=ROOT, capture_output=True, text=True)
        assert main_code.returncode == 0, main_code.stdout + main_code.stderr
        assert _wait_shape(lab), lab.status()
        events = read_journal(tmp_path / "out" / "journal.jsonl")
        assert [e.actor for e in events if e.kind == "fault.inverse_applied"] == ["recover"]
        # the killed run is ABORTED and incomplete in report and history alike, with what it measured
        again = subprocess.run([sys.executable, "-m", "gameday.cli", "report", str(tmp_path / "out" / "journal.jsonl")],
                               cwd=ROOT, capture_output=True, text=True)
        assert again.returncode == 4 and "ABORTED" in again.stdout and "None" not in again.stdout, again.stdout
        hist = subprocess.run([sys.executable, "-m", "gameday.cli", "history", str(tmp_path / "out"), "--json"],
                              cwd=ROOT, capture_output=True, text=True)
        runs = [r for group in json.loads(hist.stdout)["groups"] for r in group["runs"]]
        assert [(r["verdict"], r["status"]) for r in runs] == [("aborted", "incomplete")], hist.stdout[-1500:]
    finally:
        if proc.poll() is None:
            proc.kill()


def test_sigterm_mid_drill_restores_and_exits_4(lab, tmp_path):
    proc = _runner(tmp_path, lab)
    try:
        _wait_for_fault(tmp_path / "out" / "journal.jsonl")
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=60)[0].decode()
        assert proc.returncode == 4, output
        assert in_shape(lab.status())
        report = json.loads((tmp_path / "out" / "report.json").read_text())
        assert report["verdict"] == "aborted"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_failback_returns_to_the_primary_region_losing_nothing(lab, tmp_path):
    """The planned return (drills/region-failback.yaml): prepared by failing the lab over, then the failback
    runbook under load. RPO 0 and 0 lost, by the checker and by this test's own count; and the lab is left in
    its configured shape by the runbook itself: the final restore has nothing left to rebuild or start."""
    path = _drill_file(tmp_path, "region-failback", warmup_s=1.5, cooldown_s=0.5)
    s = _run(lab, path, tmp_path / "out")
    assert s["verdict"] == "pass", s["reasons"]
    assert s["rpo_s"] == 0 and s["events_lost"] == 0 and s["events_acked"] > 100
    assert _independent_lost(lab, tmp_path / "out") == 0
    kinds = [e.kind for e in read_journal(tmp_path / "out" / "journal.jsonl")]
    assert kinds.count("prepare.applied") == 5 and "fault.inverse_applied" in kinds
    events = [json.loads(line) for line in (lab.root / "events.jsonl").read_text().splitlines()]
    last_restore = [e for e in events if e["kind"] == "restore.completed"][-1]
    # the database, the nodes and the cache group (its step: return_primary_cache) are the runbook's own
    assert last_restore["rebuilt"] == [] and last_restore["nodes_started"] == [], last_restore
    assert in_shape(lab.status())


def test_scripted_answers_on_stdin_confirm_the_manual_step_and_the_journal_names_the_operator(lab, tmp_path):
    """`drill run` with its answers piped in (no terminal): the manual step waits for them, not for a timer."""
    path = _drill_file(tmp_path, "region-failover", warmup_s=1, cooldown_s=0.5, load={"profile": "builtin", "rate": 50})
    res = subprocess.run([sys.executable, "-m", "gameday.cli", "drill", "run", str(path), "--out", str(tmp_path / "out"),
                          "--state-dir", str(lab.root), "--operator", "qa-operator"],
                         input="not sure\ny\n", capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert "qa-operator, is it done? [y = confirmed / n REASON = not done]" in res.stdout
    assert "answer y (confirmed) or n REASON" in res.stdout
    ends = [e for e in read_journal(tmp_path / "out" / "journal.jsonl") if e.kind == "step.end"]
    confirm = next(e for e in ends if e.value["id"] == "confirm")
    assert confirm.value["confirmed_by"] == "qa-operator" and not confirm.value["auto_confirmed"]
    assert "(confirmed by qa-operator)" in (tmp_path / "out" / "report.md").read_text()


class _LateFault(LocalTarget):
    """The region is lost 2 s after the call returns, as a NACL that propagates slowly would."""

    def fail_region(self, region: str):
        import threading

        from gameday.targets.base import FaultResult

        t = time.time()
        threading.Timer(2.0, lambda: LocalTarget.fail_region(self, region)).start()
        return FaultResult(t_applied=t, detail={"delayed_s": 2.0})


def test_a_fault_that_shows_late_and_a_slow_answer_still_measure_one_recovery_instant(lab, tmp_path):
    """The fault's effect shows 2 s after T0 (within its window), and the on-call answers the manual step after
    three times its budget: the live wait and the report agree on the recovery instant, RTO is measured, the
    step is flagged, and nothing says 'did not recover'."""
    from gameday.drill.steps import StepOutcome

    rb = yaml.safe_load((ROOT / "runbooks" / "region-failover.yaml").read_text())
    next(s for s in rb["steps"] if s["id"] == "confirm")["budget_s"] = 60  # 1 s on the lab
    (tmp_path / "rb.yaml").write_text(yaml.safe_dump(rb))
    path = _drill_file(tmp_path, "region-failover", runbook=str(tmp_path / "rb.yaml"), warmup_s=1.5, cooldown_s=0.5,
                       fault={"action": "fail_region", "args": {"region": "{primary_region}"}, "effect_within_s": 300})

    def slow_person(step):
        time.sleep(3.2)  # three times the 1 s budget
        return StepOutcome(True, "confirmed, late", confirmed_by="slowpoke")

    loaded = load_drill(path)
    s = run_drill(loaded, _LateFault(loaded.environment, state_dir=lab.root), tmp_path / "out", manual=slow_person)
    events = read_journal(tmp_path / "out" / "journal.jsonl")
    live = next(e for e in events if e.kind == "drill.recovered").value
    assert s["t_detect_s"] >= 2.0, "nothing failed before the region was actually lost"
    assert abs((s["t0"] + s["t_recovered_s"]) - live["t_recovered"]) < 0.002, (s["t_recovered_s"], live)
    assert s["rto_s"] is not None and s["rto_s"] > s["t_detect_s"]
    confirm = next(st for st in s["steps"] if st["id"] == "confirm")
    assert confirm["over_budget"] and confirm["actual_s"] >= 3.0
    assert any("step 'confirm' blew its budget" in r for r in s["reasons"]), s["reasons"]
    assert not any("did not recover" in r or "could not be measured" in r for r in s["reasons"]), s["reasons"]
    assert s["verdict"] == "fail" and s["events_lost"] is not None
    assert _wait_shape(lab)
