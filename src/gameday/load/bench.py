"""``make bench-load``: requests/s and events/s per generator core against a no-op loopback target,
plain HTTP and TLS, at batch 1 and batch 100, beside stock Locust FastHttpUser in the same run (and wrk
when installed), plus what feeding Locust's own statistics costs the engine. Every ratio from one run.

Per-core figures are completed requests divided by the generator's own CPU seconds (psutil), so
the target's share of the two cores does not count against the generator.
"""

from __future__ import annotations

import argparse
import json
import os
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
import os
from locust import FastHttpUser, constant, task
EVENT = '{"event_id":"e","trip_id":"t","kind":"update","ts":1.5,"lat":1.0,"lon":2.0}'
BODY = '{"events":[' + ",".join([EVENT] * int(os.environ["BENCH_BATCH"])) + ']}'
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


def _gameday(host: str, batch: int, seconds: float, out: Path, ca_file: str | None = None,
             locust_stats: bool = False) -> dict[str, float]:
    from gameday.lab.ingest_api import LAB_SERVICE
    from gameday.service.resolved import SERVICE_ENV, Service

    out.mkdir(parents=True)
    rate = 400_000 if batch == 1 else 20_000_000  # above what a core can do: measure what it completes
    cmd = [sys.executable, "-m", "locust", "-f", str(Path(__file__).parent / "_bench_profile.py"), "--headless",
           "--only-summary", "--loglevel", "ERROR", "--host", host, "--gameday-rate", str(rate),
           "--gameday-duration", str(seconds), "--gameday-batch", str(batch), "--gameday-max-connections", "32",
           "--gameday-out", str(out), "--gameday-locust-stats", "on" if locust_stats else "off"]
    env = {**os.environ, SERVICE_ENV: Service.resolve(LAB_SERVICE, url=host, ca_file=ca_file).handoff()}
    proc = psutil.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
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


def _stock(host: str, batch: int, seconds: float, work: Path) -> dict[str, float]:
    work.mkdir(parents=True)
    lf = work / "stock_fasthttp.py"
    lf.write_text(_FAST_LOCUSTFILE)
    cmd = [sys.executable, "-m", "locust", "-f", str(lf), "--headless", "--only-summary", "--loglevel", "ERROR",
           "--host", host, "-u", "32", "-r", "32", "-t", f"{int(seconds)}s", "--json-file", str(work / "stock")]
    proc = psutil.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                        env={**os.environ, "BENCH_BATCH": str(batch)})  # FastHttpUser: TLS unverified, its default
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


def _engine_request(host: str) -> bytes:
    """The request the engine sends at batch 1 (the lab's description): wrk is measured sending the same bytes."""
    from gameday.lab.ingest_api import LAB_SERVICE
    from gameday.load.payloads import Payloads
    from gameday.service.ids import IdScheme
    from gameday.service.resolved import Service

    service = Service.resolve(LAB_SERVICE, url=host)
    return Payloads(service, IdScheme("benchw0", uuid=service.uses_uuid), 1, "bench").request(0)


def _wrk_script(request: bytes, folder: Path) -> Path:
    """A wrk Lua script sending ``request`` (method, path, headers and body; wrk adds Host and Content-Length)."""
    head, _, body = request.decode().partition("\r\n\r\n")
    line, *headers = head.split("\r\n")
    method, path, _ = line.split(" ")
    lines = [f"wrk.method = {json.dumps(method)}", f"wrk.path = {json.dumps(path)}", f"wrk.body = {json.dumps(body)}"]
    for h in headers:
        name, _, value = h.partition(": ")
        if name.lower() not in ("host", "content-length"):
            lines.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
    script = folder / "engine_request.lua"
    script.write_text("\n".join(lines) + "\n")  # JSON strings are valid Lua strings for these bytes
    return script


def _wrk(host: str, seconds: float, folder: Path) -> dict[str, float] | None:
    """wrk (1 thread, 32 connections) sending the engine's own request: requests/s, and per core from its own
    CPU seconds."""
    if not shutil.which("wrk"):
        return None
    script = _wrk_script(_engine_request(host), folder)
    proc = psutil.Popen(["wrk", "-t1", "-c32", f"-d{int(seconds)}s", "-s", str(script), host],
                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    t0, cpu = time.monotonic(), 0.0
    while proc.poll() is None:  # sample until it exits: a finished process has no CPU times to read
        cpu = _cpu_of(proc)
        time.sleep(0.1)
    wall = time.monotonic() - t0
    out = proc.stdout.read() if proc.stdout else ""
    if "Non-2xx" in out:  # the no-op target answers 202 to every well-formed request: anything else is wrong
        return None
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            rps = float(line.split()[1])
            return {"requests_per_s": rps, "requests_per_core_s": rps / max(cpu / wall, 1e-9)}
    return None


def _targets(port: int, tls_port: int, folder: Path, seconds: float) -> tuple[list[subprocess.Popen[bytes]], str]:
    from gameday.lab.tls import self_signed

    cert, key = self_signed(folder)
    life = str(seconds * 14 + 90)
    plain = subprocess.Popen([sys.executable, "-m", "gameday.load.noop_target", "--port", str(port), "--seconds", life])
    tls = subprocess.Popen([sys.executable, "-m", "gameday.load.noop_target", "--port", str(tls_port), "--seconds", life,
                            "--cert", str(cert), "--key", str(key)])
    return [plain, tls], str(cert)


def _measure(port: int, tls_port: int, seconds: float, tmp: Path) -> dict[str, dict[str, float]]:
    """Every row of the benchmark, one after the other (never two generators at once)."""
    procs, ca = _targets(port, tls_port, tmp, seconds)
    rows: dict[str, dict[str, float]] = {}
    try:
        assert wait_port(port, 10) and wait_port(tls_port, 10), "the no-op targets did not start"
        for scheme, p in (("http", port), ("https", tls_port)):
            host = f"{scheme}://127.0.0.1:{p}"
            for batch in (1, 100):
                rows[f"gameday {scheme} {batch}"] = _gameday(host, batch, seconds, tmp / f"g-{scheme}-{batch}", ca)
                rows[f"stock {scheme} {batch}"] = _stock(host, batch, seconds, tmp / f"s-{scheme}-{batch}")
        rows["gameday http 1 locust-stats"] = _gameday(f"http://127.0.0.1:{port}", 1, seconds, tmp / "g-stats", ca,
                                                       locust_stats=True)
        wrk = _wrk(f"http://127.0.0.1:{port}", seconds, tmp)
        if wrk:
            rows["wrk http 1"] = wrk
    finally:
        for t in procs:
            t.terminate()
            t.wait(10)
    return rows


def _report(rows: dict[str, dict[str, float]], seconds: float) -> None:
    print(f"no-op loopback target, {seconds:g} s per measurement, per-core = completed / generator CPU seconds")
    for name, r in rows.items():
        if "requests_per_core_s" in r:
            batch = 100 if " 100" in name else 1
            print(f"{name:<30} {r['requests_per_core_s']:>9,.0f} requests/s per core  "
                  f"{r['requests_per_core_s'] * batch:>11,.0f} events/s per core  ({r['requests_per_s']:,.0f} requests/s)")
    print("ratios (same run):")
    for scheme in ("http", "https"):
        for batch in (1, 100):
            g, st = rows[f"gameday {scheme} {batch}"], rows[f"stock {scheme} {batch}"]
            ratio = f"{g['requests_per_core_s'] / st['requests_per_core_s']:.2f}x" if st["requests_per_core_s"] \
                else "not measured (FastHttpUser completed no request: the machine was too busy to compare)"
            print(f"  gameday / FastHttpUser per core, {scheme:<5} batch {batch:>3}: {ratio}")
    plain, stats = rows["gameday http 1"], rows["gameday http 1 locust-stats"]
    print(f"  Locust statistics on (--gameday-locust-stats on), http batch 1: "
          f"{stats['requests_per_core_s'] / plain['requests_per_core_s']:.2f} of the engine's figure without them")
    if "wrk http 1" in rows:
        w = rows["wrk http 1"]
        print(f"  gameday / wrk (1 thread, 32 connections, the engine's request), http batch 1: per core "
              f"{plain['requests_per_core_s'] / w['requests_per_core_s']:.2f}, requests/s "
              f"{plain['requests_per_s'] / w['requests_per_s']:.2f} (the one-core no-op target may bound both)")
    else:
        print("  gameday / wrk: not measured (wrk is not installed; the project stays pip-only: install it, e.g. "
              "apt-get install wrk, to measure this ratio)")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="bench-load", description=__doc__)
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--out", type=Path, default=Path("out/bench-load"))
    a = p.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        rows = _measure(free_port(), free_port(), a.seconds, Path(tmp))
    _report(rows, a.seconds)
    calibration = {"per_core_requests_per_s": {str(b): round(rows[f"gameday http {b}"]["requests_per_core_s"])
                                               for b in (1, 100)},
                   "per_core_requests_per_s_tls": {str(b): round(rows[f"gameday https {b}"]["requests_per_core_s"])
                                                   for b in (1, 100)},
                   "rows": rows, "machine": {"cores": psutil.cpu_count(), "when": time.strftime("%Y-%m-%d %H:%M")}}
    (a.out / "calibration.json").write_text(json.dumps(calibration, indent=2))
    print(f"calibration written to {a.out / 'calibration.json'} (used by: gameday load plan --rate R)")


if __name__ == "__main__":
    main()
