"""On-call rehearsal: the person at the prompt works the runbook; every step they claim is checked on the
lab before it counts; the score is computed from the journal.

A fault is chosen (``--fault``) or drawn (``--seed``) and not shown. An ALERT appears when the synthetic
probe fails or the lab's own signals fire (the DB writer lost, a zone's nodes unhealthy). For each step
the responder presses Enter when done by hand (gameday verifies the effect and says what is still
missing), ``r`` to let gameday run it, or ``s`` to skip it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from gameday.drill.background import Background
from gameday.drill.models import Step
from gameday.drill.steps import StepContext, StepOutcome, wait_until
from gameday.drill.verify import effect_holds, effect_known
from gameday.journal import Event, Journal
from gameday.judge.recovery import failed_since
from gameday.operations import fill
from gameday.targets.base import EnvironmentStatus

__all__ = ["FAULTS", "Responder", "score"]

# Faults a rehearsal can draw: name -> (Target method, arguments)
FAULTS: dict[str, tuple[str, dict[str, str]]] = {
    "region": ("fail_region", {"region": "{primary_region}"}),
    "zone": ("fail_zone", {"zone": "{primary_region}b"}),
    "db": ("fail_over_db", {}),
    "cache": ("fail_cache_primary", {}),
    "data": ("corrupt_data", {}),  # drawn only when the drill names a runbook for it (runbooks.data)
}
_HINTS = {"action": "Enter when done by hand (gameday checks it), 'r' to let gameday run it, 's' to skip",
          "manual": "Enter (or 'y') to confirm, 's' to skip",
          "shell": "Enter when done by hand, 'r' to let gameday run it, 's' to skip"}


class Responder:
    """The person at the prompt: answers come from ``ask`` (stdin), messages go to ``say``."""

    def __init__(self, ask: Callable[[str], str] = input, say: Callable[[str], None] = print,
                 status: Callable[[], EnvironmentStatus] | None = None) -> None:
        self.ask, self.say, self.status = ask, say, status
        self.journal: Journal | None = None
        self._later: list[Step] = []

    def plan(self, steps: list[Step]) -> None:
        self._later = list(steps)

    def _record(self, kind: str, value: dict[str, Any]) -> None:
        if self.journal is not None:
            self.journal.record(kind, "responder", value)

    def gate(self, step: Step, ctx: StepContext) -> StepOutcome | None:
        self._later = [s for s in self._later if s.id != step.id]
        self.say(f"\n[bold]{step.name}[/]  (done when: {step.done_when})")
        if step.kind == "wait":  # automatic: gameday watches for it, with a status line while it lasts
            self.say("[dim]gameday is watching for it…[/]")
            return None
        if step.prompt:
            self.say(step.prompt)
        while True:
            try:
                answer = self.ask(f"[{_HINTS[step.kind]}] > ").strip().lower()
            except EOFError:
                answer = "s"
            if answer == "s":
                return StepOutcome(False, "skipped by the responder", skipped=True)
            if answer == "r" and step.kind in ("action", "shell"):
                self._record("responder.delegated", {"id": step.id})
                return None  # gameday runs it
            if step.kind == "manual":
                return StepOutcome(True, "confirmed by the responder")
            if step.kind == "shell":
                return StepOutcome(True, "done by hand by the responder")
            outcome = self._verified(step, ctx)
            if outcome is not None:
                return outcome

    def _verified(self, step: Step, ctx: StepContext) -> StepOutcome | None:
        """An action claimed done by hand: its effect must hold on the lab (then its wait, if any)."""
        assert step.call is not None
        args = fill(step.args, ctx.variables)
        missing = effect_holds(step.call, args, ctx.target.status())
        if missing is not None:
            self._record("responder.claim_rejected", {"id": step.id, "missing": missing})
            self.say(f"[yellow]not yet:[/] {missing}")
            return None
        self._out_of_order(ctx)
        if step.wait_for is not None:
            waited = wait_until(step, ctx)
            return StepOutcome(waited.ok, f"done by hand, verified; {waited.detail}")
        return StepOutcome(True, f"done by hand, verified: {step.done_when}")

    def _out_of_order(self, ctx: StepContext) -> None:
        """A later step whose effect is already seen on the environment was done before its turn; a step whose
        effect the environment cannot show (no check for it) is never counted so."""
        st = ctx.target.status()
        for later in self._later:
            if later.kind == "action" and later.call and effect_known(later.call, st) \
                    and effect_holds(later.call, fill(later.args, ctx.variables), st) is None:
                self._record("responder.out_of_order", {"id": later.id})

    def watch(self, background: Background, t_fault: float, journal: Journal) -> None:
        """Raise the alert the first time the probe fails after the fault, or the lab's own signals fire."""
        self.journal = journal

        def loop() -> None:
            deadline = time.monotonic() + 1800
            while time.monotonic() < deadline:
                why = self._alarm(background, t_fault)
                if why:
                    journal.record("alert.shown", "responder", {"alert": why})
                    self.say(f"\n[bold red]ALERT[/] {why}")
                    return
                time.sleep(0.1)
        threading.Thread(target=loop, name="alerts", daemon=True).start()

    def _alarm(self, background: Background, t_fault: float) -> str | None:
        """The probe failing, or the lab's own signals: a zone without a healthy node, a database down."""
        if failed_since(list(background.probe_log), t_fault):
            return "synthetic write-then-read through the public endpoint is failing"
        if self.status is None:
            return None
        try:
            st = self.status()
        except Exception:  # noqa: BLE001 - the lab's status is a signal, not a requirement
            return None
        zones = sorted({n.zone for n in st.nodes if n.region == st.primary_region})
        dark = [z for z in zones if not st.healthy_nodes(zone=z)]
        if dark:
            where = st.primary_region if dark == zones else dark[0]
            return f"every ingest node in {where} fails its health check"
        if not any(d.role == "primary" for d in st.dbs):
            return "the database writer was lost (no primary instance)"
        down = [d for d in st.dbs if d.role == "down" and d.region == st.primary_region]
        if down:
            return f"database instance {down[0].name} in {down[0].zone} is down (RDS event)"
        return None


def _step_points(events: list[Event], planned: list[str]) -> tuple[float, list[str]]:
    """Up to 50 points over the steps: done by the responder 1, run by gameday 1/2, skipped or falsely
    claimed 0. Returns (points, mistakes)."""
    ends = {e.value["id"]: e for e in events if e.kind == "step.end"}
    delegated = {e.value["id"] for e in events if e.kind == "responder.delegated"}
    rejected = {e.value["id"] for e in events if e.kind == "responder.claim_rejected"}
    mistakes = [f"claimed '{e.value['id']}' done while {e.value['missing']}" for e in events
                if e.kind == "responder.claim_rejected"]
    mistakes += [f"did '{e.value['id']}' before its turn" for e in events if e.kind == "responder.out_of_order"]
    share = 50 / max(1, len(planned))
    points = 0.0
    for sid in planned:
        end = ends.get(sid)
        if end is None or not end.value.get("ok") or end.value.get("skipped") or sid in rejected:
            continue
        points += share / 2 if sid in delegated else share
    return points, mistakes


def score(events: list[Event], summary: dict[str, Any]) -> dict[str, Any]:
    """The rehearsal's score (0-100) from the journal and the drill summary: steps 50, RTO 25, RPO 15,
    the declaration within its budget 10, minus 5 for each step done out of order."""
    start = next(e for e in events if e.kind == "drill.start")
    planned = [s["id"] for s in start.value["steps"]]
    ends = [e for e in events if e.kind == "step.end"]
    done = [e.value["id"] for e in ends if e.value.get("ok")]
    skipped = [e.value["id"] for e in ends if e.value.get("skipped")]
    points, mistakes = _step_points(events, planned)
    targets = {t["name"]: t["ok"] for t in summary.get("targets", [])}
    declared = summary.get("t_declare_s") is not None and not any(
        s["id"] == start.value.get("declare_step") and s["over_budget"] for s in summary.get("steps", []))
    points += (25 if targets.get("rto") else 0) + (15 if targets.get("rpo") else 0) + (10 if declared else 0)
    points -= 5 * sum(1 for m in mistakes if "before its turn" in m)
    alert = next((e for e in events if e.kind == "alert.shown"), None)
    t0 = summary.get("t0")
    kinds = {s["id"]: s["kind"] for s in start.value["steps"]}
    ack = next((e for e in events if e.kind == "step.end" and kinds.get(e.value["id"]) != "wait"
                and alert is not None and e.t_wall >= alert.t_wall and not e.value.get("skipped")), None)
    steady = next((e for e in events if e.kind == "steady.failed"), None)  # the lab failed before the fault
    return {"fault": next((e.value["action"] for e in events if e.kind == "fault.applied"), None),
            "not_rehearsed": steady.value["summary"] if steady else None,
            "runbook": start.value.get("runbook"), "time_scale": start.value.get("time_scale"),
            "incomplete": summary.get("verdict") == "aborted" or steady is not None
            or not any(e.kind == "drill.end" for e in events),
            "time_to_alert_s": round(alert.t_wall - t0, 3) if alert and t0 else None,
            "alert": alert.value.get("alert") if alert else None,
            "time_to_acknowledge_s": round(ack.t_wall - t0, 3) if ack and t0 else None,
            "time_to_detect_s": summary.get("t_detect_s"), "time_to_declare_s": summary.get("t_declare_s"),
            "steps_done": done, "steps_skipped": skipped, "steps_in_order": done == [s for s in planned if s in done]
            and not skipped and len(done) == len(planned), "mistakes": mistakes,
            "steps": [{k: s[k] for k in ("id", "name", "actual_s", "budget_s", "done", "over_budget")}
                      for s in summary.get("steps", [])],
            "rto_s": summary.get("rto_s"), "rpo_s": summary.get("rpo_s"), "events_lost": summary.get("events_lost"),
            "verdict": summary.get("verdict"), "score": max(0, round(points))}
