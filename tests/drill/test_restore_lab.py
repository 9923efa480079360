"""Restore drills on the real lab (issue 24): the data-corruption drill end to end, checked with this test's own
SQL on the restored data; the backup validation passes, and fails once a WAL segment is removed from the archive."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import yaml

from gameday.api.restore_test import run_restore_test
from gameday.drill.models import load_drill
from gameday.drill.runner import run_drill
from gameday.journal import read_journal
from gameday.lab.backups import SEGMENT
from gameday.targets.local import LocalTarget
from labkit import in_shape

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[2]
LOCAL_ENV = ROOT / "environments" / "local.yaml"


def _drill_file(tmp: Path, name: str) -> Path:
    data = yaml.safe_load((ROOT / "drills" / f"{name}.yaml").read_text())
    data.update({"environment": str(LOCAL_ENV), "runbook": str(ROOT / "runbooks" / Path(data["runbook"]).name),
                 "warmup_s": 2})
    p = tmp / f"{name}.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def _acked_with_times(ledger: Path) -> dict[str, float]:
    """Acknowledged ids and when, read from the ledger by this test (``R a prefix width first count t``)."""
    out: dict[str, float] = {}
    for line in ledger.read_text().splitlines():
        f = line.split()
        if f[:2] == ["R", "a"]:
            for n in range(int(f[4]), int(f[4]) + int(f[5])):
                out[f"{f[2]}-{n:0{int(f[3])}d}"] = float(f[6])
    return out


def test_data_corruption_drill_restores_to_before_t0_and_the_report_counts_what_sql_counts(restored_lab, tmp_path):
    path = _drill_file(tmp_path, "data-corruption")
    loaded = load_drill(path)
    s = run_drill(loaded, LocalTarget(loaded.environment, state_dir=restored_lab.root), tmp_path / "out")
    assert s["verdict"] == "pass", s["reasons"]
    r = s["restore"]
    assert r["kind"] == "pitr" and r["restore_s"] > 0 and -0.01 <= r["restore_point_s"] <= 0  # just before T0
    assert s["rto_s"] > 0  # the damaged records read back wrong until the swap
    m = r["missing"]
    assert m["before_restore_point"]["events"] == 0 and m["after_swap"]["events"] == 0
    assert m["pitr_price"]["events"] > 0  # the load went on during the restore: the price of PITR
    # this test's own count, on the data the restored instance held (handed back to the primary afterwards)
    acked = _acked_with_times(tmp_path / "out" / "ledger.txt")
    st = restored_lab.status()
    assert in_shape(st) and st["backups"]["restored_instances"] == []  # no extra instance left
    port = next(p["port"] for p in st["processes"] if p["kind"] == "db" and p["role"] == "primary")
    with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres") as c:
        present = {row[0] for row in c.execute(
            "SELECT event_id FROM trips WHERE event_id = ANY(%s) AND kind IS NOT NULL", (list(acked),))}
    missing = set(acked) - present
    point = r["restore_point"]
    assert len(present) == s["events_acked"] - s["events_lost"] and len(missing) == s["events_lost"]
    assert sum(1 for i in missing if acked[i] <= point) == m["before_restore_point"]["events"] == 0
    assert sum(1 for i in missing if acked[i] > point) == m["pitr_price"]["events"]


def test_backup_validation_passes_and_fails_once_a_wal_segment_is_missing(restored_lab, tmp_path):
    ok = run_restore_test(LOCAL_ENV, out_dir=tmp_path / "ok", state_dir=restored_lab.root, events=100)
    assert ok["verdict"] == "pass", ok["reasons"]
    assert ok["missing_before"] == 0 and ok["present_before"] == 100 and ok["restore_s"] > 0
    archive = Path(restored_lab.status()["backups"]["archive"])
    newest_snapshot = max(s["t_taken"] for s in restored_lab.status()["backups"]["snapshots"])
    after = sorted((f for f in archive.iterdir() if SEGMENT.match(f.name) and f.stat().st_mtime > newest_snapshot),
                   key=lambda f: f.name)
    assert after, "no WAL segment archived after the newest snapshot"
    kept = tmp_path / after[0].name
    shutil.move(after[0], kept)  # the broken chain: the first segment a restore replays after the snapshot
    try:
        broken = run_restore_test(LOCAL_ENV, out_dir=tmp_path / "broken", state_dir=restored_lab.root, events=100)
    finally:
        shutil.move(kept, archive / kept.name)
    assert broken["verdict"] == "fail", broken
    assert restored_lab.status()["backups"]["restored_instances"] == []  # the throwaway instance was deleted


def test_kill_9_of_the_runner_mid_restore_then_recover_leaves_the_lab_in_shape_and_no_restored_instance(
        restored_lab, tmp_path):
    """The restore's deletion is journaled before the restore starts: `gameday recover` on the killed run's
    journal deletes the half-made instance and undoes the data fault (the lab back in its configured shape)."""
    path, journal = _drill_file(tmp_path, "data-corruption"), tmp_path / "out" / "journal.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "gameday.cli", "drill", "run", str(path), "--out",
                             str(tmp_path / "out"), "--state-dir", str(restored_lab.root), "--auto-confirm", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, cwd=ROOT)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and '"discard_restore"' not in (journal.read_text() if journal.exists() else ""):
            time.sleep(0.05)  # the restore's inverse is journaled the moment before the restore starts
        assert time.monotonic() < deadline, "the run never reached its restore"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        done = subprocess.run([sys.executable, "-m", "gameday.cli", "recover", str(journal), "--state-dir",
                               str(restored_lab.root)], cwd=ROOT, capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stdout + done.stderr
        undone = [e.value["inverse"] for e in read_journal(journal) if e.kind == "fault.inverse_applied"]
        assert "discard_restore" in undone and "restore" in undone, undone
        st = restored_lab.status()
        assert in_shape(st) and st["backups"]["restored_instances"] == [], st["backups"]
    finally:
        if proc.poll() is None:
            proc.kill()
