"""``make bench-soak``: the runner's cost over a soak of 1 h, 10 h and 24 h of 8 workers, in seconds.

Each scenario runs in its own process (its peak memory is its own) over synthetic files of the real line formats:
a ``progress.jsonl`` of one line per worker per second (with the per-second histogram the windowed SLOs use) and
a gate journal of the same ticks. It measures:

- supervision: the runner's own pass (``LoadRun.supervise_once``: the progress tail, hard limits, 5-minute
  windows, failure tallies, each tick journaled) four times per simulated second, while 8 lines a second are
  appended, over the first simulated minute and over the last one (the file then holds the whole run before it):
  runner CPU in milliseconds per simulated second;
- ``gameday report`` on the run's gate journal (summary, junit, report.html with its downsampled timeline),
  the journal streamed;
- history over a folder holding the run's journal and summary;
- the process's peak resident memory.

    python -m gameday.soak_bench [--hours 1 10 24] [--workers 8] [--dir /tmp/gameday-bench-soak]
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from gameday.journal import Journal
from gameday.load.limits import HardLimits
from gameday.load.run import LoadRun
from gameday.load.slo import parse_slo
from gameday.load.tail import ProgressTail
from gameday.load.window import new_histogram
from gameday.load.windows import WindowTally

__all__ = ["scenario", "main"]

RATE = 100.0  # events per second per worker
PASSES_PER_S = 4  # the runner's loop wakes every 0.25 s


@functools.lru_cache(maxsize=1)
def _hist() -> str:
    h = new_histogram()
    for i in range(100):
        h.record_value(2000 + 37 * i)
    return h.encode().decode()


def _template(workers: int, *, hist: bool = True) -> str:
    """A progress line of the engine's format, with {w} and {t} to fill (a journal's tick: without the
    histogram, which the runner takes off for the windows)."""
    rec: dict[str, Any] = {
        "worker": 0, "t": 0.0, "target_rate": RATE, "sent": 100, "acked_events": 100, "errors": 0,
        "indeterminate": 0, "dropped": 0, "late": 0, "acked_requests": 100, "p50_ms": 3.8, "p95_ms": 5.5,
        "p99_ms": 5.6, "max_ms": 5.7, "mean_ms": 3.9, "latency_buckets": [0, 0, 40, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        "cpu_percent": 21.5, "failures": {}, "evidence": [[1.7e9 + k / 10, 10, 0, 0] for k in range(10)],
        **({"hist": _hist()} if hist else {})}
    line = json.dumps(rec).replace('"worker": 0', '"worker": {w}').replace('"t": 0.0', '"t": {t}.0')
    return line.replace("{", "{{").replace("}", "}}").replace("{{w}}", "{w}").replace("{{t}}", "{t}") + "\n"


def _write_progress(path: Path, seconds: int, workers: int, start: int = 0) -> None:
    tpl = _template(workers)
    with open(path, "a") as f:
        for t in range(start + 1, start + seconds + 1):
            f.write("".join(tpl.format(w=w, t=t) for w in range(workers)))


def _supervise(out: Path, before_s: int, workers: int, seconds: int = 60) -> float:
    """Runner CPU (ms per simulated second) over ``seconds`` appended after ``before_s`` already in the file."""
    progress = out / "progress.jsonl"
    progress.unlink(missing_ok=True)
    _write_progress(progress, before_s, workers)
    journal = Journal(out / "supervise.jsonl", fsync=False)

    def tick(rec: dict[str, Any]) -> None:  # as ``gameday load gate`` does
        journal.record("load.tick", "load", rec)

    run = LoadRun(profile=out / "profile.py", host="http://127.0.0.1:1", out_dir=out, workers=workers,
                  slos=[parse_slo("p99<500ms over 5m")], hard_limits=[parse_slo("p99<2s")], journal=journal,
                  on_progress=tick)
    run.start_windows()
    run._tail = ProgressTail(progress)  # where the runner is after reading the run so far
    run._tail.offset = progress.stat().st_size
    limits, aborted, cpu = HardLimits(run.hard_limits, run.grace_s), None, 0.0
    for i in range(seconds):
        _write_progress(progress, 1, workers, start=before_s + i)  # the generator's second (not the runner's cost)
        t0 = time.process_time()
        for _ in range(PASSES_PER_S):
            aborted = run.supervise_once(limits, aborted)
        if i % 5 == 4:
            run._flush_failures()
        cpu += time.process_time() - t0
    journal.close()
    assert run._tail.records == seconds * workers and aborted is None, "every new line read once, no abort"
    return round(cpu / seconds * 1000, 3)


def _journal(path: Path, seconds: int, workers: int, run_id: str) -> None:
    """The run's gate journal as ``gameday load gate`` writes it: gate.start, every tick, the 5-minute windows,
    load.result, gate.end (``gameday report`` and history read it)."""
    tpl = _template(workers, hist=False).rstrip("\n")
    start = {"profile": "loadprofiles/ingest_soak.py", "run_id": run_id, "rate": RATE * workers, "duration": seconds,
             "workers": workers, "slos": ["p99<500ms over 5m"], "gate": True,
             "environment_file": "environments/local.yaml"}
    windows = iter(_windows(seconds, workers))
    with open(path, "w") as f:
        f.write(json.dumps({"seq": 1, "t_mono_ns": 0, "t_wall": 1.7e9, "kind": "gate.start", "actor": "runner",
                            "value": start, "error": None}) + "\n")
        seq = 1
        for t in range(1, seconds + 1):
            for w in range(workers):
                seq += 1
                f.write(f'{{"seq":{seq},"t_mono_ns":0,"t_wall":{1.7e9 + t},"kind":"load.tick","actor":"load",'
                        f'"value":{tpl.format(w=w, t=t)},"error":null}}\n')
            if t % 300 == 0 or t == seconds:
                seq += 1
                f.write(json.dumps({"seq": seq, "t_mono_ns": 0, "t_wall": 1.7e9 + t, "kind": "load.window",
                                    "actor": "runner", "value": next(windows), "error": None}) + "\n")
        result = {"kind": "engine", "aborted": None, "locust_said": [], "parts": _parts(seconds, workers)}
        for kind, value in (("load.result", result), ("gate.end", {"verdict": "pass"})):
            seq += 1
            f.write(json.dumps({"seq": seq, "t_mono_ns": 0, "t_wall": 1.7e9 + seconds, "kind": kind,
                                "actor": "runner", "value": value, "error": None}) + "\n")


def _parts(seconds: int, workers: int) -> list[dict[str, Any]]:
    h = _hist()
    return [{"worker": w, "share": 1 / workers, "batch": 1, "hist": h, "steady_hist": h,
             "counts": {"sent": 100 * seconds, "acked_events": 100 * seconds, "steady_acked_events": 100 * seconds},
             "steady_window_s": [0, seconds], "max_schedule_lag_s": 0.01, "max_connections": 500,
             "peak_connections": 4, "cpu_percent": [21.5], "cpu_samples": seconds} for w in range(workers)]


def _windows(seconds: int, workers: int) -> list[dict[str, Any]]:
    """The 5-minute windows the runner journals over the run (every second alike here)."""
    one = WindowTally({300})
    for t in range(300):
        for _ in range(workers):
            one.feed({"t": t + 1.0, "sent": 100, "errors": 0, "indeterminate": 0, "hist": _hist()})
    w0 = one.close_all()[0]
    return [{**w0, "from_s": k, "to_s": min(k + 300, seconds)} for k in range(0, seconds, 300)]


def _reports(journal: Path, out: Path) -> tuple[float, float]:
    """CPU and wall seconds of ``gameday report`` on the gate's journal: the verdict and summary.json, junit.xml
    and report.html (its timeline downsampled), the journal streamed (CPU is the work; wall also shows what
    the machine's other work took from it)."""
    from gameday.api.load import regenerate_gate_reports

    t0, c0 = time.perf_counter(), time.process_time()
    summary = regenerate_gate_reports(journal, out)
    assert summary["verdict"] == "pass", summary["reasons"]
    return round(time.process_time() - c0, 2), round(time.perf_counter() - t0, 2)


def scenario(hours: float, workers: int, folder: Path) -> dict[str, Any]:
    out = folder / f"{hours:g}h"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    seconds = int(hours * 3600)
    first = _supervise(out, 0, workers)
    last = _supervise(out, seconds - 60, workers)  # the file now holds the whole run
    runs = out / "runs" / "soak"
    runs.mkdir(parents=True)
    _journal(runs / "journal.jsonl", seconds, workers, f"soak{hours:g}")
    report_cpu_s, report_s = _reports(runs / "journal.jsonl", runs)
    from gameday.history.collect import collect

    t0 = time.perf_counter()
    found = collect([out / "runs"])
    history_s = round(time.perf_counter() - t0, 3)
    assert [r.verdict for r in found] == ["pass"], found
    return {"hours": hours, "workers": workers, "progress_mb": round((out / "progress.jsonl").stat().st_size / 1e6, 1),
            "journal_mb": round((runs / "journal.jsonl").stat().st_size / 1e6, 1),
            "cpu_ms_per_s_first_min": first, "cpu_ms_per_s_last_min": last, "report_cpu_s": report_cpu_s,
            "report_s": report_s,
            "report_html_kb": round((runs / "report.html").stat().st_size / 1e3, 1), "history_s": history_s,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def _table(rows: list[dict[str, Any]]) -> str:
    head = ("| run, 8 workers | progress.jsonl | journal | runner CPU, first minute | runner CPU, last minute | "
            "gameday report: CPU, wall (report.html) | history | peak memory |\n|---|---|---|---|---|---|---|---|")
    lines = [f"| {r['hours']:g} h | {r['progress_mb']} MB | {r['journal_mb']} MB | {r['cpu_ms_per_s_first_min']} ms/s | "
             f"{r['cpu_ms_per_s_last_min']} ms/s | {r['report_cpu_s']} s, {r['report_s']} s ({r['report_html_kb']} kB) | "
             f"{r['history_s']} s | {r['peak_rss_mb']} MB |" for r in rows]
    return "\n".join([head, *lines])


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--hours", type=float, nargs="+", default=[1, 10, 24])
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--dir", type=Path, default=Path("/tmp/gameday-bench-soak"))
    p.add_argument("--one", action="store_true", help="run one scenario here and print its JSON")
    a = p.parse_args(argv)
    if a.one:
        print(json.dumps(scenario(a.hours[0], a.workers, a.dir)))
        return
    rows = []
    for h in a.hours:
        done = subprocess.run([sys.executable, "-m", "gameday.soak_bench", "--one", "--hours", f"{h:g}",
                               "--workers", str(a.workers), "--dir", str(a.dir)], check=True, capture_output=True,
                              text=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    shutil.rmtree(a.dir, ignore_errors=True)
    print(_table(rows))


if __name__ == "__main__":
    main()
