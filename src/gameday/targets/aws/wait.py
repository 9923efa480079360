"""Waiting for an action's effect: botocore's waiters where AWS defines one, one poll loop elsewhere.

Every wait is bounded by the running step's deadline (``gameday.targets.deadline``; the environment's
``aws.wait_timeout_s`` outside a step) and polls every ``aws.waiter_delay_s``. A wait that runs out
raises a DriverError naming what it waited for, so the step fails saying so. In a plan nothing waits.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from botocore import xform_name
from botocore.exceptions import WaiterError
from botocore.waiter import WaiterModel, create_waiter_with_client

from gameday.errors import DriverError
from gameday.targets.aws.session import Actions, AwsSession, boundary, transient
from gameday.targets.deadline import remaining

__all__ = ["waiter", "until", "WAIT_TIMEOUT", "TERMINAL"]

WAIT_TIMEOUT = "WaitTimeout"  # the DriverError code of a wait that ran out of time
TERMINAL = "TerminalState"  # ... of a wait stopped at once because what it waited on can no longer get there
T = TypeVar("T")


def _timed_out(what: str, waited_s: float, last: str = "") -> DriverError:
    return DriverError(f"timed out after {waited_s:.0f} s waiting for {what}{f' (last seen: {last})' if last else ''}",
                       code=WAIT_TIMEOUT)


def _with_failures(client: Any, name: str, failures: Iterable[str]) -> Any:
    """botocore's waiter ``name`` with more failure states (its own acceptors first, unchanged): botocore's
    ``db_instance_available`` stops on five states, and waits out the others RDS never leaves by itself."""
    import botocore.session  # the waiter definitions botocore ships (a loader of its own: the client's is private)

    config = botocore.session.get_session().get_component("data_loader").load_service_model(
        client.meta.service_model.service_name, "waiters-2")
    key = next(k for k in config["waiters"] if xform_name(k) == name)
    one = dict(config["waiters"][key])
    success = next(a for a in one["acceptors"] if a["state"] == "success")
    known = {a.get("expected") for a in one["acceptors"]}
    one["acceptors"] = [*one["acceptors"], *({"matcher": "pathAny", "argument": success["argument"], "state": "failure",
                                               "expected": state} for state in sorted(failures) if state not in known)]
    return create_waiter_with_client(key, WaiterModel({"version": 2, "waiters": {key: one}}), client)


def waiter(s: AwsSession, acts: Actions, service: str, region: str | None, name: str, what: str,
           *, failures: Iterable[str] = (), **params: Any) -> None:
    """botocore's waiter ``name`` (e.g. ``db_instance_available``), within the step's time; ``failures``: more
    states that stop it at once (a TerminalState DriverError naming the state)."""
    if acts.plan_only:
        return
    delay = s.settings.waiter_delay_s
    budget = remaining(s.settings.wait_timeout_s)
    attempts = max(1, math.ceil(budget / delay))
    started = time.monotonic()
    try:  # a WaiterError is a BotoCoreError: caught here, before the boundary would translate it
        with boundary(f"wait {name}"):
            client = s.client(service, region)
            w = _with_failures(client, name, failures) if failures else client.get_waiter(name)
        w.wait(**params, WaiterConfig={"Delay": delay, "MaxAttempts": attempts})
    except WaiterError as exc:
        err = (exc.last_response or {}).get("Error") or {}
        if "Max attempts exceeded" in str(exc):
            raise _timed_out(what, time.monotonic() - started, err.get("Code", "")) from None
        if err:  # an error the waiter does not expect (the resource is gone, access denied)
            raise DriverError(f"waiting for {what}: {err.get('Message', exc)}", code=err.get("Code")) from None
        reason = str(exc.kwargs.get("reason", exc))
        state = re.search(r'matched expected path: "([^"]+)"', reason)
        if "terminal failure state" in reason:  # one of the waiter's failure acceptors (deleted, failed, ...)
            raise DriverError(f"gave up waiting for {what}: it is {state.group(1) if state else reason}, a terminal "
                              "state", code=TERMINAL) from None
        raise DriverError(f"waiting for {what}: {reason}", code="WaiterFailed") from None
    acts.waits.append(f"{what}: {time.monotonic() - started:.1f} s")


def until(s: AwsSession, acts: Actions, what: str, check: Callable[[], T | None],
          describe: Callable[[], str] | None = None, terminal: Callable[[], str | None] | None = None) -> T | None:
    """Poll ``check`` (inside the error boundary) until it returns something truthy; botocore has no waiter
    for this condition (a writer that changed zone, a deployment's ready replicas, an ASG's in-service
    count, a global cluster's new primary), so the loop is ours. Returns what ``check`` returned.
    ``terminal`` says (a sentence) when what is waited on can no longer get there: the wait fails at once."""
    if acts.plan_only:
        return None
    delay = s.settings.waiter_delay_s
    started = time.monotonic()
    end = started + remaining(s.settings.wait_timeout_s)
    seen_error = ""
    while True:
        try:
            with boundary(f"wait for {what}"):
                got = check()
        except DriverError as exc:  # a throttle, a 5xx, no answer: not yet (access denied, not found: at once)
            if not transient(exc):
                raise
            got, seen_error = None, str(exc)
        if not got and terminal is not None:
            with boundary(f"wait for {what}"):
                stuck = terminal()
            if stuck:
                raise DriverError(f"gave up waiting for {what}: {stuck}, a terminal state", code=TERMINAL)
        if got:
            acts.waits.append(f"{what}: {time.monotonic() - started:.1f} s")
            return got
        now = time.monotonic()
        if now >= end:
            last = seen_error
            if describe is not None and not seen_error:
                with boundary(f"describe {what}"):
                    last = describe()
            raise _timed_out(what, now - started, last)
        time.sleep(min(delay, end - now))
