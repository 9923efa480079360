"""The data-corruption drill end to end on an ``aws`` environment against a moto server: load through the test
data plane, the corruption statement on the store (a local PostgreSQL), RestoreDBInstanceToPointInTime to just
before it on moto with botocore's waiter, verify_restore against the restored endpoint (a local PostgreSQL
database standing in for it: tests/targets/restored.py), and the restored instance deleted as the run's inverse."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameday.journal import read_journal
from gameday.service.ids import ack_times
from targets.conftest import seed
from targets.dataplane import DataPlane
from targets.restored import RestoredStandIn, restored_dsn
from targets.test_aws_restore import RESTORED, env_file, instances, service
from targets.test_aws_restore_runs import write_drill


def _files(tmp_path, pg: str, url: str, seeded: dict) -> tuple[str, str]:
    store = service(pg, url=url, present_query="SELECT id FROM events WHERE id = ANY(%(ids)s)")
    env = env_file(tmp_path, seeded, pg, store=store, restored_dsn=restored_dsn(pg))
    return env, write_drill(tmp_path, env, warmup_s=1.5, recovery_timeout_s=20)


def test_the_data_corruption_drill_restores_verifies_and_deletes_on_aws(moto, pg, tmp_path):
    from gameday.api.drill import run_drill

    s = seed()
    with RestoredStandIn(pg) as standin, DataPlane(pg, s["zone_id"]) as plane:
        _, drill = _files(tmp_path, pg, plane.url, s)
        summary = run_drill(drill, out_dir=tmp_path / "out", confirm="aws-staging")
    events = read_journal(tmp_path / "out" / "journal.jsonl")
    applied = next(e.value for e in events if e.kind == "fault.applied")
    t0 = applied["t_applied"]
    assert applied["result"]["damaged"] == 10

    ends = {e.value["id"]: e.value for e in events if e.kind == "step.end"}
    assert ends["restore"]["ok"] and ends["verify"]["ok"], ends
    restored = ends["restore"]["result"]
    assert restored["instance"] == RESTORED and restored["restore_point"] == pytest.approx(t0, abs=1e-5)
    assert any("available" in w for w in restored["waited_for"])
    [(name, point, present)] = standin.history  # what the restored instance held (its database is gone now)
    assert name == RESTORED and point == pytest.approx(t0, abs=1e-3), "RDS was asked for the point just before it"

    verify = ends["verify"]["result"]
    times = ack_times(tmp_path / "out" / "ledger.txt")
    before = {i for i, t in times.items() if t <= t0}
    assert verify["missing_before"] == 0 == len(before - present) and verify["acked_before"] == len(before) > 10
    assert verify["present_after"] == len(present & (set(times) - before)), "the PITR price: acked after T0"
    assert verify["acked_after"] - verify["present_after"] > 0, "the load went on after the damage"

    assert any(e.kind == "fault.inverse_applied" and e.value["inverse"] == "discard_restore" for e in events)
    assert RESTORED not in instances() and "ingest-db" in instances()
    assert summary["verdict"] == "pass", summary.get("reasons")


def test_the_backup_validation_on_aws_passes_and_fails_when_the_restore_lacks_acknowledged_writes(moto, pg, tmp_path):
    from gameday.api.restore_test import run_restore_test

    s = seed()
    with RestoredStandIn(pg) as standin, DataPlane(pg, s["zone_id"]) as plane:
        env, _ = _files(tmp_path, pg, plane.url, s)
        good = run_restore_test(Path(env), out_dir=tmp_path / "good", confirm="aws-staging", events=40)
        standin.lose = 5  # the next restore lacks the 5 newest rows: a WAL segment lost
        broken = run_restore_test(Path(env), out_dir=tmp_path / "broken", confirm="aws-staging", events=40)
    assert good["verdict"] == "pass", good["reasons"]
    assert good["acked_before"] == good["present_before"] == 40 and good["missing_before"] == 0
    assert broken["verdict"] == "fail" and broken["missing_before"] == 5, broken["reasons"]
    assert "gameday-restore-test" not in instances(), "the throwaway instance deleted both times"
