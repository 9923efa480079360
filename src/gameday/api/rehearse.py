"""On-call rehearsal from Python: a hidden fault on the lab, a responder working the runbook, a score."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gameday.api.drill import load_drill_for_run, run_drill
from gameday.drill.rehearse import FAULTS, Responder, score
from gameday.errors import ConfigError
from gameday.journal import read_journal
from gameday.lab.control import DEFAULT_DIR
from gameday.operations import env_regions, fill

__all__ = ["run_rehearsal", "FAULTS"]


def run_rehearsal(drill: Path, responder: Responder, *, fault: str | None = None, seed: int | None = None,
                  env: Path | None = None, out_dir: Path = Path("out/rehearsal"), state_dir: Path = DEFAULT_DIR,
                  keep_lab: bool = False, on_progress: Callable[[str], None] = lambda msg: None
                  ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the rehearsal; return (the drill's summary, the score). score.json is written beside the reports."""
    if fault is not None and fault not in FAULTS:
        raise ConfigError(f"unknown fault {fault!r}; expected one of: {', '.join(FAULTS)}", field="--fault")
    loaded = load_drill_for_run(drill, env)
    if loaded.environment.kind != "local":
        raise ConfigError("rehearsals run on the local lab: use an environment with kind: local", field="--env")
    name = fault or random.Random(seed).choice(sorted(FAULTS))
    primary, dr = env_regions(loaded.environment)
    action, args = FAULTS[name]
    summary = run_drill(loaded, out_dir=out_dir, state_dir=state_dir, keep_lab=keep_lab, on_progress=on_progress,
                        fault_override=(action, fill(args, {"primary_region": primary, "dr_region": dr})),
                        gate=responder.gate, on_fault=responder.watch)
    result = score(read_journal(out_dir / "journal.jsonl"), summary)
    (out_dir / "score.json").write_text(json.dumps(result, indent=2))
    return summary, result
