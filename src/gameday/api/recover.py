"""``gameday recover``: undo what any run (drill, chaos experiment, load gate) left applied, from its journal."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gameday.api.targets import aws_target
from gameday.config import load_environment
from gameday.drill.recover import environment_file, pending_inverses, recover
from gameday.journal import read_journal
from gameday.lab.control import DEFAULT_DIR, LabClient
from gameday.targets.base import Target

__all__ = ["RecoverResult", "recover_journal"]


@dataclass(frozen=True)
class RecoverResult:
    journal: Path
    kind: str  # drill | chaos | gate
    undone: list[dict[str, Any]]  # the intents whose inverse was applied now


def recover_journal(journal: Path, *, state_dir: Path = DEFAULT_DIR, confirm: str | None = None) -> RecoverResult:
    """Apply every pending inverse of ``journal`` on the environment the run used."""
    events = read_journal(journal)
    env_file = environment_file(events, journal)
    kind = next(e.kind for e in events if e.kind in ("drill.start", "chaos.start", "gate.start",
                                                     "restore_test.start")).split(".")[0]
    if not pending_inverses(events):
        return RecoverResult(journal, kind, [])
    env = load_environment(env_file)
    target: Target
    if env.kind == "aws":
        target = aws_target(env, confirm=confirm)
    else:
        from gameday.targets.local import LocalTarget

        LabClient(state_dir)  # a LabError (exit 1) when no lab runs there: nothing can be undone on it
        target = LocalTarget(env, state_dir=state_dir)
    return RecoverResult(journal, kind, recover(journal, target))
