"""Run a load profile in Locust's own processes (local, or master + N workers), watch its progress,
abort on a hard limit after its grace period, and judge the result. No ``locust`` import here.

A locustfile written the plain Locust way (no gameday users: ``gameday.load.profile``) runs as Locust
runs it, closed model (with ``--workers N``: Locust's master and N workers), and is judged from Locust's own
(aggregated) statistics (``gameday.load.closed``). Either way
Locust's own error lines (locust.log) reach the summary, so the terminal shows why a run went wrong.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gameday.errors import ConfigError
from gameday.journal import Event, Journal
from gameday.load.gate import GATE_START, LOAD_RESULT, summary_from_journal
from gameday.load.judge import TickFilter
from gameday.load.limits import HardLimits
from gameday.load.profile import CLOSED, profile_kind
from gameday.load.recent import lookback, window_of
from gameday.load.slo import Slo
from gameday.load.summary import LATE_SHARE, SATURATED_CPU
from gameday.load.tail import ProgressTail, iter_progress, last_records
from gameday.load.windows import LOAD_WINDOW, WindowTally
from gameday.procs import die_with_parent, free_port
from gameday.reasons import FAILURES, ReasonTally
from gameday.service.ids import IdScheme
from gameday.service.resolved import SERVICE_ENV, Service

__all__ = ["LoadRun", "write_ledger", "read_progress", "recent_window", "check_profile", "check_windowed",
           "locust_said"]

_DRAIN_S = 3.0
FAILURES_EVERY_S = 5.0  # the load's failure reasons go to the journal this often (aggregated), and at the end


@dataclass
class LoadRun:
    """Everything ``gameday load run|gate`` does, drivable from Python."""

    profile: Path
    host: str
    out_dir: Path
    rate: float = 100.0
    duration: float = 30.0
    batch: int = 1
    workers: int = 1
    max_connections: int = 500
    users: int = 10
    timeout_s: float = 5.0
    slos: list[Slo] = field(default_factory=list)
    hard_limits: list[Slo] = field(default_factory=list)
    grace_s: float = 5.0
    on_progress: Callable[[dict[str, Any]], None] = lambda rec: None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    service: Service | None = None  # default (None): the lab's own ingest API at ``host``
    kind: str = "engine"  # set by the check: "engine" (gameday's users) or "closed" (a plain Locust locustfile)
    log_from: int = 0
    journal: Journal | None = None  # gate.start, failures, load.result go here (else they are kept in memory)
    start_extra: dict[str, Any] = field(default_factory=dict)  # more for gate.start (e.g. the environment file)
    gate: bool = False  # a gate (its SLOs judged) rather than a plain load run: the reports' title
    events: list[Event] = field(default_factory=list)  # what this run journaled: its summary is judged on them
    reasons: ReasonTally = field(default_factory=ReasonTally)
    ledger: Path | None = None  # where ledger.txt goes (default: out_dir; a drill's: its run folder's top)
    service_headers: bool = False  # a plain locustfile's users send the service description's headers
    _tail: ProgressTail | None = field(default=None, init=False)  # progress.jsonl, read as it grows
    _windows: WindowTally = field(default_factory=lambda: WindowTally(set()), init=False)  # windowed SLOs
    keep_ticks: bool = False  # every second kept in ``events`` (a capacity stair's, short); else only those the
    _ticks: TickFilter | None = field(default=None, init=False)  # verdict can use: memory flat over a soak

    def settings(self) -> dict[str, Any]:
        """gate.start's value: everything the summary is judged against."""
        return {"profile": str(self.profile), "host": self.host, "rate": self.rate, "duration": self.duration,
                "batch": self.batch, "workers": self.workers, "max_connections": self.max_connections,
                "users": self.users, "timeout_s": self.timeout_s, "kind": self.kind, "run_id": self.run_id,
                "slos": [{"expr": x.expr, "default": x.default} for x in self.slos],
                "hard_limits": [x.expr for x in self.hard_limits], "grace_s": self.grace_s, "gate": self.gate,
                **self.start_extra}

    def _record(self, kind: str, actor: str, value: dict[str, Any]) -> Event:
        ev = self.journal.record(kind, actor, value) if self.journal is not None else \
            Event(len(self.events) + 1, time.monotonic_ns(), time.time(), kind, actor, value)
        self.events.append(ev)
        return ev

    def _flush_failures(self) -> None:
        reasons = self.reasons.drain()
        if reasons:
            self._record(FAILURES, "load", {"source": "load", "reasons": reasons})

    def stop(self) -> None:
        """Ask the generator to stop early (it drains, reports and exits): used by drills."""
        (self.out_dir / "abort").write_text("stopped by the caller")

    def _check(self) -> None:
        if not self.profile.exists():
            raise ConfigError("load profile not found", file=str(self.profile))
        if self.rate <= 0 or self.duration <= 0 or self.batch < 1 or self.workers < 1:
            raise ConfigError("rate and duration must be > 0, batch and workers >= 1", field="--rate/--duration")
        self.kind = check_profile(self.profile, bool(self.hard_limits), self.service_headers)
        check_windowed(self.kind, self.slos, self.hard_limits)

    def _closed_argv(self) -> list[str]:
        return [sys.executable, "-m", "gameday.load.closed", "-f", str(self.profile), "--host", self.host,
                "--headless", "--only-summary", "--loglevel", "WARNING", "-u", str(self.users), "-r", str(self.users),
                "-t", f"{math.ceil(self.duration)}s", "--stop-timeout", f"{math.ceil(self.timeout_s)}s",
                "--gameday-out", str(self.out_dir.resolve())]

    def _argv(self) -> list[str]:
        return [sys.executable, "-m", "locust", "-f", str(self.profile), "--host", self.host, "--headless",
                "--only-summary", "--loglevel", "WARNING",
                "--gameday-rate", str(self.rate), "--gameday-duration", str(self.duration),
                "--gameday-batch", str(self.batch), "--gameday-workers", str(self.workers),
                "--gameday-max-connections", str(self.max_connections), "--gameday-timeout", str(self.timeout_s),
                "--gameday-run-id", self.run_id, "--gameday-out", str(self.out_dir.resolve())]

    def _start(self) -> list[subprocess.Popen[bytes]]:
        log = open(self.out_dir / "locust.log", "ab")
        self.log_from = log.tell()
        parent = os.getpid()  # the generator dies with its runner, even a SIGKILLed one
        env = {**os.environ, **({SERVICE_ENV: self.service.handoff()} if self.service is not None else {})}
        common = {"stdin": subprocess.DEVNULL, "stdout": log, "stderr": subprocess.STDOUT, "start_new_session": True,
                  "preexec_fn": lambda: die_with_parent(parent), "env": env}
        if self.service_headers:
            env.update({"GAMEDAY_SERVICE_HEADERS": "1", "GAMEDAY_RUN_ID": self.run_id})
        argv, module = (self._closed_argv(), "gameday.load.closed") if self.kind == CLOSED else (self._argv(), "locust")
        if self.workers == 1:
            return [subprocess.Popen(argv, **common)]  # type: ignore[call-overload]
        # Locust's own distributed mode, on loopback: a master that aggregates, N workers that make the requests
        port = free_port()
        master = subprocess.Popen(argv + ["--master", "--expect-workers", str(self.workers),
                                          "--expect-workers-max-wait", "60", "--master-bind-host", "127.0.0.1",
                                          "--master-bind-port", str(port)], **common)  # type: ignore[call-overload]
        workers = [subprocess.Popen([sys.executable, "-m", module, "-f", str(self.profile), "--worker",
                                     "--master-host", "127.0.0.1", "--master-port", str(port), "--loglevel", "WARNING"],
                                    **common) for _ in range(self.workers)]  # type: ignore[call-overload]
        return [master, *workers]

    def execute(self) -> dict[str, Any]:
        """Run, judge, write summary.json, junit.xml, report.html and ledger.txt; return the summary."""
        self._check()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for old in [*self.out_dir.glob("part-*.json"), *self.out_dir.glob("ledger-*.txt"),
                    self.out_dir / "progress.jsonl", self.out_dir / "abort",
                    self.out_dir / "closed.json"]:
            old.unlink(missing_ok=True)
        self.events = []
        self.start_windows()
        self._record(GATE_START, "runner", self.settings())
        procs = self._start()
        try:
            aborted = self._watch(procs)
        finally:
            _stop(procs)
        self._new_progress()  # the seconds the generator wrote as it stopped (its last tick)
        for w in self._windows.close_all():
            self._record(LOAD_WINDOW, "runner", w)
        said = locust_said(self.out_dir / "locust.log", self.log_from)
        parts = [json.loads(p.read_text()) for p in sorted(self.out_dir.glob("part-*.json"))] \
            if self.kind != CLOSED else []
        closed = self.out_dir / "closed.json"
        result = {"kind": self.kind, "aborted": aborted, "locust_said": said,
                  "parts": [{k: v for k, v in p.items() if k != "ledger"} for p in parts],
                  "closed": json.loads(closed.read_text()) if self.kind == CLOSED and closed.exists() else None}
        self._flush_failures()
        self._record(LOAD_RESULT, "load", result)
        summary = summary_from_journal(self.events)
        write_ledger(parts, self.ledger or self.out_dir / "ledger.txt", spilled_in=self.out_dir)
        from gameday.report.load import write_load_reports

        write_load_reports(summary, iter_progress(self.out_dir / "progress.jsonl"), self.out_dir)
        return summary

    def _watch(self, procs: list[subprocess.Popen[bytes]]) -> str | None:
        """Pass progress on until the generator exits (or its deadline); the hard-limit abort, if one tripped."""
        aborted: str | None = None
        limits = HardLimits(self.hard_limits, self.grace_s)
        deadline = time.monotonic() + self.duration + _DRAIN_S + self.timeout_s + 60
        flushed = time.monotonic()
        self._tail = ProgressTail(self.out_dir / "progress.jsonl")
        while procs[0].poll() is None and time.monotonic() < deadline:
            time.sleep(0.25)
            aborted = self.supervise_once(limits, aborted)
            if self.kind != CLOSED and len(list(self.out_dir.glob("part-*.json"))) >= self.workers:
                (self.out_dir / "abort").write_text("done: every generator process reported")  # no idle drain
            if time.monotonic() - flushed >= FAILURES_EVERY_S:
                self._flush_failures()
                flushed = time.monotonic()
        return aborted

    def supervise_once(self, limits: HardLimits, aborted: str | None) -> str | None:
        """One pass of the supervision loop: the new progress passed on, windows journaled, hard limits fed (the
        abort file written once one trips). Its cost is what arrived since the last pass (``make bench-soak``)."""
        for rec in self._new_progress():
            broken = limits.feed(rec)
            if broken and aborted is None:
                aborted = broken
                (self.out_dir / "abort").write_text(aborted)
        return aborted

    def start_windows(self) -> None:
        """The windowed SLOs' tallies, empty (``execute`` calls it; so does ``make bench-soak``)."""
        self._windows = WindowTally({s.over_s for s in self.slos if s.over_s})
        self._ticks = None if self.keep_ticks else \
            TickFilter(self.slos, late_share=LATE_SHARE, saturated_cpu=SATURATED_CPU)

    def _new_progress(self) -> list[dict[str, Any]]:
        """Progress records not yet passed on: each one's failure reasons tallied, the rest to ``on_progress``."""
        if self._tail is None:
            self._tail = ProgressTail(self.out_dir / "progress.jsonl")
        out = []
        for rec in self._tail.read_all_new():
            for w in self._windows.feed(rec):
                self._record(LOAD_WINDOW, "runner", w)
            rec.pop("hist", None)  # the windows have it; progress.jsonl keeps it
            self.reasons.merge(rec.pop("failures", None) or {})
            self.on_progress(rec)  # the caller journals it (load.tick); the summary is judged on it here too
            kept = rec if self._ticks is None else self._ticks.keep(rec)
            if kept is not None:
                self.events.append(Event(len(self.events) + 1, time.monotonic_ns(), time.time(), "load.tick", "load",
                                         kept))
            out.append(rec)
        return out


def check_profile(profile: Path, hard_limits: bool, service_headers: bool = False) -> str:
    """The profile's kind (engine or closed); ConfigError for what a closed-model locustfile cannot do here."""
    kind = profile_kind(profile)
    if kind != CLOSED and service_headers:
        raise ConfigError("--service-headers is for a locustfile written the plain Locust way: gameday's own users "
                          "already send the service description's headers", field="--service-headers")
    if kind == CLOSED and hard_limits:
        raise ConfigError("hard limits are judged on the gameday engine's per-second progress, which a plain "
                          "Locust locustfile does not give", field="--hard-limit")
    return kind


def check_windowed(kind: str, slos: list[Slo], hard_limits: list[Slo]) -> None:
    """ConfigError for a window where none can be judged: a hard limit (judged per second already), a closed-model
    run (no per-second histograms)."""
    for h in hard_limits:
        if h.over_s:
            raise ConfigError(f"{h.expr!r}: a hard limit is judged on each second (with --grace), not over a window",
                              field="--hard-limit")
    windowed = [s.expr for s in slos if s.over_s]
    if kind == CLOSED and windowed:
        raise ConfigError(f"{windowed[0]!r}: windows are judged on the gameday engine's per-second progress, which "
                          "a plain Locust locustfile does not give", field="--slo")


_SAID = ("error", "exception", "traceback", "critical", "unrecognized", "no user class", "could not")


def locust_said(log: Path, offset: int = 0) -> list[str]:
    """Locust's own error lines from this run's part of locust.log (the last 8)."""
    if not log.exists():
        return []
    with open(log, "rb") as f:
        f.seek(offset)
        lines = f.read().decode(errors="replace").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and any(w in ln.lower() for w in _SAID)][-8:]


def read_progress(path: Path) -> list[dict[str, Any]]:
    """The per-second progress records written so far (a line still being written is left out). Reads the
    whole file: for what runs while the file grows, ``ProgressTail`` (incremental) or ``last_records``."""
    return list(iter_progress(path))


def recent_window(path: Path, seconds: float) -> dict[str, Any] | None:
    """The last ``seconds`` of progress as ``gameday.load.recent.window_of`` reads them (None before the
    generator has measured anything). Reads the file's end only: its cost does not grow with the run's age."""
    n = max(1, int(seconds))
    recs = last_records(path, n)
    extended = last_records(path, n + lookback(recs))  # the seconds in which the window's requests started
    return window_of(extended[-n:], extended[:-n])


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)  # its own session: only this generator's processes
            p.wait(5)


def join_spilled(folder: Path, dest: Path) -> Path:
    """The engine's per-second hand-overs (``ledger-<worker>.txt``) so far, joined into ``dest`` while the load
    runs; a line a worker is still appending is left for the next join."""
    with open(dest, "wb") as f:
        for spilled in sorted(folder.glob("ledger-*.txt")):
            try:
                data = spilled.read_bytes()
            except FileNotFoundError:  # joined into ledger.txt as the load ended
                continue
            f.write(data[:data.rfind(b"\n") + 1])
    return dest


def write_ledger(parts: list[dict[str, Any]], path: Path, spilled_in: Path | None = None) -> None:
    """Every event id by outcome, compactly (``gameday.service.ids``): a line per run of ids answered in the
    same millisecond, with the time (a: acknowledged, f: refused or never sent, i: indeterminate). The engine
    hands its ranges over every second (``ledger-<worker>.txt`` in the load's folder ``spilled_in``, default beside
    ``path``; joined here and removed); what a part still carries follows."""
    with open(path, "w") as f:
        for spilled in sorted((spilled_in or path.parent).glob("ledger-*.txt")):
            with open(spilled) as src:
                shutil.copyfileobj(src, f)
            spilled.unlink()
        for p in parts:
            led = p["ledger"]
            ids = IdScheme(led["prefix"], uuid=bool(led.get("uuid")))
            for mark, ranges in led["ranges"].items():
                for first, count, *t in ranges:
                    f.write(ids.ledger_line(mark, int(first), int(count), t[0] if t else None))
