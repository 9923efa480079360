"""ARC Region switch: a team's Region switch plan executed as a runbook step (``StartPlanExecution``), then its
execution waited for (``GetPlanExecution``) until it completed, with ARC's own "actual recovery time" (the plan's
run plus the time until its application health alarms were healthy again) kept beside gameday's measures.

The wait is gameday's poll loop rather than botocore's ``PlanExecutionCompleted`` waiter: the same success and
failure states (completed / completedWithExceptions; failed / canceled / planExecutionTimedOut), but a wait that
runs out names the state it was left in (``pausedByFailedStep``, ``pendingManualApproval``: an operator's to act
on in the console while gameday keeps waiting), which the waiter cannot.

The API is called in the region being activated (for ``deactivate``, the other one): the one expected to answer
while the other is lost.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from gameday.errors import ConfigError
from gameday.targets.aws import wait
from gameday.targets.aws.session import Actions, AwsSession

__all__ = ["execute", "DONE", "FAILED", "duration_s"]

DONE = ("completed", "completedWithExceptions")
FAILED = ("failed", "canceled", "planExecutionTimedOut")
_ISO = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def duration_s(text: str | None) -> float | None:
    """ARC's ISO 8601 duration (``PT4M30S``) in seconds; None when absent or not one (years and months: 365/30 d).
    By hand: one regular expression, the pattern the API documents, and no dependency for it."""
    m = _ISO.match(text or "")
    if not text or m is None or text in ("P", "PT"):
        return None
    y, mo, d, h, mi, s = (float(g) if g else 0.0 for g in m.groups())
    return (((y * 365 + mo * 30 + d) * 24 + h) * 60 + mi) * 60 + s


def _failed_steps(ex: dict[str, Any]) -> str:
    bad = [st.get("name", "?") for st in ex.get("stepStates") or [] if str(st.get("status", "")).lower() == "failed"]
    return f" (failed steps: {', '.join(bad)})" if bad else ""


def execute(s: AwsSession, acts: Actions, region: str, action: str, mode: str) -> dict[str, Any]:
    """Start the plan's execution for ``region`` and wait (within the step's time) until it completed."""
    cfg = s.settings
    if cfg.region_switch is None:
        raise ConfigError("no Region switch plan: set aws.region_switch.plan_arn", field="aws.region_switch")
    plan = cfg.region_switch.plan_arn
    call_in = region if action == "activate" else next(r for r in (cfg.primary_region, cfg.dr_region) if r != region)
    arc = s.client("arc-region-switch", call_in)
    started = acts.do("arc-region-switch:StartPlanExecution", plan, lambda: arc.start_plan_execution(
        planArn=plan, targetRegion=region, action=action, mode=mode, comment="gameday drill",
        clientToken=uuid.uuid4().hex), targetRegion=region, action=action, mode=mode)
    out: dict[str, Any] = {"plan": plan, "target_region": region, "action": action, "mode": mode}
    if started is None:  # a plan: nothing started, nothing to wait for
        return out
    ex_id = started["executionId"]

    seen: dict[str, Any] = {}  # the last answer: the terminal check and the timeout's message read it, no new call

    def completed() -> dict[str, Any] | None:
        seen.clear()
        seen.update(arc.get_plan_execution(planArn=plan, executionId=ex_id))
        return dict(seen) if seen.get("executionState") in DONE else None

    def failed() -> str | None:
        state = seen.get("executionState")
        return f"the plan execution {ex_id} is {state}{_failed_steps(seen)}" if state in FAILED else None

    done = wait.until(s, acts, f"the Region switch plan execution {ex_id} ({action} {region}) to complete",
                      completed, lambda: str(seen.get("executionState", "no answer yet")), terminal=failed)
    assert done is not None
    art = done.get("actualRecoveryTime")
    return {**out, "execution_id": ex_id, "state": done["executionState"],
            "started_at": _ts(done.get("startTime")), "ended_at": _ts(done.get("endTime")),
            "actual_recovery_time": art, "actual_recovery_s": duration_s(art)}


def _ts(t: Any) -> float | None:
    return t.timestamp() if t is not None and hasattr(t, "timestamp") else None
