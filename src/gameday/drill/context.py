"""What a runbook step runs with and what it gives back: the context the runner hands every step (the Target,
the live recovery, the load's ledger so far ...) and the step's outcome. Apart from ``steps`` so that the kinds of
step it dispatches to (``restore_steps``) can take the context without importing the dispatcher."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from gameday.drill.models import Step
from gameday.judge.recovery import Recovery
from gameday.targets.base import Target

__all__ = ["ManualHandler", "RecoveryView", "StepContext", "StepOutcome"]


@dataclass(frozen=True)
class StepOutcome:
    ok: bool
    detail: str
    auto_confirmed: bool = False
    skipped: bool = False  # a responder chose to skip it (rehearsals): recorded, the runbook goes on
    confirmed_by: str | None = None  # the person who answered a manual step
    result: dict[str, Any] | None = None  # what an action returned, as JSON (ARC's figures, a restore's point and duration)


class RecoveryView(Protocol):
    """The live recovery machine (``gameday.drill.live.LiveRecovery``), as the waits see it."""

    def result(self) -> Recovery: ...

    def outage_seen(self) -> bool: ...


# A manual step handler: given the step, return its outcome (auto-confirm, or ask a person).
ManualHandler = Callable[[Step], StepOutcome]


@dataclass
class StepContext:
    target: Target
    live: RecoveryView
    consecutive: int
    t_fault: float
    variables: dict[str, str]
    manual: ManualHandler
    poll_s: float = 0.05
    on_wait: Callable[[str], None] | None = None  # a status line while a wait lasts
    time_scale: float = 1.0
    close_window: Callable[[], None] | None = None  # a planned move's smoke test closes its effect window
    ledger: Callable[[], Path] | None = None  # the load's ledger as answered so far (verify_restore reads it)
    on_intent: Callable[[str, dict[str, Any]], object] | None = None  # journals an action's inverse before it runs
    restores: dict[str, dict[str, Any]] = field(default_factory=dict)  # restored instance -> its restore's result

    def budget_of(self, step: Step) -> float:
        return step.budget_s * self.time_scale
