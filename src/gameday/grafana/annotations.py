"""Grafana annotations for a run, fed by its journal: start, every fault and inverse, every runbook
step start and end, recovery, and the end with the verdict; tagged with the run id.

A Grafana outage never fails a run: annotations are posted from a background thread, and the first
failure is reported once as a warning; the run goes on.
"""

from __future__ import annotations

import queue
import sys
import threading
from typing import Any

from gameday.grafana.client import grafana_api
from gameday.journal import Event

__all__ = ["Annotator", "annotation_for"]

_KINDS = {"drill.start", "fault.intent", "fault.applied", "fault.inverse_applied", "step.start", "step.end",
          "drill.recovered", "drill.end", "chaos.start", "chaos.end", "activity.start", "gate.start", "run.verdict"}


def annotation_for(e: Event, run_id: str, kind_of_run: str) -> dict[str, Any] | None:
    """The annotation an event deserves (None: not one to annotate). Pure, for testing."""
    if e.kind not in _KINDS:
        return None
    v = e.value
    text = {
        "drill.start": lambda: f"drill {v.get('drill')} started",
        "fault.intent": lambda: f"fault {v.get('action')} about to be applied (inverse: {v.get('inverse')})",
        "fault.applied": lambda: f"fault {v.get('action')} applied",
        "fault.inverse_applied": lambda: f"inverse {v.get('inverse')} applied",
        "step.start": lambda: f"step {v.get('id')} started: {v.get('name', '')}",
        "step.end": lambda: f"step {v.get('id')} {'done' if v.get('ok') else 'FAILED'}: {v.get('detail', '')}",
        "drill.recovered": lambda: "recovered: N consecutive synthetic transactions succeeded",
        "drill.end": lambda: "drill ended" + (f" (aborted: {v.get('reason')})" if v.get("aborted") else ""),
        "chaos.start": lambda: f"experiment started: {v.get('title')}",
        "chaos.end": lambda: f"experiment ended: {v.get('status')}",
        "activity.start": lambda: f"activity {v.get('name')} ({v.get('func')})",
        "gate.start": lambda: f"load gate started: {v.get('profile')} at {v.get('rate')} events/s",
        "run.verdict": lambda: f"{kind_of_run} ended: verdict {v.get('verdict')} {v.get('detail', '')}".strip(),
    }[e.kind]()
    return {"time_from": int(e.t_wall * 1000), "tags": ["gameday", kind_of_run, f"run:{run_id}", e.kind],
            "text": text}


class Annotator:
    """A journal listener that posts annotations to Grafana in order, off the run's thread."""

    def __init__(self, *, url: str, token: str | None, run_id: str, kind_of_run: str) -> None:
        self.url, self.token = url, token
        self.run_id, self.kind_of_run = run_id, kind_of_run
        self._q: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._warned = False
        self.sent = 0
        self._thread = threading.Thread(target=self._post_all, name="grafana-annotations", daemon=True)
        self._thread.start()

    def __call__(self, e: Event) -> None:
        a = annotation_for(e, self.run_id, self.kind_of_run)
        if a is not None:
            self._q.put(a)

    def close(self, timeout: float = 10.0) -> None:
        self._q.put(None)
        self._thread.join(timeout)

    def _post_all(self) -> None:
        api = grafana_api(self.url, self.token, timeout=2.0)
        while (a := self._q.get()) is not None:
            try:
                api.annotations.add_annotation(**a)
                self.sent += 1
            except Exception as exc:  # noqa: BLE001 - Grafana must never fail a run: warn once, go on
                if not self._warned:
                    self._warned = True
                    print(f"warning: Grafana annotations to {self.url} failing ({type(exc).__name__}); "
                          "the run goes on", file=sys.stderr)
