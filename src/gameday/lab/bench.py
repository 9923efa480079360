"""``make bench-lab``: events/s the lab sustains through its public endpoint, and who used the CPU.

Closed-loop saturation (a fixed number of requests in flight) for a fixed time per batch size;
CPU shares come from each process's own CPU time over the same window.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import psutil

from gameday.lab.control import lab_down, lab_up, read_state

__all__ = ["main"]


def _groups(state_dir: Path) -> dict[str, list[psutil.Process]]:
    sup = psutil.Process((read_state(state_dir) or {})["supervisor_pid"])
    groups: dict[str, list[psutil.Process]] = {"supervisor (balancers, DNS, link, RDS controller)": [sup]}
    for child in sup.children():
        cmd = " ".join(child.cmdline())
        key = "ingest nodes" if "ingest_node" in cmd else "postgres (3 instances)" if "postgres" in cmd else "other"
        groups.setdefault(key, []).extend([child, *child.children(recursive=True)])
    groups["load generator (this process)"] = [psutil.Process()]
    return groups


def _cpu(groups: dict[str, list[psutil.Process]]) -> dict[str, float]:
    out = {}
    for k, procs in groups.items():
        total = 0.0
        for p in procs:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
        out[k] = total
    return out


async def _drive(endpoint: str, batch: int, seconds: float, concurrency: int) -> tuple[int, int, int]:
    body_for = lambda: json.dumps({"events": [  # noqa: E731
        {"event_id": uuid.uuid4().hex, "trip_id": "bench", "kind": "update", "ts": time.time(), "lat": 1.0, "lon": 2.0}
        for _ in range(batch)]}).encode()
    ok = errors = 0
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as s:
        async def worker() -> None:
            nonlocal ok, errors
            while time.monotonic() < deadline:
                try:
                    async with s.post(endpoint + "/v1/trips", data=body_for(),
                                      headers={"Content-Type": "application/json"}) as r:
                        await r.read()
                        ok, errors = (ok + 1, errors) if r.status == 202 else (ok, errors + 1)
                except aiohttp.ClientError:
                    errors += 1
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ok, ok * batch, errors


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="bench-lab", description=__doc__)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--env", type=Path, default=Path("environments/local.yaml"))
    a = p.parse_args(argv)
    state_dir = Path(tempfile.mkdtemp(prefix="gameday-bench-"))
    try:
        t0 = time.monotonic()
        client = lab_up(a.env, state_dir)
        print(f"lab up in {time.monotonic() - t0:.1f} s; driving {client.public_endpoint} "
              f"for {a.seconds:.0f} s per batch size, {a.concurrency} requests in flight")
        groups = _groups(state_dir)
        for batch in (100, 1):
            before, t = _cpu(groups), time.monotonic()
            reqs, events, errors = asyncio.run(_drive(client.public_endpoint, batch, a.seconds, a.concurrency))
            wall = time.monotonic() - t
            used = {k: v - before[k] for k, v in _cpu(groups).items()}
            print(f"\nbatch {batch:>3}: {events / wall:>10,.0f} events/s  {reqs / wall:>8,.0f} requests/s  "
                  f"errors {errors}")
            total = sum(used.values())
            for k, v in sorted(used.items(), key=lambda kv: -kv[1]):
                print(f"  {k:<52} {v / wall:5.2f} cores  {100 * v / max(total, 1e-9):5.1f} % of lab+generator CPU")
    finally:
        lab_down(state_dir)


if __name__ == "__main__":
    main()
