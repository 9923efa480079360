"""The stream's consumer lag through a drill: the target's reading (on AWS, MSK's CloudWatch metrics of the
environment's consumer group) journaled as ``observe.consumer_lag`` every ``observe_every_s``, from the warm-up
until the run ends, so the report and the timeline show it beside the client-visible figures."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from gameday.config import Environment
from gameday.errors import GamedayError
from gameday.journal import Journal
from gameday.targets.base import Target

__all__ = ["LagWatch", "start", "stop"]


@dataclass
class LagWatch:
    target: Target
    journal: Journal
    every_s: float
    max_s: float  # a safety ceiling, like the background's
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def read_once(self) -> None:
        try:
            got = self.target.consumer_lag()
        except GamedayError as exc:  # CloudWatch did not answer this once: journaled, the next reading may
            self.journal.record("observe.consumer_lag", "target", {"max_offset_lag": None, "max_time_lag_s": None},
                                error=str(exc))
            return
        if got is not None:
            self.journal.record("observe.consumer_lag", "target", got)

    def _run(self) -> None:
        end = time.monotonic() + self.max_s
        while not self._stop.is_set() and time.monotonic() < end:
            self.read_once()
            self._stop.wait(self.every_s)

    def start(self) -> LagWatch:
        self._thread = threading.Thread(target=self._run, name="gameday-lag", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self.read_once()  # the last reading: how far behind the consumers were when the run ended


def start(target: Target, journal: Journal, env: Environment, max_s: float) -> LagWatch | None:
    """A watch when the environment names a consumer group (AWS ``msk_consumer_lag``), else None."""
    lag = env.aws.msk_consumer_lag if env.aws is not None else None
    return None if lag is None else LagWatch(target, journal, lag.observe_every_s, max_s).start()


def stop(watch: LagWatch | None) -> None:
    if watch is not None:
        watch.stop()
