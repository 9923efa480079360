"""On-call rehearsal from Python: a hidden fault on the lab, a responder working its runbook, a score.

The rehearsal runs at the environment's ``rehearsal_time_scale`` (human time: a fifth of real time by
default), presents the runbook the drill names for the drawn fault, and writes score.json and score.md
beside the reports, also when it is interrupted (marked incomplete).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gameday.api.drill import load_drill_for_run, run_drill
from gameday.api.observe import new_run_id
from gameday.drill.models import LoadedDrill
from gameday.drill.rehearse import FAULTS, Responder, score
from gameday.errors import ConfigError
from gameday.journal import read_journal
from gameday.lab.control import DEFAULT_DIR
from gameday.operations import env_regions, fill
from gameday.report.rehearsal import render_score_md
from gameday.runs import run_folder

__all__ = ["run_rehearsal", "FAULTS", "rehearsal_drill"]


def rehearsal_drill(loaded: LoadedDrill, fault: str) -> LoadedDrill:
    """The drill as a person rehearses it: the fault's own runbook, at the rehearsal's time scale."""
    env = loaded.environment
    runbook = loaded.fault_runbooks.get(fault, loaded.runbook)
    return loaded.model_copy(update={"runbook": runbook,
                                     "environment": env.model_copy(update={"time_scale": env.rehearsal_time_scale})})


def check_rehearsal(drill: Path, fault: str | None = None, env: Path | None = None) -> LoadedDrill:
    """Everything a rehearsal needs checked (ConfigError: exit 2), before any banner, lab or fault."""
    if fault is not None and fault not in FAULTS:
        raise ConfigError(f"unknown fault {fault!r}; expected one of: {', '.join(FAULTS)}", field="--fault")
    loaded = load_drill_for_run(drill, env)
    if loaded.environment.kind != "local":
        raise ConfigError("rehearsals run on the local lab: use an environment with kind: local", field="--env")
    if fault == "data" and "data" not in loaded.fault_runbooks:
        raise ConfigError("the drill names no runbook for a data corruption (runbooks.data)", field="--fault")
    return loaded


def run_rehearsal(drill: Path, responder: Responder, *, fault: str | None = None, seed: int | None = None,
                  env: Path | None = None, out_dir: Path | None = None, state_dir: Path = DEFAULT_DIR,
                  keep_lab: bool = False, on_progress: Callable[[str], None] = lambda msg: None,
                  run_id: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the rehearsal; return (the drill's summary, the score). score.json and score.md go beside the reports
    (default: ``out/rehearsal/<drill>/<time>-<run id>/``)."""
    loaded = check_rehearsal(drill, fault, env)
    run_id = run_id or new_run_id()
    out_dir = out_dir or run_folder("rehearsal", loaded.drill.name, run_id)
    drawable = sorted(f for f in FAULTS if f != "data" or "data" in loaded.fault_runbooks)  # corruption: its runbook
    name = fault or random.Random(seed).choice(drawable)
    loaded = rehearsal_drill(loaded, name)
    primary, dr = env_regions(loaded.environment)
    action, args = FAULTS[name]
    responder.plan(loaded.runbook.steps)
    summary = run_drill(loaded, out_dir=out_dir, state_dir=state_dir, keep_lab=keep_lab, on_progress=on_progress,
                        fault_override=(action, fill(args, {"primary_region": primary, "dr_region": dr})),
                        gate=responder.gate, on_fault=responder.watch, run_id=run_id)
    result = score(read_journal(out_dir / "journal.jsonl"), summary)
    (out_dir / "score.json").write_text(json.dumps(result, indent=2))
    (out_dir / "score.md").write_text(render_score_md(result))
    return summary, result
