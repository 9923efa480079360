"""``gameday rehearse``: an on-call rehearsal on the local lab.

A fault is chosen (``--fault``) or drawn (``--seed``) and not shown. The responder sees alerts as
the synthetic probe fails and works the runbook at the prompt: each step can be done by hand (with
the ``gameday lab`` commands, then Enter), run by gameday (``r``) or skipped (``s``). The score
records time to detect and to declare, steps done in order, RTO and RPO, from the journal alone.
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional

import typer
from rich.console import Console

from gameday.drill.check import EXIT_CODES
from gameday.drill.models import Step, load_drill
from gameday.drill.steps import StepContext, StepOutcome
from gameday.drill.workload import Workload, failed_since
from gameday.journal import Event, Journal, read_journal
from gameday.lab.control import DEFAULT_DIR

__all__ = ["FAULTS", "Responder", "score", "rehearse"]

# Faults a rehearsal can draw: name -> (Target method, arguments)
FAULTS: dict[str, tuple[str, dict[str, str]]] = {
    "region": ("fail_region", {"region": "{primary_region}"}),
    "zone": ("fail_zone", {"zone": "{primary_region}b"}),
    "db": ("fail_over_db", {}),
}

out = Console()


class Responder:
    """The person at the prompt: reads answers from ``ask`` (stdin by default)."""

    def __init__(self, ask: Callable[[str], str] = input, say: Callable[[str], None] = out.print) -> None:
        self.ask, self.say = ask, say

    def gate(self, step: Step, ctx: StepContext) -> StepOutcome | None:
        hint = {"action": "Enter when you did it by hand, 'r' to let gameday run it, 's' to skip",
                "manual": "Enter (or 'y') to confirm, 's' to skip",
                "wait": "Enter to start watching for it, 's' to skip",
                "shell": "Enter when done by hand, 'r' to let gameday run it, 's' to skip"}[step.kind]
        self.say(f"\n[bold]{step.name}[/]  (done when: {step.done_when})")
        if step.prompt:
            self.say(step.prompt)
        try:
            answer = self.ask(f"[{hint}] > ").strip().lower()
        except EOFError:
            answer = "s"
        if answer == "s":
            return StepOutcome(False, "skipped by the responder", skipped=True)
        if step.kind in ("wait",) or answer == "r":
            return None  # gameday runs or watches it
        if step.kind == "manual":
            return StepOutcome(True, "confirmed by the responder")
        return StepOutcome(True, "done by hand by the responder")

    def watch(self, workload: Workload, t_fault: float, journal: Journal) -> None:
        """Raise the alert the first time the synthetic probe fails after the fault."""
        def loop() -> None:
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                if failed_since(workload.probe_log, t_fault):
                    journal.record("alert.shown", "responder", {"alert": "synthetic write+read failing"})
                    self.say("\n[bold red]ALERT[/] synthetic write-then-read through the public endpoint is failing")
                    return
                time.sleep(0.05)
        threading.Thread(target=loop, name="alerts", daemon=True).start()


def score(events: list[Event], summary: dict[str, Any]) -> dict[str, Any]:
    """The rehearsal's score (0-100) from the journal and the drill summary."""
    start = next(e for e in events if e.kind == "drill.start")
    planned = [s["id"] for s in start.value["steps"]]
    ends = [e for e in events if e.kind == "step.end"]
    done = [e.value["id"] for e in ends if e.value.get("ok")]
    skipped = [e.value["id"] for e in ends if e.value.get("skipped")]
    in_order = done == [s for s in planned if s in done] and not skipped and len(done) == len(planned)
    alert = next((e for e in events if e.kind == "alert.shown"), None)
    t0 = summary.get("t0")
    targets = {t["name"]: t["ok"] for t in summary.get("targets", [])}
    points = (40 if targets.get("rto") else 0) + (20 if targets.get("rpo") else 0) + (20 if in_order else 0) + \
        (20 if summary.get("t_declare_s") is not None and not any(
            s["id"] == start.value.get("declare_step") and s["over_budget"] for s in summary.get("steps", [])) else 0)
    return {"fault": next((e.value["action"] for e in events if e.kind == "fault.applied"), None),
            "time_to_alert_s": round(alert.t_wall - t0, 3) if alert and t0 else None,
            "time_to_detect_s": summary.get("t_detect_s"), "time_to_declare_s": summary.get("t_declare_s"),
            "steps_done": done, "steps_skipped": skipped, "steps_in_order": in_order,
            "rto_s": summary.get("rto_s"), "rpo_s": summary.get("rpo_s"), "events_lost": summary.get("events_lost"),
            "verdict": summary.get("verdict"), "score": points}


def rehearse(drill: Path = typer.Argument(..., help="Drill file whose runbook the responder works."),
             fault: Optional[str] = typer.Option(None, "--fault", help=f"One of {', '.join(FAULTS)}; default: drawn."),
             seed: Optional[int] = typer.Option(None, "--seed", help="Seed for drawing the fault."),
             env: Optional[Path] = typer.Option(None, "--env"),
             out_dir: Path = typer.Option(Path("out/rehearsal"), "--out"),
             state_dir: Path = typer.Option(DEFAULT_DIR, "--state-dir"),
             keep_lab: bool = typer.Option(False, "--keep-lab", help="Keep a lab this run started.")) -> None:
    """On-call rehearsal: a hidden fault on the lab; work the runbook at the prompt; get scored."""
    from gameday.cli_drill import _leave, _target_for, print_summary
    from gameday.drill.runner import DrillRun
    from gameday.drill.steps import fill
    from gameday.errors import ConfigError

    if fault is not None and fault not in FAULTS:
        raise ConfigError(f"unknown fault {fault!r}; expected one of: {', '.join(FAULTS)}", field="--fault")
    loaded = load_drill(drill, env)
    name = fault or random.Random(seed).choice(sorted(FAULTS))
    target, started = _target_for(loaded, state_dir)
    primary, dr = target.regions()
    action, args = FAULTS[name]
    responder = Responder(ask=lambda prompt: (out.print(prompt, end=""), sys.stdin.readline())[1].rstrip("\n")
                          if not sys.stdin.isatty() else input(prompt))
    out.print("[bold]Rehearsal[/]: something will break in a few seconds. Watch for alerts; "
              "use 'gameday lab status' in another terminal.")
    try:
        summary = DrillRun(loaded, target, out_dir, fault_override=(action, fill(args, {"primary_region": primary,
                                                                                          "dr_region": dr})),
                           gate=responder.gate, on_fault=responder.watch).execute()
    finally:
        _leave(state_dir, started, keep_lab)
    result = score(read_journal(out_dir / "journal.jsonl"), summary)
    (out_dir / "score.json").write_text(json.dumps(result, indent=2))
    print_summary(summary, out_dir)
    out.print(f"\nthe fault was: [bold]{result['fault']}[/]   score [bold]{result['score']}/100[/]  "
              f"(detect {result['time_to_detect_s']} s, declare {result['time_to_declare_s']} s, "
              f"steps in order: {result['steps_in_order']})   {out_dir / 'score.json'}")
    raise typer.Exit(EXIT_CODES[summary["verdict"]])
