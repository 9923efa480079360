"""``make bench-load``: requests/s and events/s per generator core against a no-op loopback target,
at batch 1 and batch 100, beside stock Locust FastHttpUser (and wrk when installed), in one run.

Per-core figures are completed requests divided by the generator's own CPU seconds (psutil), so
the target's share of the two cores does not count against the generator.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from gameday.procs import free_port, wait_port

__all__ = ["main"]

_FAST_LOCUSTFILE = '''
from locust import FastHttpUser, constant, task
BODY = '{"events":[{"event_id":"e","trip_id":"t","kind":"update","ts":1.5,"lat":1.0,"lon":2.0}]}'
class Stock(FastHttpUser):
    wait_time = constant(0)
    @task
    def post(self):
        self.client.post("/ingest", data=BODY, headers={"Content-Type": "application/json"})
'''


def _cpu_of(proc: psutil.Process) -> float:
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def _gameday(host: str, batch: int, seconds: float, out: Path) -> dict[str, float]:
    rate = 400_000 if batch == 1 else 20_000_000  # above what a core can do: measure what it completes
    cmd = [sys.executable, "-m", "locust", "-f", str(Path(__file__).parent / "_bench_profile.py"), "--headless",
           "--only-summary", "--loglevel", "ERROR", "--host", host, "--gameday-rate", str(rate),
           "--gameday-duration", str(seconds), "--gameday-batch", str(batch), "--gameday-max-connections", "32",
           "--gameday-out", str(out)]
    proc = psutil.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)  # import time is not load time
    c0, t0 = _cpu_of(proc), time.monotonic()
    part = out / "part-0.json"
    while not part.exists() and proc.poll() is None:
        time.sleep(0.05)
    cpu, wall = _cpu_of(proc) - c0, time.monotonic() - t0
    proc.terminate()
    proc.wait(15)
    counts = json.loads(part.read_text())["counts"]
    done = counts["sent"] - counts["errors"] - counts["indeterminate"]
    return {"requests_per_s": done / seconds, "requests_per_core_s": done / seconds / max(cpu / wall, 1e-9),
            "events_per_core_s": done * batch / seconds / max(cpu / wall, 1e-9), "cpu_cores": cpu / wall}


def _stock(host: str, seconds: float, work: Path) -> dict[str, float]:
    lf = work / "stock_fasthttp.py"
    lf.write_text(_FAST_LOCUSTFILE)
    cmd = [sys.executable, "-m", "locust", "-f", str(lf), "--headless", "--only-summary", "--loglevel", "ERROR",
           "--host", host, "-u", "32", "-r", "32", "-t", f"{int(seconds)}s", "--json-file", str(work / "stock")]
    proc = psutil.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t_start = time.monotonic()
    cpu = 0.0
    while proc.poll() is None:  # sample until it exits: a finished process has no CPU times to read
        cpu = _cpu_of(proc)
        time.sleep(0.1)
    wall = time.monotonic() - t_start
    stats = json.loads((work / "stock.json").read_text())
    n = sum(s["num_requests"] - s["num_failures"] for s in stats)
    # its whole CPU (start-up included) over its whole life: a slight underestimate of its per-core rate
    return {"requests_per_s": n / seconds, "requests_per_core_s": n / seconds / max(cpu / wall, 1e-9)}


def _wrk(host: str, seconds: float) -> float | None:
    if not shutil.which("wrk"):
        return None
    res = subprocess.run(["wrk", "-t1", "-c32", f"-d{int(seconds)}s", host + "/ingest"], capture_output=True, text=True)
    for line in res.stdout.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    return None


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="bench-load", description=__doc__)
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--out", type=Path, default=Path("out/bench-load"))
    a = p.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    target = subprocess.Popen([sys.executable, "-m", "gameday.load.noop_target", "--port", str(port),
                               "--seconds", str(a.seconds * 6 + 60)])
    try:
        assert wait_port(port, 10), "the no-op target did not start"
        host = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryDirectory() as tmp:
            results = {}
            for batch in (1, 100):
                d = Path(tmp) / f"b{batch}"
                d.mkdir()
                results[batch] = _gameday(host, batch, a.seconds, d)
            stock = _stock(host, a.seconds, Path(tmp))
        wrk = _wrk(host, a.seconds)
    finally:
        target.terminate()
        target.wait(10)
    print(f"no-op loopback target, {a.seconds:g} s per measurement, per-core = completed / generator CPU seconds")
    for batch, r in results.items():
        print(f"gameday engine  batch {batch:>3}: {r['requests_per_core_s']:>9,.0f} requests/s per core  "
              f"{r['events_per_core_s']:>11,.0f} events/s per core  ({r['requests_per_s']:,.0f} requests/s "
              f"on {r['cpu_cores']:.2f} cores)")
    print(f"stock FastHttpUser batch   1: {stock['requests_per_core_s']:>9,.0f} requests/s per core  "
          f"({stock['requests_per_s']:,.0f} requests/s)")
    ratio = results[1]["requests_per_core_s"] / max(stock["requests_per_core_s"], 1e-9)
    print(f"ratio gameday / FastHttpUser at batch 1 (same run): {ratio:.2f}x")
    print(f"wrk (1 thread, 32 connections): {wrk:,.0f} requests/s" if wrk else "wrk: not installed")
    calibration = {"per_core_requests_per_s": {str(b): round(r["requests_per_core_s"]) for b, r in results.items()},
                   "stock_fasthttpuser_per_core": round(stock["requests_per_core_s"]), "wrk_requests_per_s": wrk,
                   "machine": {"cores": psutil.cpu_count(), "when": time.strftime("%Y-%m-%d %H:%M")}}
    (a.out / "calibration.json").write_text(json.dumps(calibration, indent=2))
    print(f"calibration written to {a.out / 'calibration.json'} (used by: gameday load plan --rate R)")


if __name__ == "__main__":
    main()
