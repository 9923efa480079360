"""Undo whatever a run left applied, from its journal alone: a drill's, a chaos experiment's or a gate's.

Every run journals a ``fault.intent`` (the fault, its inverse and the inverse's arguments, from the
operation registry) *before* it applies a fault or a condition, and a ``fault.inverse_applied`` (or
``fault.inverse_failed``) once it tried to undo one; the outcome names the intent it undoes by the intent's
``seq`` (``intent_seq``). Journals written before ``intent_seq`` existed are paired by count: inverses are
applied last-in first-out, so the intents still pending are the earliest ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gameday import operations
from gameday.errors import ConfigError
from gameday.journal import Event, Journal, read_journal
from gameday.targets.base import Target

__all__ = ["pending_inverses", "recover", "environment_file", "intent_for_inverse"]

_STARTS = ("drill.start", "chaos.start", "gate.start", "restore_test.start")


def pending_inverses(events: list[Event]) -> list[dict[str, Any]]:
    """Faults whose intent was journaled but not undone (in journal order); each carries its ``seq``."""
    intents = [{**e.value, "seq": e.seq} for e in events if e.kind == "fault.intent"]
    applied = [e.value for e in events if e.kind == "fault.inverse_applied"]
    undone = {v["intent_seq"] for v in applied if v.get("intent_seq") is not None}
    left = [i for i in intents if i["seq"] not in undone]
    unnamed = sum(1 for v in applied if "intent_seq" not in v)  # older journals: the latest were undone first
    return left[: max(0, len(left) - unnamed)]


def intent_for_inverse(events: list[Event], inverse: str, args: dict[str, Any]) -> int | None:
    """The ``seq`` of the latest pending intent that ``inverse`` with ``args`` undoes (a chaos rollback)."""
    for i in reversed(pending_inverses(events)):
        if i.get("inverse") == inverse and all(args.get(k) == v for k, v in (i.get("inverse_args") or {}).items()):
            return int(i["seq"])
    return None


def environment_file(events: list[Event], journal: Path) -> str:
    """The environment the run used, as its start event recorded it."""
    start = next((e for e in events if e.kind in _STARTS), None)
    if start is None:
        raise ConfigError("not a gameday run journal (no drill.start, chaos.start or gate.start event)",
                          file=str(journal))
    env_file = start.value.get("environment_file")
    if not env_file:
        raise ConfigError(f"the {start.kind} event names no environment_file", file=str(journal))
    return str(env_file)


def recover(journal_path: Path, target: Target) -> list[dict[str, Any]]:
    """Apply the pending inverses (last first); each is journaled (actor ``recover``) once it is done."""
    pending = pending_inverses(read_journal(journal_path))
    if not pending:
        return []
    j = Journal(journal_path)
    try:
        for intent in reversed(pending):
            result = operations.undo(target, intent, journal=j)
            j.record("fault.inverse_applied", "recover", {"inverse": intent["inverse"], "fault": intent["action"],
                                                          "intent_seq": intent["seq"],
                                                          "result": result if isinstance(result, dict) else {}})
    finally:
        j.close()
    return pending
