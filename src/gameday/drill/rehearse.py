"""``gameday rehearse``: an on-call rehearsal on the local lab.

A fault is chosen (``--fault``) or drawn (``--seed``) and not shown. The responder sees alerts as
the synthetic probe fails and works the runbook at the prompt: each step can be done by hand (with
the ``gameday lab`` commands, then Enter), run by gameday (``r``) or skipped (``s``). The score
records time to detect and to declare, steps done in order, RTO and RPO, from the journal alone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from gameday.drill.background import Background
from gameday.drill.models import Step
from gameday.drill.steps import StepContext, StepOutcome
from gameday.journal import Event, Journal
from gameday.judge.recovery import failed_since

__all__ = ["FAULTS", "Responder", "score"]

# Faults a rehearsal can draw: name -> (Target method, arguments)
FAULTS: dict[str, tuple[str, dict[str, str]]] = {
    "region": ("fail_region", {"region": "{primary_region}"}),
    "zone": ("fail_zone", {"zone": "{primary_region}b"}),
    "db": ("fail_over_db", {}),
}


class Responder:
    """The person at the prompt: reads answers from ``ask`` (stdin by default)."""

    def __init__(self, ask: Callable[[str], str] = input, say: Callable[[str], None] = print) -> None:
        self.ask, self.say = ask, say

    def gate(self, step: Step, ctx: StepContext) -> StepOutcome | None:
        hint = {"action": "Enter when you did it by hand, 'r' to let gameday run it, 's' to skip",
                "manual": "Enter (or 'y') to confirm, 's' to skip",
                "wait": "Enter to start watching for it, 's' to skip",
                "shell": "Enter when done by hand, 'r' to let gameday run it, 's' to skip"}[step.kind]
        self.say(f"\n[bold]{step.name}[/]  (done when: {step.done_when})")
        if step.prompt:
            self.say(step.prompt)
        try:
            answer = self.ask(f"[{hint}] > ").strip().lower()
        except EOFError:
            answer = "s"
        if answer == "s":
            return StepOutcome(False, "skipped by the responder", skipped=True)
        if step.kind in ("wait",) or answer == "r":
            return None  # gameday runs or watches it
        if step.kind == "manual":
            return StepOutcome(True, "confirmed by the responder")
        return StepOutcome(True, "done by hand by the responder")

    def watch(self, background: Background, t_fault: float, journal: Journal) -> None:
        """Raise the alert the first time the synthetic probe fails after the fault."""
        def loop() -> None:
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                if failed_since(list(background.probe_log), t_fault):
                    journal.record("alert.shown", "responder", {"alert": "synthetic write+read failing"})
                    self.say("\n[bold red]ALERT[/] synthetic write-then-read through the public endpoint is failing")
                    return
                time.sleep(0.05)
        threading.Thread(target=loop, name="alerts", daemon=True).start()


def score(events: list[Event], summary: dict[str, Any]) -> dict[str, Any]:
    """The rehearsal's score (0-100) from the journal and the drill summary."""
    start = next(e for e in events if e.kind == "drill.start")
    planned = [s["id"] for s in start.value["steps"]]
    ends = [e for e in events if e.kind == "step.end"]
    done = [e.value["id"] for e in ends if e.value.get("ok")]
    skipped = [e.value["id"] for e in ends if e.value.get("skipped")]
    in_order = done == [s for s in planned if s in done] and not skipped and len(done) == len(planned)
    alert = next((e for e in events if e.kind == "alert.shown"), None)
    t0 = summary.get("t0")
    targets = {t["name"]: t["ok"] for t in summary.get("targets", [])}
    points = (40 if targets.get("rto") else 0) + (20 if targets.get("rpo") else 0) + (20 if in_order else 0) + \
        (20 if summary.get("t_declare_s") is not None and not any(
            s["id"] == start.value.get("declare_step") and s["over_budget"] for s in summary.get("steps", [])) else 0)
    return {"fault": next((e.value["action"] for e in events if e.kind == "fault.applied"), None),
            "time_to_alert_s": round(alert.t_wall - t0, 3) if alert and t0 else None,
            "time_to_detect_s": summary.get("t_detect_s"), "time_to_declare_s": summary.get("t_declare_s"),
            "steps_done": done, "steps_skipped": skipped, "steps_in_order": in_order,
            "rto_s": summary.get("rto_s"), "rpo_s": summary.get("rpo_s"), "events_lost": summary.get("events_lost"),
            "verdict": summary.get("verdict"), "score": points}
