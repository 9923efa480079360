"""``make bench-capacity``: the lab's knee as ``gameday lab fault ingest-latency`` goes up (it should move down).

Starts the lab (under the shared lab lock, from the Makefile), runs ``gameday load capacity`` once per added
latency, prints the knees as a table and writes them to out/bench-capacity/knees.json. Minutes of lab time:
a bench, not a test.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from gameday.api.capacity import CapacityOptions, run_capacity
from gameday.api.lab import lab_operation, lab_session

OUT = Path("out/bench-capacity")
STATE = OUT / "lab"
LATENCIES_MS = (0.0, 20.0, 50.0)


def main() -> int:
    env = Path("environments/local.yaml")
    knees = []
    with lab_session(env, STATE, restore=False, on_progress=print):
        for ms in LATENCIES_MS:
            lab_operation("inject_latency", {"ms": ms}, STATE)
            s = run_capacity(CapacityOptions(profile=Path("loadprofiles/ingest_steady.py"), env=env, max_rate=6000,
                                             start_rate=200, stair_s=3, slos=["p95<300ms"], state_dir=STATE,
                                             out_dir=OUT / f"latency-{ms:g}ms"))
            knees.append({"ingest_latency_ms": ms, "verdict": s["verdict"], "capacity_rate": s["capacity_rate"],
                          "first_failing": s.get("first_failing"), "reasons": s["reasons"]})
            print(f"ingest latency {ms:>5g} ms: {s['verdict'].upper():<12} knee {s['capacity_rate']} events/s")
        lab_operation("inject_latency", {"ms": 0.0}, STATE)
    (OUT / "knees.json").write_text(json.dumps(knees, indent=2))
    rates = [k["capacity_rate"] for k in knees]
    ok = all(r is not None for r in rates) and all(a >= b for a, b in zip(rates, rates[1:], strict=False))
    print("the knee moves down as the latency goes up" if ok else "the knee did NOT move down monotonically")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
