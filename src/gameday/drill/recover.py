"""Undo whatever a crashed run left applied, from its journal alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gameday.journal import Journal, read_journal
from gameday.targets.base import Target

__all__ = ["pending_inverses", "recover"]


def pending_inverses(journal_path: Path) -> list[dict[str, Any]]:
    """Faults whose intent was journaled but whose inverse was not (in journal order)."""
    events = read_journal(journal_path)
    undone = sum(1 for e in events if e.kind == "fault.inverse_applied")
    intents = [e.value for e in events if e.kind == "fault.intent"]
    return intents[undone:]


def recover(journal_path: Path, target: Target) -> list[dict[str, Any]]:
    """Apply the pending inverses; each is journaled (actor ``recover``) once it is done."""
    pending = pending_inverses(journal_path)
    if not pending:
        return []
    j = Journal(journal_path)
    try:
        for intent in reversed(pending):
            inverse = intent["inverse"]
            args = intent["args"] if inverse == "restore_zone" else {}
            result = getattr(target, inverse)(**args)
            j.record("fault.inverse_applied", "recover", {"inverse": inverse, "fault": intent["action"], "result": result})
    finally:
        j.close()
    return pending
