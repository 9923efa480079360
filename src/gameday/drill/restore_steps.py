"""The restore actions as runbook steps: arguments resolved from the run (``before_fault`` is T0, a snapshot
``latest`` the newest before T0), the restore's inverse journaled before it starts, and ``verify_restore``'s
check of the restored instance against the ledger (the service description's ``present_query``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

from gameday import operations
from gameday.drill.store import present_ids
from gameday.errors import ConfigError
from gameday.operations import fill
from gameday.restore.point import resolve_to, snapshot_for
from gameday.service.ids import ACKED, ack_times, read_ledger
from gameday.service.resolved import Service
from gameday.targets.deadline import deadline

if TYPE_CHECKING:
    from gameday.drill.context import StepContext
    from gameday.drill.models import Step

__all__ = ["RESTORE_CALLS", "run_restore_step", "verify_restored", "resolve_args"]

RESTORE_CALLS = ("restore_point_in_time", "restore_snapshot", "verify_restore", "swap_writer", "discard_restore")
_SAMPLE = 20


def resolve_args(call: str, args: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
    """What the driver is given: epoch seconds or "latest" for a point in time, a snapshot's name."""
    out = dict(args)
    if call == "restore_point_in_time":
        out["to"] = resolve_to(out.get("to", "before_fault"), ctx.t_fault)
    if call == "restore_snapshot" and out.get("snapshot", "latest") == "latest":
        out["snapshot"] = snapshot_for(ctx.target.backup_status(), "latest", before=ctx.t_fault).name
    return out


def run_restore_step(step: Step, ctx: StepContext) -> tuple[bool, str, dict[str, Any] | None]:
    """(ok, detail, result) of a restore action; a failure of the driver is a failed step, never an exception."""
    call = step.call
    assert call is not None
    try:
        model = operations.get(call).args  # defaults filled in (checked against the environment at load time)
        args = resolve_args(call, model.model_validate(fill(step.args, ctx.variables)).model_dump(), ctx)
        if operations.get(call).role == "action" and operations.get(call).inverse and ctx.on_intent is not None:
            ctx.on_intent(call, args)  # journaled before: `gameday recover` deletes what a killed run left
        with deadline(step.timeout_s):
            result = dict(operations.apply(ctx.target, call, args))
        if call == "verify_restore":
            result = _verify(result, args["instance"], ctx)
    except Exception as exc:  # noqa: BLE001 - a failed action is a failed step, journaled
        return False, f"{call} failed: {exc}", None
    if call in ("restore_point_in_time", "restore_snapshot"):
        ctx.restores[args["instance"]] = result
    return bool(result.get("ok", True)), _detail(call, result), result


def _verify(found: dict[str, Any], instance: str, ctx: StepContext) -> dict[str, Any]:
    restore = ctx.restores.get(instance, {})
    if ctx.ledger is None:
        raise ValueError("verify_restore needs the run's ledger")
    point = restore.get("restore_point")
    out = verify_restored(str(found["dsn"]), ctx.target.service(), ctx.ledger(), point)
    return {**out, "instance": instance}


def verify_restored(dsn: str, service: Service, ledger: Path, restore_point: float | None) -> dict[str, Any]:
    """The restored instance against the ledger: of the events acknowledged at or before the restore point,
    how many it holds (all, or the backup chain is broken), and of those acknowledged after it."""
    acked = read_ledger(ledger)[ACKED]
    times = ack_times(ledger)
    if service.spec.store is None:  # a restore is checked against the service's own query, or not at all
        raise ConfigError("verify_restore needs the service description's store.present_query", field="service.store")
    with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
        present = present_ids(conn, service.spec.store.present_query, acked)
    point = float("inf") if restore_point is None else float(restore_point)
    before = {i for i in acked if times.get(i, float("inf")) <= point}
    after = acked - before
    missing_before = sorted(before - present)
    return {"restore_point": restore_point, "acked_before": len(before), "present_before": len(before & present),
            "missing_before": len(missing_before), "missing_before_sample": missing_before[:_SAMPLE],
            "acked_after": len(after), "present_after": len(after & present),
            "ok": bool(before) and not missing_before}  # nothing acknowledged by the point: nothing was checked


def _detail(call: str, r: dict[str, Any]) -> str:
    if call == "verify_restore" and not r["acked_before"]:
        return ("verify_restore: no event of the ledger was acknowledged by the restore point, so the restored "
                "instance was checked against nothing")
    if call == "verify_restore":
        return (f"verify_restore: {r['present_before']}/{r['acked_before']} events acknowledged by the restore point "
                f"present ({r['missing_before']} missing); {r['present_after']}/{r['acked_after']} after it")
    if call in ("restore_point_in_time", "restore_snapshot"):
        return (f"{call}: {r.get('instance')} from {r.get('source')}, restore point {r.get('restore_point')}, "
                f"{r.get('restore_s')} s")
    return f"{call}: {r}"
