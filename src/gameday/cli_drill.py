"""``gameday drill run``, ``rehearse``, ``report``, ``recover``, ``runbook render``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from gameday.cli_dashboards import GRAFANA_URL, METRICS_PORT, observers
from gameday.drill.check import EXIT_CODES
from gameday.drill.models import load_drill, load_runbook
from gameday.lab.control import DEFAULT_DIR

__all__ = ["register"]

out = Console()
drill_app = typer.Typer(help="Run DR drills: fault under load, runbook executed and timed, RTO and RPO measured.",
                        no_args_is_help=True)
runbook_app = typer.Typer(help="Runbooks: render the human form from the executable YAML.", no_args_is_help=True)
DIR_OPT = typer.Option(DEFAULT_DIR, "--state-dir", help="The local lab's state directory.")


def _target_for(loaded: Any, state_dir: Path, confirm: Optional[str] = None) -> tuple[Any, bool]:
    """The target of the drill's environment; for the lab, (target, whether this call started the lab)."""
    if loaded.environment.kind == "aws":
        from gameday.cli_aws import aws_target

        return aws_target(Path(loaded.environment_path), confirm=confirm, plan_only=False), False
    from gameday.errors import LabError
    from gameday.lab.control import LabClient, lab_up
    from gameday.targets import target_for

    started = False
    try:
        client = LabClient(state_dir)
        with out.status("lab already running: restoring its configured shape…"):
            client.op("restore")
    except LabError:
        with out.status("starting the local lab…"):
            lab_up(Path(loaded.environment_path), state_dir)
        started = True
    return target_for(loaded.environment, state_dir=state_dir), started


def _leave(state_dir: Path, started: bool, keep_lab: bool) -> None:
    """Leave the lab as the run found it: stop one this run started, unless asked to keep it."""
    if started and not keep_lab:
        from gameday.lab.control import lab_down

        lab_down(state_dir)
        out.print("[dim]· lab stopped (it was started for this run; --keep-lab keeps it)[/]")


def _print_plan(loaded: Any, drill: Path, confirm: Optional[str]) -> None:
    if loaded.environment.kind == "aws":
        from gameday.cli_aws import plan

        plan(drill, Path(loaded.environment_path), confirm, False)
        return
    d = loaded.drill
    out.print(f"environment {loaded.environment.name} (the local lab); load {d.load.profile} at {d.load.rate:g} "
              f"events/s; heartbeat every {d.heartbeat_interval_s:g} s")
    out.print(f"fault: {d.fault.action} {d.fault.args} (inverse journaled first: restore)")
    for i, st in enumerate(loaded.runbook.steps, 1):
        what = st.call or st.wait_for or (" ".join(st.command or []) if st.kind == "shell" else "a person confirms")
        out.print(f"  {i}. [{st.kind}] {st.name}: {what} (budget {st.budget_s * loaded.environment.time_scale:g} s)")
    out.print("dry run: nothing was changed")


def print_summary(s: dict[str, Any], out_dir: Path) -> None:
    colour = {"pass": "green", "fail": "red"}.get(s["verdict"], "yellow")
    t = Table(title=f"drill {s.get('drill')} - [bold {colour}]{s['verdict'].upper()}[/]")
    for col in ("step", "kind", "budget s", "actual s", "ok"):
        t.add_column(col)
    for st in s.get("steps", []):
        ok = "[green]yes[/]" if st["ok"] else ("[red]over budget[/]" if st["over_budget"] else "[red]not done[/]")
        t.add_row(st["name"], st["kind"], f"{st['budget_s']:g}", "-" if st["actual_s"] is None else f"{st['actual_s']:.2f}", ok)
    out.print(t)
    for tg in s.get("targets", []):
        limit = tg.get("target_s", tg.get("target"))
        mark = "[green]ok[/]" if tg["ok"] else "[red]BREACHED[/]"
        out.print(f"  {tg['name']:<12} observed {tg['observed']!s:<10} target <= {limit}  {mark}")
    out.print(f"RTO {s.get('rto_s')} s   RPO {s.get('rpo_s')} s   acked {s.get('events_acked')}   "
              f"lost {s.get('events_lost')}   indeterminate {s.get('events_indeterminate')}")
    for r in s.get("reasons", []):
        out.print(f"  [red]- {r}[/]")
    out.print(f"report: {out_dir / 'report.html'} (also report.json, report.md, junit.xml, journal.jsonl)")


@drill_app.command("run")
def run(drill: Path = typer.Argument(..., help="Drill file, e.g. drills/region-failover.yaml."),
        env: Optional[Path] = typer.Option(None, "--env", help="Environment file (default: the drill's)."),
        out_dir: Path = typer.Option(Path("out/drill"), "--out", help="Where the journal and reports go."),
        state_dir: Path = DIR_OPT,
        keep_lab: bool = typer.Option(False, "--keep-lab", help="Keep a lab this run started running afterwards."),
        grafana_url: Optional[str] = GRAFANA_URL, metrics_port: Optional[int] = METRICS_PORT,
        confirm: Optional[str] = typer.Option(None, "--confirm", help="The environment's name, if it is protected."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Print the resolved plan and exit; change nothing.")) -> None:
    """Run DRILL: load, fault, runbook, measurement, reconciliation, inverse, reports."""
    import uuid

    from gameday.drill.runner import run_drill

    loaded = load_drill(drill, env)  # invalid files exit 2 here, before anything is touched
    if dry_run:
        _print_plan(loaded, drill, confirm)
        return
    target, started = _target_for(loaded, state_dir, confirm)
    obs = observers(uuid.uuid4().hex[:10], "drill", grafana_url, metrics_port)
    summary: dict[str, Any] = {"verdict": "aborted"}
    try:
        summary = run_drill(loaded, target, out_dir, on_progress=lambda m: out.print(f"[dim]·[/] {m}"),
                            listeners=obs.listeners)
    finally:
        obs.finish(summary["verdict"], f"RTO {summary.get('rto_s')} s, RPO {summary.get('rpo_s')} s, "
                                       f"lost {summary.get('events_lost')}")
        _leave(state_dir, started, keep_lab)
    print_summary(summary, out_dir)
    raise typer.Exit(EXIT_CODES[summary["verdict"]])


@drill_app.command("validate")
def validate(drill: Path = typer.Argument(...), env: Optional[Path] = typer.Option(None, "--env")) -> None:
    """Check a drill, its runbook and its environment; change nothing."""
    loaded = load_drill(drill, env)
    out.print(f"ok: {loaded.path} (runbook {loaded.runbook_path}, {len(loaded.runbook.steps)} steps; "
              f"environment {loaded.environment_path})")


def report(journal: Path = typer.Argument(..., help="A drill's journal.jsonl."),
           out_dir: Optional[Path] = typer.Option(None, "--out", help="Default: the journal's folder."),
           as_json: bool = typer.Option(False, "--json", help="Print report.json.")) -> None:
    """Regenerate every report from a journal alone (offline)."""
    from gameday.journal import read_journal
    from gameday.report.write import write_reports

    target_dir = out_dir or journal.parent
    summary = write_reports(read_journal(journal), target_dir)
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
    else:
        print_summary(summary, target_dir)
    raise typer.Exit(EXIT_CODES.get(summary["verdict"], 3))


def recover(journal: Path = typer.Argument(..., help="The journal of a run that crashed or was killed."),
            state_dir: Path = DIR_OPT) -> None:
    """Undo every fault a crashed run left applied (from its journal)."""
    from gameday.drill.recover import pending_inverses, recover as do_recover
    from gameday.journal import read_journal
    from gameday.config import load_environment
    from gameday.targets import target_for

    pending = pending_inverses(journal)
    if not pending:
        out.print("nothing to undo: every fault in this journal was already undone")
        return
    start = next(e for e in read_journal(journal) if e.kind == "drill.start")
    env = load_environment(start.value["environment_file"])
    done = do_recover(journal, target_for(env, state_dir=state_dir))
    out.print(f"undone: {', '.join(i['action'] for i in done)}; the environment is back in its configured shape")


@runbook_app.command("render")
def render(runbook: Path = typer.Argument(..., help="Runbook YAML."),
           output: Optional[Path] = typer.Option(None, "--out", help="Default: the YAML's path with .md.")) -> None:
    """Write the human form (Markdown) of a runbook from its YAML."""
    from gameday.drill.render import render_runbook

    rb = load_runbook(runbook)
    dest = output or runbook.with_suffix(".md")
    dest.write_text(render_runbook(rb, source_file=runbook.name))
    out.print(f"wrote {dest}")


def register(app: typer.Typer) -> None:
    app.add_typer(drill_app, name="drill")
    app.add_typer(runbook_app, name="runbook")
    app.command("report")(report)
    app.command("recover")(recover)
    try:
        from gameday.drill.rehearse import rehearse
    except ImportError:
        return
    app.command("rehearse")(rehearse)
