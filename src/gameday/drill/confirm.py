"""Who confirms a runbook's manual steps in ``drill run``: a person at the terminal (or a script on stdin),
or nobody (``--auto-confirm SECONDS``, journaled as such). On a protected environment a run whose manual
steps nobody can confirm is refused before anything is touched.
"""

from __future__ import annotations

import os
import stat
import sys
import time
from collections.abc import Callable
from typing import Literal, TextIO

from gameday.drill.models import LoadedDrill, Step
from gameday.drill.steps import ManualHandler, StepOutcome
from gameday.errors import ConfigError

__all__ = ["auto_confirm", "ask_operator", "stdin_kind", "manual_handler", "default_operator"]

StdinKind = Literal["terminal", "script", "none"]


def auto_confirm(delay_s: float) -> ManualHandler:
    """Manual steps confirmed automatically after ``delay_s``, and marked so (no person in the loop)."""
    def handler(step: Step) -> StepOutcome:
        time.sleep(delay_s)
        return StepOutcome(True, f"auto-confirmed after {delay_s:g} s (no person in the loop)", auto_confirmed=True)
    return handler


def ask_operator(operator: str, ask: Callable[[str], str], say: Callable[[str], None]) -> ManualHandler:
    """Manual steps confirmed by ``operator``: 'y' confirms, 'n REASON' fails the step; the answer, who gave
    it and when go to the journal with the step."""
    def handler(step: Step) -> StepOutcome:
        say(f"MANUAL STEP {step.id}: {step.name}\n  {step.prompt or step.done_when}\n  done when: {step.done_when}")
        while True:
            try:
                answer = ask(f"{operator}, is it done? [y = confirmed / n REASON = not done] ").strip()
            except EOFError:
                return StepOutcome(False, "nobody answered (end of input)", confirmed_by=None)
            word, _, rest = answer.partition(" ")
            if answer.lower() in ("y", "yes", "done"):
                return StepOutcome(True, f"confirmed by {operator} at {time.strftime('%H:%M:%S')}",
                                   confirmed_by=operator)
            if word.lower() in ("n", "no"):  # "not sure" is no answer: asked again
                reason = rest.strip() or "no reason given"
                return StepOutcome(False, f"{operator} answered not done: {reason}", confirmed_by=operator)
            say("  answer y (confirmed) or n REASON (not done)")
    return handler


def stdin_kind(stream: TextIO | None = None) -> StdinKind:
    """A terminal, a script (a pipe or a file a person prepared), or nobody (/dev/null, closed): a CronJob's pod."""
    stream = stream or sys.stdin
    try:
        if stream.isatty():
            return "terminal"
        mode = os.fstat(stream.fileno()).st_mode
    except (OSError, ValueError, AttributeError):
        return "none"
    return "script" if stat.S_ISFIFO(mode) or stat.S_ISREG(mode) or stat.S_ISSOCK(mode) else "none"


def default_operator() -> str:
    return os.environ.get("USER") or os.environ.get("LOGNAME") or "operator"


def manual_handler(loaded: LoadedDrill, *, auto_confirm_s: float | None, stdin: StdinKind,
                   operator: str, ask: Callable[[str], str], say: Callable[[str], None]) -> ManualHandler:
    """The handler a ``drill run`` uses; ConfigError (exit 2, nothing touched) when a protected environment's
    manual steps could not be confirmed by anyone."""
    if auto_confirm_s is not None:
        return auto_confirm(auto_confirm_s)
    manual = [s.id for s in loaded.runbook.steps if s.kind == "manual"]
    if stdin != "none" or not manual:
        scale = loaded.environment.time_scale
        if manual and scale < 1:
            say(f"note: {loaded.environment.name} compresses time {1 / scale:.0f}x, so a manual step's budget is "
                f"seconds: answer quickly, or practise at human speed with 'gameday rehearse'")
        return ask_operator(operator, ask, say)
    if loaded.environment.protected:
        raise ConfigError(f"the runbook has manual step(s) {', '.join(manual)} and nobody can confirm them here "
                          "(no terminal): run at a terminal, pipe the answers in, or pass --auto-confirm SECONDS",
                          field="--auto-confirm")
    say(f"no terminal: manual step(s) {', '.join(manual)} are auto-confirmed after "
        f"{loaded.drill.manual_confirm_s:g} s (pass --auto-confirm to choose)")
    return auto_confirm(loaded.drill.manual_confirm_s)
