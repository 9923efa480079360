"""``gameday load capacity`` from Python: stairs of open-model load, each a gate, up to the knee
(``gameday.load.capacity``). Every option is checked before a lab starts or a request is sent (exit 2)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gameday.api.lab import lab_session
from gameday.api.load import REFERENCE_CALIBRATION, LoadOptions, check_ranges, lab_service, outside_service
from gameday.config import load_environment
from gameday.errors import ConfigError
from gameday.journal import Journal, read_journal
from gameday.load.capacity import CAPACITY_END, CAPACITY_START, capacity_from_journal, next_rate, served_rate
from gameday.load.slo import Slo
from gameday.runs import claim
from gameday.service.resolved import Service

__all__ = ["CapacityOptions", "run_capacity", "regenerate_capacity_reports"]

COOLDOWN_MAX_S = 10.0  # after a failing stair, the service's queue gets this long at most to drain


@dataclass
class CapacityOptions(LoadOptions):
    max_rate: float = 0.0  # required: the highest rate a stair offers (events/s)
    start_rate: float | None = None  # default: a tenth of max_rate
    target: float | None = None  # the target throughput to project to
    stair_s: float = 10.0  # seconds each stair is held
    factor: float = 1.5  # each stair offers this many times the last until one fails
    resolution: float = 0.1  # then narrowed until the last passing and first failing are this close
    calibration: Path = Path("out/bench-load/calibration.json")
    gate: bool = True

    def kind(self) -> str:
        return "capacity"

    def check_capacity(self) -> tuple[list[Slo], float]:
        """Every capacity option, then the gate's; the SLOs (with the defaults) and the start rate."""
        start = self.start_rate if self.start_rate is not None else self.max_rate / 10
        check_ranges(("--max-rate", self.max_rate, 0 < self.max_rate < math.inf, "a number > 0"),
                     ("--start-rate", start, 0 < start <= self.max_rate, "> 0 and at most --max-rate"),
                     ("--target", self.target or 1.0, 0 < (self.target or 1.0) < math.inf, "a number > 0"),
                     ("--stair", self.stair_s, 1 <= self.stair_s <= 3600, "1-3600 seconds"),
                     ("--factor", self.factor, 1.05 <= self.factor <= 10, "1.05-10"),
                     ("--resolution", self.resolution, 0.01 <= self.resolution <= 1, "0.01-1"))
        self.rate, self.duration = start, self.stair_s
        slos, _ = self.check()
        if not any(s.metric.startswith("p") or s.metric == "max" for s in slos):
            raise ConfigError("a capacity search needs a latency SLO (e.g. --slo 'p95<300ms'): past the knee a "
                              "queue grows, and what a short stair shows of it is latency", field="--slo")
        if self.hard_limits:
            raise ConfigError("a capacity run stops at the first failing stair: it takes no --hard-limit",
                              field="--hard-limit")
        return slos, start


def run_capacity(opts: CapacityOptions, *, on_stair: Callable[[dict[str, Any]], None] = lambda row: None,
                 on_status: Callable[[str], None] = lambda msg: None) -> dict[str, Any]:
    """Climb the stairs to the knee; return summary.json's content (``capacity_rate``: the knee)."""
    slos, start = opts.check_capacity()
    env = load_environment(opts.env)
    svc = outside_service(opts, env)
    if svc is not None:
        seen = f"the service at {svc.redact(svc.url)}: the resources behind it are not visible to gameday" \
            if env.kind != "aws" else f"AWS environment {env.name} ({opts.env})"
        return _climb(opts, svc, slos, start, seen, on_stair)
    with lab_session(opts.env, opts.state_dir, keep=opts.keep_lab, restore=False, on_progress=on_status) as lab:
        svc = lab_service(opts, env, lab.client)
        return _climb(opts, svc, slos, start, _lab_resources(lab.client.status()), on_stair)


def _lab_resources(status: dict[str, Any]) -> str:
    """What the lab had in use, in words: its healthy ingest nodes and its databases."""
    nodes = [n for n in status.get("nodes", []) if n.get("healthy")]
    dbs = [d for d in status.get("dbs", []) if d.get("role") == "primary"]
    return (f"on the lab: {len(nodes)} healthy ingest nodes in {len({n.get('zone') for n in nodes})} zones, "
            f"{len(dbs)} primary database{'s' if len(dbs) != 1 else ''} (PostgreSQL)")


def _calibration(path: Path) -> dict[str, Any]:
    source = path if path.exists() else REFERENCE_CALIBRATION
    try:
        return {**json.loads(source.read_text()), "file": str(source)}
    except (OSError, ValueError):
        return {}


def _climb(opts: CapacityOptions, service: Service, slos: list[Slo], start: float, resources: str,
           on_stair: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    from gameday.load.run import LoadRun

    out = claim(opts.output())
    path = out / "journal.jsonl"
    path.unlink(missing_ok=True)
    journal = Journal(path)
    run_id = opts.run_id
    journal.record(CAPACITY_START, "runner", {
        "profile": str(opts.profile), "host": service.redact(service.url), "run_id": run_id,
        "slos": [{"expr": s.expr, "default": s.default} for s in slos], "start_rate": start,
        "max_rate": opts.max_rate, "stair_s": opts.stair_s, "factor": opts.factor, "resolution": opts.resolution,
        "target": opts.target, "workers": opts.workers, "batch": opts.batch, "max_connections": opts.max_connections,
        "timeout_s": 5.0, "calibration": _calibration(opts.calibration), "resources": resources,
        "environment_file": str(opts.env.resolve())})
    tried: list[tuple[float, str]] = []
    try:
        while (rate := next_rate(tried, start=start, max_rate=opts.max_rate, factor=opts.factor,
                                 resolution=opts.resolution)) is not None:
            run = LoadRun(profile=opts.profile, host=service.redact(service.url),
                          out_dir=out / "stairs" / f"{len(tried) + 1:02d}-{rate:g}", rate=rate,
                          duration=opts.stair_s, batch=opts.batch, workers=opts.workers,
                          max_connections=opts.max_connections, slos=slos, service=service, journal=journal,
                          gate=True, run_id=f"{run_id}s{len(tried) + 1}", start_extra={"stair": len(tried) + 1},
                          keep_ticks=True)
            run.on_progress = lambda rec: _tick(journal, rec)
            s = run.execute()
            tried.append((rate, s["verdict"]))
            on_stair({"stair": len(tried), "offered_rate": rate,
                      "served_rate": served_rate(run.events, opts.stair_s), **{k: s.get(k) for k in (
                "achieved_rate", "p50_ms", "p95_ms", "p99_ms", "verdict", "reasons")}})
            if s["verdict"] != "pass":  # the service's queue drains before a lower stair
                time.sleep(min(COOLDOWN_MAX_S, (s.get("max_ms") or 0.0) / 1000 + 0.5))
    finally:
        journal.record(CAPACITY_END, "runner", {"stairs": len(tried)})
        journal.close()
    return regenerate_capacity_reports(read_journal(path), out)


def _tick(journal: Journal, rec: dict[str, Any]) -> None:
    journal.record("load.tick", "load", rec)


def regenerate_capacity_reports(events: list[Any], out_dir: Path) -> dict[str, Any]:
    """summary.json, stairs.csv and report.html of a capacity run from its journal alone (offline)."""
    from gameday.report.capacity import write_capacity_reports

    summary = capacity_from_journal(events)
    write_capacity_reports(summary, out_dir)
    return summary
