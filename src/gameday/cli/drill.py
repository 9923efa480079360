"""``gameday drill run | validate``, ``rehearse``, ``report``, ``recover``, ``runbook render``."""

from __future__ import annotations

import json
from itertools import islice
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from gameday.api.drill import load_drill_for_run, plan_drill, regenerate_reports, run_drill
from gameday.api.observe import new_run_id
from gameday.api.recover import recover_journal
from gameday.api.rehearse import FAULTS, check_rehearsal, run_rehearsal
from gameday.api.upload import local_copy, parse_s3_url, upload_run
from gameday.cli.common import (
    CONFIRM,
    GRAFANA_URL,
    KEEP_LAB,
    METRICS_ADDR,
    METRICS_LINGER,
    METRICS_PORT,
    PUSHGATEWAY,
    STATE_DIR,
    ask_line,
    colour_of,
    err,
    exit_by,
    out,
    progress,
)
from gameday.cli.load import report_capacity, report_gate
from gameday.config import check_service
from gameday.drill.confirm import default_operator, manual_handler, stdin_kind
from gameday.drill.models import load_drill, load_runbook
from gameday.drill.rehearse import Responder
from gameday.errors import EXIT_FAIL, DriverError
from gameday.journal import iter_journal, read_journal
from gameday.load.capacity import is_capacity_journal
from gameday.load.gate import is_gate_journal
from gameday.report.why import reason_line
from gameday.runs import run_folder
from gameday.verdict import exit_code

__all__ = ["drill_app", "runbook_app", "report_cmd", "recover_cmd", "rehearse_cmd", "print_summary"]

drill_app = typer.Typer(help="Run DR drills: fault under load, runbook executed and timed, RTO and RPO measured.",
                        no_args_is_help=True)
runbook_app = typer.Typer(help="Runbooks: render the human form from the executable YAML.", no_args_is_help=True)


def _target_line(tg: dict[str, Any]) -> str:
    """One target: what was observed against its limit; what was not measured says so (never ``None``)."""
    limit = tg.get("target_s", tg.get("target"))
    if tg.get("never_recovered"):
        return f"  {tg['name']:<12} not recovered in {tg.get('observed_for_s')} s  target <= {limit}  [red]BREACHED[/]"
    if tg["observed"] is None:
        return f"  {tg['name']:<12} not measured       target <= {limit}  [yellow]not judged[/]"
    mark = "[green]ok[/]" if tg["ok"] else "[red]BREACHED[/]"
    return f"  {tg['name']:<12} observed {tg['observed']!s:<10} target <= {limit}  {mark}"


def _figures_line(s: dict[str, Any]) -> str:
    """RTO, RPO and the counts that were measured; the rest named once as not measured."""
    shown = [(label, s.get(key), unit) for label, key, unit in (
        ("RTO", "rto_s", " s"), ("RPO", "rpo_s", " s"), ("acked", "events_acked", ""), ("lost", "events_lost", ""),
        ("indeterminate", "events_indeterminate", ""))]
    parts = [f"{label} {v}{unit}" for label, v, unit in shown if v is not None]
    missing = [label for label, v, _ in shown if v is None]
    return "   ".join(parts + ([f"not measured: {', '.join(missing)}"] if missing else []))


def print_summary(s: dict[str, Any], out_dir: Path) -> None:
    if s.get("kind") == "chaos":  # `gameday report` on a chaos experiment's journal
        from gameday.cli.chaos import print_chaos_verdict

        print_chaos_verdict(s, out_dir)
        return
    cut = " (incomplete)" if s.get("incomplete") else ""
    t = Table(title=f"drill {s.get('drill') or '?'} - [bold {colour_of(s['verdict'])}]{s['verdict'].upper()}[/]{cut}")
    for col in ("step", "kind", "budget s", "actual s", "ok"):
        t.add_column(col)
    for st in s.get("steps", []):
        ok = "[green]yes[/]" if st["ok"] else ("[red]over budget[/]" if st["over_budget"] else "[red]not done[/]")
        ok += " (auto)" if st.get("auto_confirmed") else f" ({st['confirmed_by']})" if st.get("confirmed_by") else ""
        t.add_row(st["name"], st["kind"], f"{st['budget_s']:g}", "-" if st["actual_s"] is None else f"{st['actual_s']:.2f}", ok)
    out.print(t)
    for tg in s.get("targets", []):
        out.print(_target_line(tg))
    out.print(_figures_line(s), highlight=False)
    if s.get("events_note"):  # a service without store: the RPO is the heartbeat's, and the terminal says so
        out.print(f"  note: {s['events_note']}", highlight=False, markup=False)
    for r in s.get("reasons", []):
        out.print(f"  [red]- {r}[/]", highlight=False)
    if s.get("failure_reasons"):
        out.print(f"what the service answered (times from {'T0' if s.get('t0') is not None else 'the check'}):")
        for fr in s["failure_reasons"]:
            out.print(f"  {reason_line(fr)}", highlight=False, markup=False)
    for r in s.get("diagnosis", []):
        out.print(f"  [red]- {escape(r)}[/]", highlight=False)
    out.print(f"report: {out_dir / 'report.html'} (also report.json, report.md, junit.xml, journal.jsonl)")


@drill_app.command("run")
def run(drill: Path = typer.Argument(..., help="Drill file, e.g. drills/region-failover.yaml."),
        env: Path | None = typer.Option(None, "--env", help="Environment file (default: the drill's)."),
        out_dir: Path | None = typer.Option(None, "--out", help="Where the journal and reports go (default: a new "
                                            "folder <time>-<run id> under out/drill/<drill>/, linked as latest)."),
        state_dir: Path = STATE_DIR, keep_lab: bool = KEEP_LAB,
        grafana_url: str | None = GRAFANA_URL, metrics_port: int | None = METRICS_PORT,
        metrics_addr: str = METRICS_ADDR, metrics_linger: float = METRICS_LINGER, pushgateway: str | None = PUSHGATEWAY,
        confirm: str | None = CONFIRM,
        operator: str | None = typer.Option(None, "--operator", help="Who confirms the manual steps (default: $USER)."),
        auto_confirm_s: float | None = typer.Option(
            None, "--auto-confirm", min=0, max=3600, metavar="SECONDS",
            help="Confirm manual steps by themselves after SECONDS (unattended runs; journaled as auto-confirmed)."),
        upload: str | None = typer.Option(None, "--upload", metavar="s3://BUCKET/PREFIX",
                                          help="After the run, put journal, reports and ledger under this S3 prefix."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Print the resolved plan and exit; change nothing.")) -> None:
    """Run DRILL: load, fault, runbook, measurement, reconciliation, inverse, reports."""
    loaded = load_drill_for_run(drill, env, confirm=confirm)  # exit 2 before anything (a dry run too: as `plan`)
    destination = parse_s3_url(upload) if upload else None
    if dry_run:
        for line in plan_drill(loaded, confirm=confirm):
            out.print(line, highlight=False, markup=False)
        return
    who = operator or default_operator()
    run_id = new_run_id()
    out_dir = out_dir or run_folder("drill", loaded.drill.name, run_id)
    manual = manual_handler(loaded, auto_confirm_s=auto_confirm_s, stdin=stdin_kind(), operator=who, ask=ask_line,
                            say=lambda msg: out.print(msg, highlight=False, markup=False))
    summary = run_drill(loaded, out_dir=out_dir, state_dir=state_dir, keep_lab=keep_lab, confirm=confirm,
                        on_progress=progress, grafana_url=grafana_url, metrics_port=metrics_port,
                        metrics_addr=metrics_addr, metrics_linger_s=metrics_linger, pushgateway=pushgateway,
                        manual=manual, operator=who, run_id=run_id)
    print_summary(summary, out_dir)
    if destination is not None:  # after the verdict is shown: a failed upload must not hide it
        try:
            for url in upload_run(out_dir, destination, loaded.environment.aws):
                progress(f"uploaded {url}")
        except DriverError as exc:
            err.print(f"error: {exc} (the run's output is still in {out_dir})", highlight=False)
            raise typer.Exit(exit_code(summary["verdict"]) or EXIT_FAIL) from None
    exit_by(summary["verdict"])


@drill_app.command("validate")
def validate(drill: Path = typer.Argument(..., help="Drill file."),
             env: Path | None = typer.Option(None, "--env", help="Environment file (default: the drill's).")) -> None:
    """Check a drill, its runbook and its environment (every argument against it); change nothing."""
    loaded = load_drill(drill, env)
    check_service(loaded.environment, loaded.environment_path)
    out.print(f"ok: {loaded.path} (runbook {loaded.runbook_path}, {len(loaded.runbook.steps)} steps; "
              f"environment {loaded.environment_path})", highlight=False)


def report_cmd(journal_at: str = typer.Argument(..., metavar="JOURNAL",
                                               help="A drill's journal.jsonl or a chaos experiment's "
                                                    "gameday-journal.jsonl (a path, or an s3:// URL of an upload)."),
               out_dir: Path | None = typer.Option(None, "--out", help="Default: the journal's folder."),
               as_json: bool = typer.Option(False, "--json", help="Print report.json.")) -> None:
    """Regenerate every report from a journal alone (offline)."""
    journal = local_copy(journal_at)
    first = list(islice(iter_journal(journal), 1))  # the first event says what kind of run it was
    if is_gate_journal(first):  # a load gate's (or load run's) journal: its own reports, the journal streamed
        report_gate(journal, out_dir or journal.parent, as_json)
    if is_capacity_journal(first):  # a capacity run's: its stairs and knee
        report_capacity(read_journal(journal), out_dir or journal.parent, as_json)
    summary = regenerate_reports(journal, out_dir)
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
    else:
        print_summary(summary, out_dir or journal.parent)
    exit_by(summary["verdict"])


def restore_test_cmd(env: Path = typer.Option(Path("environments/local.yaml"), "--env", help="The environment file."),
                     out_dir: Path | None = typer.Option(None, "--out", help="Journal and reports (default: a new "
                                                         "folder <time>-<run id> under out/restore-test/ and the "
                                                         "environment's name, linked as latest)."),
                     events: int = typer.Option(200, "--events", min=1, max=100_000, help="Events in the write burst."),
                     state_dir: Path = STATE_DIR, keep_lab: bool = KEEP_LAB, confirm: str | None = CONFIRM,
                     as_json: bool = typer.Option(False, "--json", help="Print summary.json.")) -> None:
    """Backup validation: the latest restorable point restored, checked against a write burst, timed, deleted.

    The throwaway instance is checked against the burst's ledger, then deleted."""
    from gameday.api.restore_test import run_restore_test
    from gameday.config import load_environment

    run_id = new_run_id()
    out_dir = out_dir or run_folder("restore-test", load_environment(env).name, run_id)  # each week's stays
    s = run_restore_test(env, out_dir=out_dir, state_dir=state_dir, keep_lab=keep_lab, confirm=confirm, events=events,
                         on_progress=progress, run_id=run_id)
    if as_json:
        typer.echo(json.dumps(s, indent=2, default=str))
    else:
        out.print(f"[{colour_of(s['verdict'])}]{s['verdict'].upper()}[/]: restore {s.get('restore_s')} s, "
                  f"{s.get('present_before')}/{s.get('acked_before')} acknowledged events present, "
                  f"{s.get('missing_before')} missing; report {out_dir / 'report.md'}")
        for r in s["reasons"]:
            out.print(f"  {r}", highlight=False)
    exit_by(s["verdict"])


def recover_cmd(journal: Path = typer.Argument(..., help="The journal of a drill, chaos experiment or load gate."),
                state_dir: Path = STATE_DIR, confirm: str | None = CONFIRM) -> None:
    """Undo every fault and condition a run left applied (from its journal alone)."""
    result = recover_journal(journal, state_dir=state_dir, confirm=confirm)
    if not result.undone:
        out.print(f"nothing to undo: every fault in this {result.kind} journal was already undone")
        return
    for i in reversed(result.undone):
        out.print(f"undone: {i['action']} {i.get('args') or ''} -> {i['inverse']}", highlight=False)
    out.print("the environment is back in its configured shape")


def rehearse_cmd(drill: Path = typer.Argument(..., help="Drill file whose runbook the responder works."),
                 fault: str | None = typer.Option(None, "--fault", help=f"One of {', '.join(FAULTS)}; default: drawn."),
                 seed: int | None = typer.Option(None, "--seed", help="Seed for drawing the fault."),
                 env: Path | None = typer.Option(None, "--env"),
                 out_dir: Path | None = typer.Option(None, "--out", help="Default: a new folder <time>-<run id> "
                                                     "under out/rehearsal/<drill>/, linked as latest."),
                 state_dir: Path = STATE_DIR, keep_lab: bool = KEEP_LAB) -> None:
    """On-call rehearsal: a hidden fault on the lab; work the runbook at the prompt; get scored."""
    loaded = check_rehearsal(drill, fault, env)  # exit 2 before the banner, the lab, anything
    run_id = new_run_id()
    out_dir = out_dir or run_folder("rehearsal", loaded.drill.name, run_id)
    responder = Responder(ask=ask_line, say=lambda msg: out.print(msg, highlight=False),
                          status=lambda: _lab_status(state_dir))
    out.print("[bold]Rehearsal[/]: something will break in a few seconds. Watch for alerts. In another "
              "terminal: 'gameday lab status', 'gameday lab --help' for every runbook action.")
    summary, result = run_rehearsal(drill, responder, fault=fault, seed=seed, env=env, out_dir=out_dir,
                                    state_dir=state_dir, keep_lab=keep_lab, on_progress=progress, run_id=run_id)
    print_summary(summary, out_dir)
    if result.get("not_rehearsed"):
        out.print(f"\nnot rehearsed: {escape(result['not_rehearsed'])} (nothing was broken; score not given)")
        exit_by(summary["verdict"])
    out.print(f"\nthe fault was: [bold]{result['fault']}[/]   score [bold]{result['score']}/100[/]"
              f"{' (incomplete)' if result['incomplete'] else ''}  time scale {result['time_scale']:g}")
    out.print(f"alert {result['time_to_alert_s']} s, declared {result['time_to_declare_s']} s, RTO "
              f"{result['rto_s']} s; mistakes: {len(result['mistakes'])}   debrief: {out_dir / 'score.md'}")
    exit_by(summary["verdict"])


def _lab_status(state_dir: Path) -> Any:
    from gameday.lab.control import LabClient
    from gameday.targets.local import lab_environment_status

    return lab_environment_status(LabClient(state_dir).status())


@runbook_app.command("render")
def render(runbook: Path = typer.Argument(..., help="Runbook YAML."),
           output: Path | None = typer.Option(None, "--out", help="Default: the YAML's path with .md.")) -> None:
    """Write the human form (Markdown) of a runbook from its YAML."""
    from gameday.drill.render import render_runbook

    rb = load_runbook(runbook)
    dest = output or runbook.with_suffix(".md")
    dest.write_text(render_runbook(rb, source_file=runbook.name))
    out.print(f"wrote {dest}")
