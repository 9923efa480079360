"""The gameday control: journals every activity into the gameday journal (one timeline with load and
faults), journals each fault's inverse before the fault runs, and enforces the environment's stop
conditions: a breach interrupts the run so the rollbacks play (exit 4).

Declared in an experiment as::

    controls:
      - name: gameday
        provider: {type: python, module: gameday.chaos.controls}

``gameday chaos run`` adds it when an experiment does not.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from chaoslib.types import Activity, Configuration, Experiment, Run, Secrets, Settings
from chaoslib.types import Journal as CtkJournal

from gameday import operations, spellings
from gameday.chaos.session import reset, session_for
from gameday.errors import ConfigError
from gameday.journal import Journal
from gameday.load.run import recent_window

__all__ = ["configure_control", "before_activity_control", "after_activity_control", "cleanup_control"]



def _operation(func: str) -> str:
    """The registry's name of a chaos action as the experiment writes it (old spellings included)."""
    return spellings.resolve(func, quiet=True)[0]

_state: dict[str, Any] = {}


def configure_control(configuration: Configuration = None, secrets: Secrets = None, settings: Settings = None,
                      experiment: Experiment = None) -> None:
    s = session_for(configuration)
    s.out_dir.mkdir(parents=True, exist_ok=True)
    j = Journal(s.out_dir / "gameday-journal.jsonl")
    s.journal = j  # the background load journals its progress here too: one timeline
    url = (configuration or {}).get("gameday_grafana_url")
    if url:  # this control is an adapter at the edge, like the CLI: the token comes from its environment
        from gameday.grafana.annotations import Annotator

        annotator = Annotator(url=url, token=os.environ.get("GRAFANA_TOKEN"), run_id=s.run_id, kind_of_run="chaos")
        j.listeners.append(annotator)
        _state["annotator"] = annotator
    try:
        s.start_heartbeat(j)
    except Exception as exc:  # noqa: BLE001 - a target without a writer endpoint: the lag probe says so
        j.record("heartbeat.failed", "control", {}, error=f"{type(exc).__name__}: {exc}")
    j.record("chaos.start", "control", {"title": (experiment or {}).get("title"), "environment": s.environment.name,
                                        "environment_file": str(Path(s.env_file).resolve()), "run_id": s.run_id})
    stop = threading.Event()
    _state.update(journal=j, stop=stop, rollback=False)
    sc = s.environment.stop_conditions
    if sc is not None:
        threading.Thread(target=_watch, args=(configuration, sc, stop, j), name="stop-conditions", daemon=True).start()


def _watch(configuration: Configuration, sc: Any, stop: threading.Event, j: Journal) -> None:
    """Check the stop conditions every second; a breach sustained for ``for_s`` interrupts the run."""
    breached_since: float | None = None
    while not stop.wait(1.0):
        load = session_for(configuration).current_load()
        w = recent_window(load.progress, sc.window_s) if load else None
        if w is None:
            continue
        ratio, p95 = w["error_ratio"], w["p95_ms"]
        bad = ratio > sc.max_error_ratio or (sc.max_p95_ms is not None and p95 > sc.max_p95_ms)
        if not bad:
            breached_since = None
            continue
        breached_since = breached_since or time.monotonic()
        if time.monotonic() - breached_since >= sc.for_s and not _state.get("rollback"):
            j.record("stop_condition.breached", "control", {"error_ratio": round(ratio, 4), "p95_ms": p95,
                                                             "limits": sc.model_dump()})
            os.kill(os.getpid(), signal.SIGUSR1)  # chaoslib: stop now, play the rollbacks
            return


def _name(context: Activity) -> tuple[str, str]:
    provider = context.get("provider", {})
    return context.get("name", "?"), provider.get("func", "?")


def before_activity_control(context: Activity, configuration: Configuration = None, secrets: Secrets = None,
                            experiment: Experiment = None) -> None:
    j: Journal | None = _state.get("journal")
    if j is None:
        return
    name, func = _name(context)
    rollbacks = [a.get("name") for a in (experiment or {}).get("rollbacks", [])]
    if name in rollbacks:
        _state["rollback"] = True
    j.record("activity.start", "chaos", {"name": name, "type": context.get("type"), "func": func})
    if _operation(func) in operations.CHAOS_FAULTS and name not in rollbacks:
        s = session_for(configuration)
        try:
            op, args = operations.from_chaos(func, context.get("provider", {}).get("arguments") or {}, s.environment)
        except ConfigError:
            return  # the action itself fails on the same arguments and applies nothing
        j.record("fault.intent", "chaos", operations.intent(op, args))


def after_activity_control(context: Activity, state: Run, configuration: Configuration = None,
                           secrets: Secrets = None, experiment: Experiment = None) -> None:
    j: Journal | None = _state.get("journal")
    if j is None:
        return
    name, func = _name(context)
    status = (state or {}).get("status")
    j.record("activity.end", "chaos", {"name": name, "func": func, "status": status,
                                       "output": str((state or {}).get("output"))[:300]},
             error="".join((state or {}).get("exception") or [])[-300:] or None)
    rollbacks = [a.get("name") for a in (experiment or {}).get("rollbacks", [])]
    inverse = _operation(func)
    if name in rollbacks and inverse in operations.OPERATIONS and operations.OPERATIONS[inverse].role == "inverse":
        seq = _undone_intent(context, configuration, j)
        j.record("fault.inverse_applied" if status == "succeeded" else "fault.inverse_failed", "chaos",
                 {"inverse": inverse, "intent_seq": seq})


def _undone_intent(context: Activity, configuration: Configuration, j: Journal) -> int | None:
    """The ``seq`` of the fault intent this rollback undoes (by its inverse and arguments)."""
    from gameday.drill.recover import intent_for_inverse
    from gameday.journal import read_journal

    try:
        op, args = operations.from_chaos(context.get("provider", {}).get("func", "?"),
                                         context.get("provider", {}).get("arguments") or {},
                                         session_for(configuration).environment)
    except ConfigError:
        return None
    return intent_for_inverse(read_journal(j.path), op, args)


def after_experiment_control(context: Experiment, state: CtkJournal, configuration: Configuration = None,
                             secrets: Secrets = None) -> None:
    j: Journal | None = _state.get("journal")
    if j is not None:
        j.record("chaos.end", "control", {"status": (state or {}).get("status"), "deviated": (state or {}).get("deviated")})


def cleanup_control() -> None:
    stop: threading.Event | None = _state.get("stop")
    if stop is not None:
        stop.set()
    reset()
    j: Journal | None = _state.pop("journal", None)
    if j is not None:
        j.close()
    annotator = _state.pop("annotator", None)
    if annotator is not None:
        annotator.close()
