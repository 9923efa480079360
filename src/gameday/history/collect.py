"""Find every run under some folders and read each one's figures from its journal (the truth; a report is
only a cache): drills (``journal.jsonl`` with ``drill.start``), load gates (``journal.jsonl`` with
``gate.start`` and ``summary.json``), chaos experiments (``gameday-journal.jsonl``, with Chaos Toolkit's
``journal.json`` beside it) and the background load of an experiment run by a plain ``chaos run`` (a
``journal.jsonl`` of ``load.*`` events only). A run found under two folders (a copy, an S3 download) is
listed once, by its run id. A run cut off before its end event is ``aborted`` and ``incomplete``, as
``gameday report`` says; a file that cannot be read is ``malformed``; none is dropped."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gameday.chaos.verdict import chaos_summary
from gameday.errors import ConfigError
from gameday.journal import Event, read_journal
from gameday.judge.drill import check

__all__ = ["Run", "collect"]


@dataclass
class Run:
    path: str
    kind: str  # drill | gate | capacity | chaos | load | restore-test | unknown
    name: str
    environment: str
    time_scale: float
    started_at: float | None
    verdict: str
    status: str = "complete"  # complete | incomplete (cut off: no end event) | malformed
    figures: dict[str, Any] = field(default_factory=dict)  # rto_s, rpo_s, events_lost (a count), p95_ms, ...
    targets: dict[str, float] = field(default_factory=dict)  # rto_s, rpo_s (scaled, as judged), lost_events_max
    steps: list[dict[str, Any]] = field(default_factory=list)  # id, name, actual_s, budget_s
    operator: str | None = None
    problem: str | None = None
    run_id: str | None = None
    fault: str | None = None  # the fault drawn (a rehearsal draws region, zone or db): part of the series

    @property
    def group(self) -> tuple[str, str, str, str, float]:
        return self.kind, self.name, self.environment, self.fault or "", self.time_scale


def collect(folders: list[Path]) -> list[Run]:
    """Every run under ``folders``, once each, oldest first (malformed ones last)."""
    runs: list[Run] = []
    seen: set[Path] = set()
    for folder in folders:
        if not folder.exists():
            raise ConfigError("no such folder", file=str(folder))
        for journal in sorted([*folder.rglob("journal.jsonl"), *folder.rglob("gameday-journal.jsonl")]):
            if journal.parent.resolve() in seen:
                continue
            seen.add(journal.parent.resolve())
            runs.append(_read(journal))
    return sorted(_once(runs), key=lambda r: (r.status == "malformed", r.started_at or 0.0))


def _once(runs: list[Run]) -> list[Run]:
    """One run per run id (the complete copy when one copy was cut off), in the order found."""
    best: dict[tuple[str, str], Run] = {}
    out: list[Run] = []
    for r in runs:
        if r.run_id is None:
            out.append(r)
            continue
        key = (r.kind, r.run_id)
        kept = best.get(key)
        if kept is None:
            best[key] = r
            out.append(r)
        elif kept.status != "complete" and r.status == "complete":
            best[key] = r
            out[out.index(kept)] = r
    return out


def _malformed(journal: Path, problem: str) -> Run:
    return Run(str(journal.parent), "unknown", journal.parent.name, "?", 1.0, None, "inconclusive",
               status="malformed", problem=problem)


def _read(journal: Path) -> Run:
    try:
        events = _gate_ends(journal) or read_journal(journal)
    except ConfigError as exc:
        return _malformed(journal, str(exc))
    start = next((e.kind for e in events if e.kind in ("drill.start", "gate.start", "chaos.start")), None)
    if events and events[0].kind == "capacity.start":  # its stairs are gates: the run is one capacity run
        return _capacity(journal, events)
    if start == "drill.start":
        return _drill(journal, events)
    if events and events[0].kind == "restore_test.start":
        return _restore_test(journal, events)
    if start == "gate.start":
        return _gate(journal, events)
    if start == "chaos.start":
        return _chaos(journal, events)
    if events and all(e.kind.startswith("load.") for e in events):
        return _load(journal, events)
    return _malformed(journal, "no drill.start, gate.start or chaos.start event, and not a load's journal")


_TAIL_BYTES = 64 << 10


def _gate_ends(journal: Path) -> list[Event] | None:
    """A gate's first and last events (its gate.start, its gate.end), read without the per-second ticks between:
    history over a 24-hour soak costs what it costs over a minute's gate. None when it is not a gate's journal."""
    with open(journal, "rb") as f:
        first = f.readline()
        if b'"gate.start"' not in first:
            return None
        size = f.seek(0, 2)
        f.seek(max(len(first), size - _TAIL_BYTES))
        tail = f.read().split(b"\n")
    lines = [first] + (tail[1:] if size - _TAIL_BYTES > len(first) else tail)  # the first one may be cut
    out = []
    for line in lines:
        try:
            out.append(Event(**json.loads(line)))
        except (ValueError, TypeError):
            continue  # a torn last line
    return out if out and out[0].kind == "gate.start" else None


def _target_key(t: dict[str, Any]) -> str:
    """rto_s and rpo_s (seconds); a count's limit is named for what it is: lost_events_max."""
    return f"{t['name']}_s" if "target_s" in t else f"{t['name']}_max"


def _drill(journal: Path, events: list[Event]) -> Run:
    s = check(events)
    start = next(e for e in events if e.kind == "drill.start")
    operator = next((e.value.get("operator") or e.value.get("confirmed_by") for e in events
                     if e.kind in ("drill.start", "step.end") and (e.value.get("operator") or e.value.get("confirmed_by"))),
                    None)
    targets = {_target_key(t): t.get("target_s", t.get("target")) for t in s.get("targets", [])}
    incomplete = bool(s.get("incomplete"))
    return Run(str(journal.parent), "drill", start.value["drill"], start.value["environment"],
               float(start.value["time_scale"]), start.t_wall, s["verdict"],
               status="incomplete" if incomplete else "complete",
               figures={**{k: s.get(k) for k in ("rto_s", "rpo_s", "events_lost", "events_acked", "t_detect_s",
                                                  "t_declare_s")}, **restore_figures(s.get("restore")),
                        **{f"cache_{k}": (s.get("cache") or {}).get(k) for k in ("rto_s", "rpo_s", "lost_writes")}},
               targets=targets, operator=operator,
               steps=[{k: st[k] for k in ("id", "name", "actual_s", "budget_s")} for st in s.get("steps", [])],
               problem="the journal ends before drill.end (the run was killed or cut off)" if incomplete else None,
               run_id=start.value.get("run_id"), fault=(start.value.get("fault") or {}).get("action"))


def restore_figures(r: dict[str, Any] | None) -> dict[str, Any]:
    """A restore drill's or a backup validation's trend figures: restore duration, backup age, restorable lag."""
    if not r:
        return {}
    m = r.get("missing") or {}
    out = {k: r.get(k) for k in ("restore_s", "backup_age_s", "restorable_lag_s")}
    if m:
        out.update({"pitr_price_events": m["pitr_price"]["events"],
                    "backup_defect_events": m["before_restore_point"]["events"]})
    return out


def _restore_test(journal: Path, events: list[Event]) -> Run:
    """A backup validation (``gameday restore-test``), judged again from its journal."""
    from gameday.judge.restore import check_restore_test

    s = check_restore_test(events)
    st = events[0].value
    return Run(str(journal.parent), "restore-test", "backup validation", str(st.get("environment")),
               float(st.get("time_scale") or 1.0), events[0].t_wall, s["verdict"],
               status="incomplete" if s["verdict"] == "aborted" else "complete",
               figures={**restore_figures(s), "events_acked": s.get("events_acked"),
                        "backup_defect_events": s.get("missing_before")},
               problem=s["reasons"][0] if s["verdict"] == "aborted" else None, run_id=st.get("run_id"))


def _capacity(journal: Path, events: list[Event]) -> Run:
    """A capacity run (``gameday load capacity``): its knee, judged again from the journal."""
    from gameday.load.capacity import capacity_from_journal

    st = events[0].value
    name = f"{Path(str(st.get('profile', '?'))).name} at {st.get('host', '?')}"
    env = Path(str(st.get("environment_file", "?"))).stem
    s = capacity_from_journal(events)
    incomplete = s["verdict"] == "aborted"
    return Run(str(journal.parent), "capacity", name, env, 1.0, events[0].t_wall, s["verdict"],
               status="incomplete" if incomplete else "complete",
               figures={"capacity_rate": s.get("capacity_rate"), "first_failing": s.get("first_failing")},
               problem="the journal ends before capacity.end: the run was cut off" if incomplete else None,
               run_id=st.get("run_id"))


def _gate(journal: Path, events: list[Event]) -> Run:
    start = next(e for e in events if e.kind == "gate.start")
    summary_file = journal.parent / "summary.json"
    name = Path(str(start.value.get("profile", "?"))).name
    env = Path(str(start.value.get("environment_file", "?"))).stem
    if not summary_file.exists() or not any(e.kind == "gate.end" for e in events):
        return Run(str(journal.parent), "gate", name, env, 1.0, start.t_wall, "aborted", status="incomplete",
                   problem="the journal ends before gate.end, or no summary.json: the gate was cut off",
                   run_id=start.value.get("run_id"))
    s = json.loads(summary_file.read_text())
    return Run(str(journal.parent), "gate", name, env, 1.0, start.t_wall, str(s["verdict"]).lower(),
               figures={k: s.get(k) for k in ("achieved_rate", "p95_ms", "p99_ms", "error_ratio", "target_rate")},
               run_id=start.value.get("run_id") or s.get("run_id"))


def _chaos(journal: Path, events: list[Event]) -> Run:
    ctk_file = journal.parent / "journal.json"
    try:
        ctk = json.loads(ctk_file.read_text()) if ctk_file.exists() else None
    except json.JSONDecodeError:
        ctk = None
    v = chaos_summary(events, ctk)
    incomplete = bool(v.get("incomplete"))
    return Run(str(journal.parent), "chaos", str(v["title"]), str(v.get("environment")), 1.0, v.get("started_at"),
               v["verdict"], status="incomplete" if incomplete else "complete",
               figures={"faults": ", ".join(v.get("faults_applied", []))},
               problem="the journal ends before chaos.end (the experiment was killed or cut off)" if incomplete
               else None, run_id=v.get("run_id"))


def _load(journal: Path, events: list[Event]) -> Run:
    """The background load of an experiment run without gameday's control: its ticks and, once it ended, the
    summary its LoadRun wrote beside them."""
    summary_file = journal.parent / "summary.json"
    s = json.loads(summary_file.read_text()) if summary_file.exists() else None
    name = Path(str((s or {}).get("profile") or journal.parent.name)).name
    if s is None:
        return Run(str(journal.parent), "load", name, "?", 1.0, events[0].t_wall, "aborted", status="incomplete",
                   problem="a load's journal without its summary.json: the load was cut off")
    return Run(str(journal.parent), "load", name, "?", 1.0, events[0].t_wall, str(s["verdict"]).lower(),
               figures={k: s.get(k) for k in ("achieved_rate", "p95_ms", "p99_ms", "error_ratio", "target_rate")},
               run_id=s.get("run_id"))
