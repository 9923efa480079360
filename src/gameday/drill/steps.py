"""Executing one runbook step: an action on the Target, a wait for a probe, a manual step, a shell command."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from typing import Any

from gameday import operations
from gameday.drill.context import ManualHandler, RecoveryView, StepContext, StepOutcome
from gameday.drill.models import Step
from gameday.drill.restore_steps import RESTORE_CALLS, run_restore_step
from gameday.errors import DriverError
from gameday.operations import fill
from gameday.targets.deadline import deadline

__all__ = ["ManualHandler", "RecoveryView", "StepOutcome", "StepContext", "run_step", "fill", "wait_until"]

_NOTE_EVERY_S = 3.0
_FIRST_NOTE_S = 1.0


def _condition(name: str, step: Step, ctx: StepContext) -> Callable[[], bool]:
    if name == "synthetic_failing":
        return ctx.live.outage_seen
    if name == "synthetic_recovered":
        if ctx.close_window is not None:  # a planned move: from its smoke test on, a failure is an outage
            ctx.close_window()
        return lambda: ctx.live.result().recovered
    if name == "dr_nodes_healthy":
        want = int(step.args.get("count", 1))
        dr = ctx.variables["dr_region"]

        return lambda: len(ctx.target.status().healthy_nodes(region=dr)) >= want
    if name == "consumer_lag_below":
        return _lag_below(step, ctx)
    raise ValueError(f"unknown condition {name!r}")


_LAG_READ_EVERY_S = 5.0  # CloudWatch's consumer-lag metrics change once a minute: no faster poll than this


def _lag_below(step: Step, ctx: StepContext) -> Callable[[], bool]:
    """Every limit the step gives holds on the newest reading (a metric without a datapoint: not yet)."""
    limits = {"max_offset_lag": step.args.get("max_offset_lag"), "max_time_lag_s": step.args.get("max_time_lag_s")}
    last: dict[str, Any] = {"at": -1e9, "ok": False}

    def check() -> bool:
        if time.monotonic() - last["at"] >= _LAG_READ_EVERY_S:
            last["at"] = time.monotonic()
            got = ctx.target.consumer_lag() or {}
            last["ok"] = all(got.get(k) is not None and got[k] <= v for k, v in limits.items() if v is not None)
        return bool(last["ok"])
    return check


def wait_until(step: Step, ctx: StepContext) -> StepOutcome:
    """Wait for the step's condition, at most its ``timeout_s``; a status line every few seconds."""
    assert step.wait_for is not None and step.timeout_s is not None
    cond = _condition(step.wait_for, step, ctx)
    started = time.monotonic()
    deadline, next_note = started + step.timeout_s, started + _FIRST_NOTE_S
    last_error = ""
    while time.monotonic() < deadline:
        try:
            if cond():
                return StepOutcome(True, f"{step.wait_for}: true")
        except DriverError as exc:  # an API that does not answer this once is "not yet", not the end of the drill
            last_error = f" (last error: {exc})"
        if ctx.on_wait is not None and time.monotonic() >= next_note:
            next_note += _NOTE_EVERY_S
            why = ctx.live.result().why if step.wait_for.startswith("synthetic") else ""
            ctx.on_wait(f"waiting for {step.wait_for.replace('_', ' ')}: {time.monotonic() - started:.0f} s "
                        f"(budget {ctx.budget_of(step):.3g} s, gives up after {step.timeout_s:g} s)"
                        + (f": {why}" if why else ""))
        time.sleep(ctx.poll_s)
    return StepOutcome(False, f"{step.wait_for}: still false after {step.timeout_s:.0f} s{last_error}")


def run_step(step: Step, ctx: StepContext) -> StepOutcome:
    """Run ``step``; failures of the target become a failed outcome, never an exception."""
    if step.kind == "manual":
        return ctx.manual(step)
    if step.kind == "shell":
        cmd = fill(step.command, ctx.variables)
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=step.timeout_s or 60,
                                 stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return StepOutcome(False, f"{type(exc).__name__}: {exc}")
        tail = (res.stdout.strip().splitlines() or [""])[-1][:200]
        return StepOutcome(res.returncode == 0, f"exit {res.returncode}: {tail or res.stderr.strip()[-200:]}")
    if step.kind == "action" and step.call in RESTORE_CALLS:
        ok, detail, result = run_restore_step(step, ctx)
        return StepOutcome(ok, detail, result=result)
    if step.kind == "action":
        assert step.call is not None
        try:  # the driver waits for the action's effect, at most the step's timeout_s
            with deadline(step.timeout_s):
                result = operations.apply(ctx.target, step.call, fill(step.args, ctx.variables))
        except Exception as exc:  # noqa: BLE001 - a failed action is a failed step, journaled
            return StepOutcome(False, f"{step.call} failed: {exc}")
        as_json = json.loads(json.dumps(result, default=str)) if isinstance(result, dict) else None
        if step.wait_for is None:
            return StepOutcome(True, f"{step.call}: {result}", result=as_json)
        waited = wait_until(step, ctx)
        return StepOutcome(waited.ok, f"{step.call}: {result}; {waited.detail}", result=as_json)
    return wait_until(step, ctx)
