"""Find every run under some folders and read each one's figures from its journal (the truth; a report is
only a cache): drills (``journal.jsonl`` with ``drill.start``), load gates (``journal.jsonl`` with
``gate.start`` and ``summary.json``) and chaos experiments (``gameday-journal.jsonl`` and ``verdict.json``).
A run that cannot be read whole is listed as incomplete or malformed, never dropped."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gameday.errors import ConfigError
from gameday.journal import Event, read_journal
from gameday.judge.drill import check

__all__ = ["Run", "collect"]


@dataclass
class Run:
    path: str
    kind: str  # drill | gate | chaos | unknown
    name: str
    environment: str
    time_scale: float
    started_at: float | None
    verdict: str
    status: str = "complete"  # complete | incomplete (cut off: no end event) | malformed
    figures: dict[str, Any] = field(default_factory=dict)  # rto_s, rpo_s, p95_ms, ...
    targets: dict[str, float] = field(default_factory=dict)  # rto_s, rpo_s (scaled, as judged)
    steps: list[dict[str, Any]] = field(default_factory=list)  # id, name, actual_s, budget_s
    operator: str | None = None
    problem: str | None = None

    @property
    def group(self) -> tuple[str, str, str, float]:
        return self.kind, self.name, self.environment, self.time_scale


def collect(folders: list[Path]) -> list[Run]:
    """Every run under ``folders``, oldest first (malformed ones last)."""
    runs: list[Run] = []
    seen: set[Path] = set()
    for folder in folders:
        if not folder.exists():
            raise ConfigError("no such folder", file=str(folder))
        for journal in sorted([*folder.rglob("journal.jsonl"), *folder.rglob("gameday-journal.jsonl")]):
            if journal.parent in seen:
                continue
            seen.add(journal.parent)
            runs.append(_read(journal))
    return sorted(runs, key=lambda r: (r.status == "malformed", r.started_at or 0.0))


def _read(journal: Path) -> Run:
    try:
        events = read_journal(journal)
    except ConfigError as exc:
        return Run(str(journal.parent), "unknown", journal.parent.name, "?", 1.0, None, "inconclusive",
                   status="malformed", problem=str(exc))
    kinds = {e.kind for e in events}
    if "drill.start" in kinds:
        return _drill(journal, events)
    if "gate.start" in kinds:
        return _gate(journal, events)
    if "chaos.start" in kinds:
        return _chaos(journal, events)
    return Run(str(journal.parent), "unknown", journal.parent.name, "?", 1.0, None, "inconclusive",
               status="malformed", problem="no drill.start, gate.start or chaos.start event")


def _drill(journal: Path, events: list[Event]) -> Run:
    s = check(events)
    start = next(e for e in events if e.kind == "drill.start")
    ended = any(e.kind == "drill.end" for e in events)
    operator = next((e.value.get("operator") or e.value.get("confirmed_by") for e in events
                     if e.kind in ("drill.start", "step.end") and (e.value.get("operator") or e.value.get("confirmed_by"))),
                    None)
    targets = {t["name"] + "_s": t.get("target_s", t.get("target")) for t in s.get("targets", [])}
    return Run(str(journal.parent), "drill", start.value["drill"], start.value["environment"],
               float(start.value["time_scale"]), start.t_wall, s["verdict"] if ended else "incomplete",
               status="complete" if ended else "incomplete",
               figures={k: s.get(k) for k in ("rto_s", "rpo_s", "events_lost", "events_acked", "t_detect_s",
                                               "t_declare_s")},
               targets=targets, operator=operator,
               steps=[{k: st[k] for k in ("id", "name", "actual_s", "budget_s")} for st in s.get("steps", [])],
               problem=None if ended else "the journal ends before drill.end (the run was cut off)")


def _gate(journal: Path, events: list[Event]) -> Run:
    start = next(e for e in events if e.kind == "gate.start")
    summary_file = journal.parent / "summary.json"
    name = Path(str(start.value.get("profile", "?"))).name
    env = Path(str(start.value.get("environment_file", "?"))).stem
    if not summary_file.exists():
        return Run(str(journal.parent), "gate", name, env, 1.0, start.t_wall, "incomplete", status="incomplete",
                   problem="no summary.json: the gate did not finish")
    s = json.loads(summary_file.read_text())
    return Run(str(journal.parent), "gate", name, env, 1.0, start.t_wall, str(s["verdict"]).lower(),
               figures={k: s.get(k) for k in ("achieved_rate", "p95_ms", "p99_ms", "error_ratio", "target_rate")})


def _chaos(journal: Path, events: list[Event]) -> Run:
    start = next(e for e in events if e.kind == "chaos.start")
    verdict_file = journal.parent / "verdict.json"
    title = str(start.value.get("title") or "experiment")
    if not verdict_file.exists():
        return Run(str(journal.parent), "chaos", title, str(start.value.get("environment")), 1.0, start.t_wall,
                   "incomplete", status="incomplete", problem="no verdict.json: the experiment did not finish")
    v = json.loads(verdict_file.read_text())
    return Run(str(journal.parent), "chaos", title, str(start.value.get("environment")), 1.0, start.t_wall,
               v["verdict"], figures={"faults": ", ".join(v.get("faults_applied", []))})
