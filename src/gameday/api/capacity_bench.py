"""``make bench-capacity``: the lab's knee as ``gameday lab fault ingest-latency`` goes up (it should move down).

Starts the lab (under the shared lab lock, from the Makefile), runs ``gameday load capacity`` once per added
latency, prints each stair and the knees as a table and writes them to out/bench-capacity/knees.json. Minutes
of lab time: a bench, not a test.

Latency added in the network path costs the service no CPU: what it takes is the latency SLO's budget (a p95
under 300 ms with 250 ms added leaves 50 ms for the service's own time and queue), so the added latencies span
that budget. The generator may keep 2,000 connections open: with the latency added, rate x latency requests are
in flight, and the generator's cap must not be what a stair runs into first. Stairs of 6 s, 1.25x apart: with
3 s stairs 1.5x apart (the first run), one slow second decided a stair (a third of its requests), and a stair
1.5x past the lab's knee collapsed within its first second, the generator late in that same second (INCONCLUSIVE).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from gameday.api.capacity import CapacityOptions, run_capacity
from gameday.api.lab import lab_operation, lab_session

OUT = Path("out/bench-capacity")
STATE = OUT / "lab"
SLO = "p95<300ms"
LATENCIES_MS = (0.0, 50.0, 150.0, 250.0)
START_RATE, MAX_RATE = 400.0, 6000.0
STAIR_S, FACTOR = 6.0, 1.25


def knee_rank(knee: dict[str, Any]) -> float | None:
    """A run's knee for ordering: its rate; 0 when the first stair already failed (the knee is below
    ``--start-rate``); None when there is no knee to order (INCONCLUSIVE: the generator limited a stair)."""
    if knee["capacity_rate"] is not None:
        return float(knee["capacity_rate"])
    return 0.0 if knee["verdict"] == "fail" and knee.get("first_failing") is not None else None


def moves_down(knees: list[dict[str, Any]]) -> bool:
    """Whether every run has a knee (or failed its first stair) and none is above the one before it."""
    ranks = [knee_rank(k) for k in knees]
    if any(r is None for r in ranks):
        return False
    return all(a >= b for a, b in zip(ranks, ranks[1:], strict=False))  # type: ignore[operator]


def _stair(row: dict[str, Any]) -> None:
    def ms(v: Any) -> str:
        return "n/a" if v is None else f"{v:,.1f}"
    print(f"  stair {row['stair']:>2}  offered {row['offered_rate']:>8,.1f}/s  served {ms(row.get('served_rate'))}/s"
          f"  p95 {ms(row.get('p95_ms'))} ms  {row['verdict'].upper()}", flush=True)


def main() -> int:
    env = Path("environments/local.yaml")
    knees = []
    with lab_session(env, STATE, restore=False, on_progress=print):
        try:
            for ms in LATENCIES_MS:
                lab_operation("inject_latency", {"ms": ms}, STATE)
                print(f"ingest latency +{ms:g} ms, --slo '{SLO}':", flush=True)
                s = run_capacity(CapacityOptions(
                    profile=Path("loadprofiles/ingest_steady.py"), env=env, max_rate=MAX_RATE, start_rate=START_RATE,
                    stair_s=STAIR_S, factor=FACTOR, slos=[SLO], state_dir=STATE, max_connections=2000,
                    out_dir=OUT / f"latency-{ms:g}ms"),
                    on_stair=_stair)
                knees.append({"ingest_latency_ms": ms, "slo": SLO, "verdict": s["verdict"],
                              "capacity_rate": s["capacity_rate"], "first_failing": s.get("first_failing"),
                              "reasons": s["reasons"]})
                print(f"ingest latency {ms:>5g} ms: {s['verdict'].upper():<12} knee {s['capacity_rate']} events/s "
                      f"(first failing {s.get('first_failing')})", flush=True)
        finally:
            lab_operation("inject_latency", {"ms": 0.0}, STATE)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "knees.json").write_text(json.dumps(knees, indent=2))
    ok = moves_down(knees)
    print("the knee moves down as the latency goes up" if ok else "the knee did NOT move down monotonically")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
