"""The drill's background and reconciliation in memory, against a :class:`~gameday.targets.fake.FakeTarget`:
the runner, checker and recover logic run end to end in a second, without a process or a socket."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gameday.drill.background import BackgroundSpec, Reconciler
from gameday.drill.reconcile import heartbeat_only, lost_window
from gameday.judge.evidence import load_bucket_event
from gameday.judge.recovery import Evidence, Probe
from gameday.judge.rpo import seq_ranges
from gameday.reasons import FAILURES, ReasonTally
from gameday.service.ids import ACKED as LEDGER_ACKED
from gameday.service.ids import FAILED as LEDGER_FAILED
from gameday.service.ids import read_ledger
from gameday.targets.fake import FakeTarget

__all__ = ["FakeBackground", "fake_background", "fake_reconciler"]


class FakeBackground:
    """Every ``spec.probe_interval_s``: one probe, one write of ``batch`` events, one heartbeat, all answered
    by the fake target's state; journaled exactly as the live ones are. Bounded by ``spec.max_s``."""

    def __init__(self, target: FakeTarget, spec: BackgroundSpec) -> None:
        self.target, self.spec = target, spec
        self.probe_log: list[Evidence] = []
        self.failures = ReasonTally()  # journaled about once a second, as the live probe's are
        self._ledger = spec.out_dir / "ledger.txt"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-background", daemon=True)

    @property
    def ledger(self) -> Path:
        return self._ledger

    def ledger_now(self) -> Path:
        return self._ledger

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self.journal_failures()

    def journal_failures(self) -> None:
        reasons = self.failures.drain()
        if reasons:
            self.spec.journal.record(FAILURES, "probe", {"source": "probe", "reasons": reasons})

    def _run(self) -> None:
        deadline = time.monotonic() + self.spec.max_s
        n, drained = 0, time.monotonic()
        with open(self._ledger, "a") as ledger:
            while not self._stop.is_set() and time.monotonic() < deadline:
                n += 1
                self._tick(n, ledger)
                if time.monotonic() - drained >= 1.0:
                    drained = time.monotonic()
                    self.journal_failures()
                self._stop.wait(self.spec.probe_interval_s)

    def _tick(self, n: int, ledger: Any) -> None:
        j, now = self.spec.journal, time.time()
        ok = self.target.serving(now)
        reason = self.target.answer or "write: HTTP 503: service unavailable"
        if not ok:
            self.failures.add(reason, now + 0.001)
        j.record("probe", "probe", {"ok": ok, "latency_ms": 1.0, "started": now}, t_wall=now + 0.001,
                 error=None if ok else short_error(reason))
        self.probe_log.append(Probe(now, now + 0.001, ok))  # after the journal, as the real workload
        ids = [f"{self.spec.run_id}-{n}-{k}" for k in range(self.spec.batch)]
        acked = self.target.write(ids, now)
        ledger.write("".join(f"{LEDGER_ACKED if acked else LEDGER_FAILED} {i} {now:.3f}\n" for i in ids))
        ledger.flush()
        b = self.spec.evidence_bucket_s
        j.record("load.evidence", "load", load_bucket_event(b, [[now // b * b, len(ids) if acked else 0,
                                                                    0 if acked else len(ids), 0]]))
        if self.target.write_primary([f"hb-{n}"], now):
            j.record("heartbeat.ack", "heartbeat", {"seq": n, "ts": now})


def short_error(reason: str) -> str:
    """``write: HTTP 401`` of ``write: HTTP 401: bad token`` (what a probe event carries)."""
    m = re.match(r"\w+: HTTP \d+", reason)
    return m.group(0) if m else reason


def fake_background(target: FakeTarget) -> Callable[[BackgroundSpec], FakeBackground]:
    """A ``DrillRun.background`` factory for ``target``."""
    def make(spec: BackgroundSpec) -> FakeBackground:
        return FakeBackground(target, spec)
    return make


def fake_reconciler(target: FakeTarget) -> Reconciler:
    """A ``DrillRun.reconciler`` that reads the fake target's current primary, as the live one reads PostgreSQL."""
    def reconcile(primary_dsn: str, ledger: Path, run_id: str, t_fault: float | None) -> dict[str, Any]:
        book = read_ledger(ledger)
        present = target.present()
        acked, failed = book[LEDGER_ACKED], book[LEDGER_FAILED]
        hb = [int(i[3:]) for i in present if i.startswith("hb-")]
        if target.service().spec.store is None:  # as the live one: the heartbeat's gaps, events not looked for
            return heartbeat_only(len(acked), (max(hb, default=None), None, len(hb)), seq_ranges(hb))
        lost = sorted(acked - present)
        return {**lost_window(ledger, set(lost), t_fault), "heartbeat_present": seq_ranges(hb),
                "events_acked": len(acked), "events_present": len(acked & present), "events_lost": len(lost),
                "events_unexpected": len(failed & present), "events_indeterminate": 0, "indeterminate_present": 0,
                "lost_sample": lost[:20], "heartbeats_present": len(hb)}
    return reconcile
