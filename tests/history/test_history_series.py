"""History compares like with like: a series per drill, environment, fault drawn and time scale; a run found
under two folders listed once; a plain `chaos run`'s load journal recognised; a count named as a count."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from fakekit import _drill, _run
from gameday.api.history import build_history
from gameday.targets.fake import FakeTarget


def _one_run(tmp_path: Path) -> Path:
    d = tmp_path / "src"
    d.mkdir()
    drill = _drill(d)
    drill.write_text(drill.read_text().replace("targets: {rto_s: 1800, rpo_s: 300}",
                                               "targets: {rto_s: 1800, rpo_s: 300, lost_events_max: 100000}"))
    _run(d, FakeTarget(lag_s=0.1), drill=drill)
    return d / "out"


def _copy_as(run: Path, dest: Path, *, run_id: str, fault: str) -> None:
    """The run again under another id with another fault drawn (as a rehearsal journals it)."""
    shutil.copytree(run, dest)
    lines = (dest / "journal.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first["value"].update(run_id=run_id, fault={"action": fault, "hidden": True})
    (dest / "journal.jsonl").write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")


def test_rehearsals_drawing_different_faults_are_separate_series(tmp_path):
    run = _one_run(tmp_path)
    runs = tmp_path / "runs"
    for i, fault in enumerate(["fail_region", "fail_zone", "fail_region", "fail_over_db"]):
        _copy_as(run, runs / f"r{i}", run_id=f"id{i}", fault=fault)
    h = build_history([runs])
    series = {g.fault: len(g.runs) for g in h.groups}
    assert series == {"fail_region": 2, "fail_zone": 1, "fail_over_db": 1}
    assert all(g.regressions == [] for g in h.groups)


def test_a_run_found_under_two_folders_is_listed_once_and_counts_are_named_as_counts(tmp_path):
    run = _one_run(tmp_path)
    shutil.copytree(run, tmp_path / "s3-cache" / "run")  # the same run, downloaded next to the local copy
    h = build_history([tmp_path / "src", tmp_path / "s3-cache"], out_dir=tmp_path / "h")
    assert len(h.runs) == 1
    data = json.loads((tmp_path / "h" / "history.json").read_text())
    [target_keys] = [set(r["targets"]) for g in data["groups"] for r in g["runs"]]
    assert target_keys == {"rto_s", "rpo_s", "lost_events_max"}
    assert "lost_events_s" not in (tmp_path / "h" / "history.json").read_text()


def test_a_plain_chaos_runs_load_journal_is_a_load_not_malformed(tmp_path):
    load = tmp_path / "chaos" / "load-1"
    load.mkdir(parents=True)
    ticks = [{"seq": i + 1, "t_mono_ns": i, "t_wall": 1000.0 + i, "kind": "load.tick", "actor": "load",
              "value": {"sent": 10, "acked_events": 10, "errors": 0, "p95_ms": 3.0}, "error": None} for i in range(3)]
    (load / "journal.jsonl").write_text("".join(json.dumps(t) + "\n" for t in ticks))
    (load / "summary.json").write_text(json.dumps({"verdict": "PASS", "profile": "loadprofiles/ingest_steady.py",
                                                   "run_id": "l1", "p95_ms": 3.0, "achieved_rate": 10.0}))
    (tmp_path / "chaos" / "load-2").mkdir()
    (tmp_path / "chaos" / "load-2" / "journal.jsonl").write_text((load / "journal.jsonl").read_text())  # cut off
    h = build_history([tmp_path / "chaos"])
    assert sorted((r.kind, r.verdict, r.status) for r in h.runs) == [("load", "aborted", "incomplete"),
                                                                    ("load", "pass", "complete")]


def test_the_history_table_in_an_80_column_log_cuts_no_word_in_two(tmp_path):
    run = _one_run(tmp_path)
    for i in range(2):
        _copy_as(run, tmp_path / "runs" / f"r{i}", run_id=f"id{i}", fault="fail_region")
    res = subprocess.run([sys.executable, "-m", "gameday.cli", "history", str(tmp_path / "runs"), "--out",
                          str(tmp_path / "h")], capture_output=True, text=True, env={**os.environ, "COLUMNS": "80"},
                         timeout=60)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), res.stdout
    words = {w for line in lines for w in line.split()}
    assert {"date", "verdict", "RTO", "RPO", "lost/", "acked"} <= words, res.stdout
    rows = [line for line in lines if line.lstrip().startswith("20")]
    assert len(rows) == 2 and all(r.split()[2] in ("pass", "fail", "inconclusive") for r in rows), res.stdout
