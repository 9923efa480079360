"""History keeps capacity runs as a series of knees (judged again from each journal), and flags a release whose
knee dropped; a capacity run cut off is listed as aborted, never as a knee."""

from __future__ import annotations

from pathlib import Path

from gameday.api.history import build_history
from gameday.journal import Journal
from gameday.load.window import new_histogram


def _part(p95_ms: float, n: int = 200) -> dict:
    h = new_histogram()
    for _ in range(n):
        h.record_value(int(p95_ms * 1000))
    return {"worker": 0, "counts": {"sent": n, "acked_events": n, "steady_acked_events": n, "late": 0, "errors": 0,
                                    "indeterminate": 0, "dropped": 0}, "steady_hist": h.encode().decode(),
            "steady_window_s": [0.0, 2.0], "cpu_percent": [20.0], "max_schedule_lag_s": 0.0,
            "max_connections": 500, "peak_connections": 5}


def _capacity_run(folder: Path, knee: float, *, ended: bool = True) -> None:
    """A capacity journal whose service holds p95<300ms up to ``knee`` and not beyond."""
    folder.mkdir(parents=True)
    j = Journal(folder / "journal.jsonl", fsync=False)
    j.record("capacity.start", "runner", {"profile": "loadprofiles/ingest_steady.py", "host": "http://127.0.0.1:1",
                                          "run_id": folder.name, "slos": [{"expr": "p95<300ms", "default": False}],
                                          "start_rate": knee / 2, "max_rate": knee * 4, "stair_s": 2.0,
                                          "environment_file": "environments/local.yaml"})
    for rate in (knee / 2, knee, knee * 1.05):
        j.record("gate.start", "runner", {"profile": "p", "rate": rate, "duration": 2.0, "batch": 1, "workers": 1,
                                          "slos": [{"expr": "p95<300ms", "default": False}], "gate": True})
        j.record("load.result", "load", {"kind": "engine", "aborted": None, "locust_said": [],
                                         "parts": [_part(50.0 if rate <= knee else 900.0, n=int(rate * 2))]})
    if ended:
        j.record("capacity.end", "runner", {})
    j.close()


def test_a_release_that_lowers_the_knee_is_flagged(tmp_path):
    for k, knee in enumerate([200.0, 210.0, 205.0, 140.0]):
        _capacity_run(tmp_path / "runs" / f"r{k}", knee)
    h = build_history([tmp_path / "runs"], out_dir=tmp_path / "h")
    group = next(g for g in h.groups if g.kind == "capacity")
    assert [r.figures["capacity_rate"] for r in group.runs] == [200.0, 210.0, 205.0, 140.0]
    assert len(group.regressions) == 1
    text = group.regressions[0].describe()
    assert text.startswith("knee 140 events/s vs median 205 events/s") and "-32%" in text, text
    html = (tmp_path / "h" / "history.html").read_text()
    assert "Knee over time" in html and "140/s" in html


def test_a_higher_knee_is_no_regression_and_a_cut_off_run_is_aborted(tmp_path):
    for k, knee in enumerate([200.0, 300.0]):
        _capacity_run(tmp_path / "runs" / f"r{k}", knee)
    _capacity_run(tmp_path / "runs" / "r9", 100.0, ended=False)
    h = build_history([tmp_path / "runs"])
    group = next(g for g in h.groups if g.kind == "capacity")
    assert group.regressions == [], "a knee going up, and a cut-off run's knee, are not regressions"
    cut = next(r for r in group.runs if r.run_id == "r9")
    assert cut.verdict == "aborted" and cut.status == "incomplete"
