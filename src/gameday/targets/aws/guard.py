"""The one error boundary every public method of the AWS target runs in."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from gameday.targets.aws.session import Actions, boundary
from gameday.targets.base import FaultResult

__all__ = ["guarded"]

P = ParamSpec("P")
R = TypeVar("R")


def guarded(fn: Callable[P, R]) -> Callable[P, R]:
    """Every public method runs inside the one error boundary (reads included): AWS, chaosaws and Kubernetes
    errors leave it as DriverError with the service's code. What an action waited for goes into its result
    (``waited_for``), so the journal's step says it."""
    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        acts = getattr(args[0], "actions", None) if args else None
        waits = acts.waits if isinstance(acts, Actions) else []
        first = len(waits)
        with boundary(fn.__name__):
            result = fn(*args, **kwargs)
        detail = result.detail if isinstance(result, FaultResult) else result
        if isinstance(detail, dict) and len(waits) > first:
            detail.setdefault("waited_for", waits[first:])
        return result
    return run
