"""``gameday load run | gate | plan``: Locust profiles against the lab (default) or any URL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console

from gameday.cli_dashboards import GRAFANA_URL, METRICS_PORT, observers
from gameday.lab.control import DEFAULT_DIR
from gameday.load.slo import parse_slo
from gameday.load.summary import EXIT_CODES

__all__ = ["load_app"]

out = Console()
load_app = typer.Typer(help="Open-model ingest load on Locust, and the pre-release load gate.", no_args_is_help=True)

PROFILE = typer.Argument(..., help="A locustfile, e.g. loadprofiles/ingest_ramp.py.")


def _progress(rec: dict[str, Any]) -> None:
    out.print(f"[dim]t={rec['t']:>6.1f}s[/] worker {rec['worker']}: target {rec['target_rate']:,.0f}/s  "
              f"acked {rec['acked_events']:,}  p95 {rec['p95_ms']} ms  errors {rec['errors'] + rec['indeterminate']}  "
              f"late {rec['late']}  dropped {rec['dropped']}  cpu {rec['cpu_percent']} %", highlight=False)


def _run(profile: Path, env: Path, host: Optional[str], rate: float, duration: float, batch: int, workers: int,
         out_dir: Path, slo: list[str], hard_limit: list[str], grace: float, state_dir: Path, quiet: bool,
         grafana_url: Optional[str] = None, metrics_port: Optional[int] = None) -> dict[str, Any]:
    from gameday.config import load_environment
    from gameday.lab.control import LabClient, lab_down, lab_up
    from gameday.errors import LabError
    from gameday.load.run import LoadRun

    slos = [parse_slo(s) for s in slo]  # invalid expressions exit 2 before anything starts
    limits = [parse_slo(s) for s in hard_limit]
    started = False
    if host is None:
        environment = load_environment(env)
        if environment.aws is not None:
            host = environment.aws.public_url
    if host is None:
        try:
            host = LabClient(state_dir).public_endpoint
        except LabError:
            with out.status("starting the local lab…"):
                host = lab_up(env, state_dir).public_endpoint
            started = True
    from gameday.journal import Journal

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "journal.jsonl").unlink(missing_ok=True)
    journal = Journal(out_dir / "journal.jsonl")  # gate.start, load.tick...: what annotations and metrics follow
    run = LoadRun(profile=profile, host=host, out_dir=out_dir, rate=rate, duration=duration, batch=batch,
                  workers=workers, slos=slos, hard_limits=limits, grace_s=grace)
    obs = observers(run.run_id, "load-gate", grafana_url, metrics_port)
    obs.attach(journal)

    def progress(rec: dict[str, Any]) -> None:
        journal.record("load.tick", "load", rec)
        if not quiet:
            _progress(rec)

    run.on_progress = progress
    journal.record("gate.start", "runner", {"profile": str(profile), "rate": rate, "host": host})
    summary: dict[str, Any] = {"verdict": "INCONCLUSIVE"}
    try:
        summary = run.execute()
    finally:
        obs.finish(summary["verdict"], "; ".join(summary.get("reasons", [])))
        journal.close()
        if started:
            lab_down(state_dir)
    return summary


def _print(s: dict[str, Any], out_dir: Path) -> None:
    colour = {"PASS": "green", "FAIL": "red"}.get(s["verdict"], "yellow")
    out.print(f"[bold {colour}]{s['verdict']}[/]  achieved {s['achieved_rate']:,} events/s of {s['target_rate']:,} "
              f"({s['achieved_ratio']})  p50 {s['p50_ms']} ms  p95 {s['p95_ms']} ms  p99 {s['p99_ms']} ms  "
              f"errors {s['error_ratio']}  late {s['late']}  dropped {s['dropped']}")
    for x in s["slos"]:
        out.print(f"  {x['expr']:<18} observed {x['observed']!s:<12} {'[green]ok[/]' if x['ok'] else '[red]BREACHED[/]'}")
    for r in s["reasons"]:
        out.print(f"  [{colour}]- {r}[/]")
    out.print(f"summary: {out_dir / 'summary.json'} (also junit.xml, report.html, ledger.txt)")


ENV = typer.Option(Path("environments/local.yaml"), "--env", help="Environment (default: the local lab).")
HOST = typer.Option(None, "--host", help="Base URL to load instead of the environment's public endpoint.")
RATE = typer.Option(100.0, "--rate", help="Target events per second.")
DURATION = typer.Option(30.0, "--duration", help="Seconds of load.")
BATCH = typer.Option(1, "--batch", help="Events per request.")
WORKERS = typer.Option(1, "--workers", help="Locust worker processes (master + N workers when N > 1).")
DIR = typer.Option(DEFAULT_DIR, "--state-dir", help="The local lab's state directory.")


@load_app.command("run")
def run(profile: Path = PROFILE, env: Path = ENV, host: Optional[str] = HOST, rate: float = RATE,
        duration: float = DURATION, batch: int = BATCH, workers: int = WORKERS,
        out_dir: Path = typer.Option(Path("out/load"), "--out"), state_dir: Path = DIR,
        quiet: bool = typer.Option(False, "--quiet", help="No per-second progress.")) -> None:
    """Run PROFILE and report; the verdict only reflects the generator's health (no SLOs)."""
    s = _run(profile, env, host, rate, duration, batch, workers, out_dir, [], [], 5.0, state_dir, quiet)
    _print(s, out_dir)
    raise typer.Exit(EXIT_CODES[s["verdict"]])


@load_app.command("gate")
def gate(profile: Path = PROFILE, env: Path = ENV, host: Optional[str] = HOST, rate: float = RATE,
         duration: float = DURATION, batch: int = BATCH, workers: int = WORKERS,
         slo: list[str] = typer.Option([], "--slo", help="e.g. 'p95<300ms', 'errors<0.1%', 'achieved>=95%'"),
         hard_limit: list[str] = typer.Option([], "--hard-limit", help="Abort early when breached past --grace, "
                                              "judged per second, e.g. 'errors<50%'"),
         grace: float = typer.Option(5.0, "--grace", help="Seconds a hard limit may be breached before the abort."),
         out_dir: Path = typer.Option(Path("out/gate"), "--out"), state_dir: Path = DIR,
         quiet: bool = typer.Option(False, "--quiet"),
         grafana_url: Optional[str] = GRAFANA_URL, metrics_port: Optional[int] = METRICS_PORT) -> None:
    """Pre-release gate: PASS (0), FAIL (1: an SLO or hard limit breached), INCONCLUSIVE (3: the generator
    saturated its CPU, fell behind its schedule or dropped requests)."""
    if not slo:
        from gameday.errors import ConfigError

        raise ConfigError("a gate needs at least one --slo", field="--slo")
    s = _run(profile, env, host, rate, duration, batch, workers, out_dir, slo, hard_limit, grace, state_dir, quiet,
             grafana_url, metrics_port)
    _print(s, out_dir)
    raise typer.Exit(EXIT_CODES[s["verdict"]])


@load_app.command("plan")
def plan(rate: float = typer.Option(..., "--rate", help="Target events per second, e.g. 1000000."),
         batch: int = typer.Option(100, "--batch"),
         calibration: Path = typer.Option(Path("out/bench-load/calibration.json"), "--calibration",
                                          help="Written by 'make bench-load'."),
         headroom: float = typer.Option(0.6, "--headroom", help="Share of a core a worker may use (0..1).")) -> None:
    """Turn this machine's calibration into a worker-fleet size, and say how."""
    from gameday.load.plan import fleet_size

    if not calibration.exists():
        from gameday.errors import ConfigError

        raise ConfigError("no calibration: run 'make bench-load' first", file=str(calibration))
    result = fleet_size(json.loads(calibration.read_text()), rate=rate, batch=batch, headroom=headroom)
    out.print(result["explanation"])
    typer.echo(json.dumps({k: v for k, v in result.items() if k != "explanation"}, indent=2))
