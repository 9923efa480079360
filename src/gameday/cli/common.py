"""What every command shares: the consoles, the common options, progress lines, the exit by verdict."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer
from rich.console import Console

from gameday.lab.control import DEFAULT_DIR
from gameday.verdict import exit_code

__all__ = ["out", "err", "progress", "exit_by", "STATE_DIR", "GRAFANA_URL", "METRICS_PORT", "METRICS_ADDR", "METRICS_LINGER",
           "PUSHGATEWAY", "KEEP_LAB",
           "CONFIRM", "ask_line",
           "colour_of"]

out = Console()  # rich wraps long lines at word boundaries, at the terminal width (80 in a CI log)
err = Console(stderr=True, soft_wrap=True)  # an error line stays one line, whatever the width

STATE_DIR = typer.Option(DEFAULT_DIR, "--state-dir", help="The local lab's state directory.")
KEEP_LAB = typer.Option(False, "--keep-lab", help="Keep a lab this run started running afterwards.")
CONFIRM = typer.Option(None, "--confirm", help="The environment's name, if it is protected.")
GRAFANA_URL = typer.Option(None, "--grafana-url", envvar="GRAFANA_URL",
                           help="Annotate the run in this Grafana (token from GRAFANA_TOKEN).")
METRICS_PORT = typer.Option(None, "--metrics-port", envvar="GAMEDAY_METRICS_PORT", min=0, max=65535,
                            help="Serve the run's metrics on PORT while it runs (e.g. 9464).")
METRICS_ADDR = typer.Option("127.0.0.1", "--metrics-addr", envvar="GAMEDAY_METRICS_ADDR",
                            help="Address the metrics endpoint binds (0.0.0.0 in a pod Prometheus scrapes).")
METRICS_LINGER = typer.Option(0.0, "--metrics-linger", envvar="GAMEDAY_METRICS_LINGER", min=0, max=3600,
                              metavar="SECONDS",
                              help="Keep serving the final RTO, RPO and lost count this long after the run "
                                   "(at least one scrape interval).")
PUSHGATEWAY = typer.Option(None, "--pushgateway", envvar="GAMEDAY_PUSHGATEWAY", metavar="URL",
                           help="Push the run's final metrics to this Prometheus Pushgateway (CronJobs).")


def ask_line(prompt: str) -> str:
    """One answer from a person at the terminal or from a script on stdin (EOFError when there is none)."""
    if sys.stdin.isatty():
        return input(prompt)
    out.print(prompt, end="", highlight=False, markup=False)  # "[y = ...]" is text, not a style
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    out.print(line.rstrip("\n"), highlight=False)  # a scripted answer shows in the log like a typed one
    return line.rstrip("\n")


def progress(msg: str) -> None:
    out.print(f"[dim]·[/] {msg}", highlight=False)


def colour_of(verdict: str) -> str:
    return {"pass": "green", "fail": "red"}.get(verdict.lower(), "yellow")


def exit_by(verdict: str) -> NoReturn:
    raise typer.Exit(exit_code(verdict))


