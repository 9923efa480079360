"""``make bench-soak-lab``: a real soak against the lab; the runner's CPU per minute stays flat.

Starts the lab (or uses the one running under ``--state-dir``), runs ``gameday load gate`` as its own process
(the runner: it supervises the Locust generator processes, tails ``progress.jsonl``, folds the windowed SLO's
windows, journals every tick) with a soak profile at a moderate rate, and samples that process's own CPU
(user + system, psutil; not the generator's processes, not this one) once a minute from the load's first
progress line. Prints a table of CPU per minute and the last minute / first minute ratio:

- exit 0: the runner's CPU in the last minute is within ``--tolerance`` (20 %) of the first;
- exit 1: it grew more than that (the runner's cost grows with the run's age);
- exit 3: not measured (the runner ended before the last minute, or used no CPU in the first one), or the
  soak itself did not hold (the gate was not PASS): no figure of a soak to stand behind.

Minutes of lab time: a bench, not a test (``make bench-soak-lab`` takes the shared lab lock).

    python -m gameday.api.soak_lab_bench [--minutes 10] [--rate 500] [--batch 10] [--workers 4]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from gameday.api.lab import lab_session
from gameday.procs import die_with_parent

__all__ = ["Minute", "judge", "table", "sample_runner", "main"]

OUT = Path("out/bench-soak-lab")
TOLERANCE = 0.20


@dataclass(frozen=True)
class Minute:
    """One minute of the runner's life, from the load's first progress line."""

    index: int  # 1 = the first minute
    wall_s: float  # the minute's measured length
    cpu_s: float  # the runner's own CPU seconds (user + system) in it
    progress_bytes: int  # progress.jsonl's size at the minute's end (the run's age, as the runner sees it)

    @property
    def core_percent(self) -> float:
        return 100.0 * self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0


def judge(minutes: list[Minute], wanted: int, tolerance: float = TOLERANCE) -> tuple[str, str]:
    """(verdict, why): pass when the last of ``wanted`` minutes cost at most (1 + tolerance) x the first
    (per second of wall time); fail when more; inconclusive when it cannot have been measured."""
    if len(minutes) < wanted:
        return "inconclusive", f"measured {len(minutes)} of {wanted} minutes: the runner ended first"
    first, last = minutes[0], minutes[wanted - 1]
    if first.cpu_s <= 0 or first.wall_s <= 0 or last.wall_s <= 0:
        return "inconclusive", "the runner used no measurable CPU in the first minute: no ratio to judge"
    ratio = last.core_percent / first.core_percent
    limit = 1.0 + tolerance
    if ratio > limit:
        return "fail", f"runner CPU grew {ratio:.2f}x from the first minute to the last (limit {limit:.2f}x)"
    return "pass", f"runner CPU last/first minute {ratio:.2f}x (limit {limit:.2f}x)"


def table(minutes: list[Minute]) -> str:
    head = "| minute | progress.jsonl | runner CPU | of one core |\n|---|---|---|---|"
    rows = [f"| {m.index} | {m.progress_bytes / 1e6:.2f} MB | {m.cpu_s:.2f} s | {m.core_percent:.2f} % |"
            for m in minutes]
    return "\n".join([head, *rows])


def _cpu(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system)  # its own: children (the generator) are not in user/system


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _wait_until(deadline: float, proc: subprocess.Popen[bytes]) -> bool:
    """Sleep to ``deadline`` (monotonic) in short steps; False if the runner ended first."""
    while (left := deadline - time.monotonic()) > 0:
        if proc.poll() is not None:
            return False
        time.sleep(min(0.5, left))
    return proc.poll() is None


def sample_runner(proc: subprocess.Popen[bytes], progress: Path, minutes: int, minute_s: float = 60.0,
                  start_timeout_s: float = 120.0) -> list[Minute]:
    """The runner's CPU per minute from the first progress line (its start-up and imports are not a soak's cost)."""
    ps = psutil.Process(proc.pid)
    give_up = time.monotonic() + start_timeout_s
    while b"\n" not in (progress.read_bytes()[:65536] if progress.exists() else b""):
        if proc.poll() is not None or time.monotonic() > give_up:
            return []
        time.sleep(0.2)
    start = t0 = time.monotonic()
    c0 = _cpu(ps)
    out: list[Minute] = []
    for k in range(1, minutes + 1):
        if not _wait_until(start + k * minute_s, proc):  # minute k ends k minutes after the start
            break
        try:
            t1, c1 = time.monotonic(), _cpu(ps)
        except psutil.NoSuchProcess:
            break
        out.append(Minute(k, t1 - t0, c1 - c0, _size(progress)))
        t0, c0 = t1, c1
    return out


def _runner_argv(a: argparse.Namespace, state: Path, out: Path, duration: float) -> list[str]:
    return [sys.executable, "-m", "gameday.cli", "load", "gate", str(a.profile), "--env", str(a.env),
            "--state-dir", str(state), "--out", str(out), "--rate", str(a.rate), "--batch", str(a.batch),
            "--workers", str(a.workers), "--duration", str(duration), "--slo", "p99<1s over 1m", "--quiet"]


def _soak(a: argparse.Namespace) -> tuple[list[Minute], dict[str, Any] | None, int]:
    """Run the gate as its own process and sample it; (minutes, its summary, its exit code)."""
    out = a.out / "gate"
    out.mkdir(parents=True, exist_ok=True)
    for old in ("progress.jsonl", "summary.json"):  # nothing of an earlier run is read as this one's
        (out / old).unlink(missing_ok=True)
    duration = a.minutes * a.minute_s + 20  # every sampled minute inside the load, the reports after it
    parent = os.getpid()
    with open(a.out / "gate.log", "wb") as log:
        proc = subprocess.Popen(_runner_argv(a, a.out / "lab", out, duration), stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT, preexec_fn=lambda: die_with_parent(parent))
        try:
            minutes = sample_runner(proc, out / "progress.jsonl", a.minutes, a.minute_s)
            rc = proc.wait(timeout=a.minute_s * 2 + 120)
        finally:
            if proc.poll() is None:
                proc.kill()  # our own child; its generator dies with it (die_with_parent)
                proc.wait(10)
    summary_file = out / "summary.json"
    summary = json.loads(summary_file.read_text()) if summary_file.exists() else None
    return minutes, summary, rc


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--minutes", type=int, default=10)
    p.add_argument("--minute-s", type=float, default=60.0, help=argparse.SUPPRESS)  # shorter minutes: a dry run
    p.add_argument("--rate", type=float, default=500.0)
    p.add_argument("--batch", type=int, default=10)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--tolerance", type=float, default=TOLERANCE)
    p.add_argument("--profile", type=Path, default=Path("loadprofiles/ingest_soak.py"))
    p.add_argument("--env", type=Path, default=Path("environments/local.yaml"))
    p.add_argument("--out", type=Path, default=OUT)
    a = p.parse_args(argv)
    if a.minutes < 2 or a.minute_s <= 0 or not 0 <= a.tolerance < 10:
        p.error("--minutes must be >= 2, --tolerance in [0, 10)")
    if not a.profile.is_file():
        p.error(f"{a.profile}: load profile not found (--profile)")
    return a


def main(argv: list[str] | None = None) -> int:
    a = _args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    print(f"soak: {a.profile} at {a.rate:g} events/s (batch {a.batch}, {a.workers} workers) for {a.minutes} minutes "
          "against the lab; the runner's own CPU sampled every minute", flush=True)
    with lab_session(a.env, a.out / "lab", restore=False, on_progress=print):
        minutes, summary, rc = _soak(a)
    verdict, why = judge(minutes, a.minutes, a.tolerance)
    gate = (summary or {}).get("verdict", "none")
    print(table(minutes))
    print(f"the gate: {gate.upper()} (exit {rc}); " + "; ".join((summary or {}).get("reasons", [])))
    if verdict != "fail" and gate != "pass":
        verdict, why = "inconclusive", f"the soak itself did not hold (gate {gate}): {why}"
    print(f"{verdict.upper()}: {why}")
    (a.out / "minutes.json").write_text(json.dumps({"verdict": verdict, "why": why, "gate": gate, "minutes": [
        {"minute": m.index, "wall_s": round(m.wall_s, 2), "cpu_s": round(m.cpu_s, 3),
         "progress_bytes": m.progress_bytes} for m in minutes]}, indent=2))
    return {"pass": 0, "fail": 1}.get(verdict, 3)


if __name__ == "__main__":
    sys.exit(main())
