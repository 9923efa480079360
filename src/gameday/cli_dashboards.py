"""``gameday dashboards push | check``, and the options every run command shares for Grafana and metrics."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from gameday.observe import Observers

__all__ = ["dashboards_app", "GRAFANA_URL", "METRICS_PORT", "observers"]

out = Console()
dashboards_app = typer.Typer(help="Grafana dashboards for load, drills and the lab.", no_args_is_help=True)

GRAFANA_URL = typer.Option(None, "--grafana-url", envvar="GRAFANA_URL",
                           help="Annotate the run in this Grafana (token from GRAFANA_TOKEN).")
METRICS_PORT = typer.Option(None, "--metrics-port", envvar="GAMEDAY_METRICS_PORT",
                            help="Serve the run's metrics on 127.0.0.1:PORT while it runs (e.g. 9464).")


def observers(run_id: str, kind: str, grafana_url: Optional[str], metrics_port: Optional[int]) -> Observers:
    """The run's observers; the token is read here, at the CLI edge, and never printed."""
    return Observers(run_id, kind, grafana_url=grafana_url, grafana_token=os.environ.get("GRAFANA_TOKEN"),
                     metrics_port=metrics_port).start()


@dashboards_app.command("push")
def push(grafana_url: str = typer.Option(..., "--grafana-url", envvar="GRAFANA_URL", help="e.g. http://grafana:3000"),
         folder: Path = typer.Option(Path("dashboards"), "--dir", help="Folder of dashboard JSON."),
         folder_title: str = typer.Option("gameday", "--folder", help="Grafana folder title.")) -> None:
    """Create or update every dashboard in a 'gameday' folder (idempotent; token from GRAFANA_TOKEN)."""
    from gameday.grafana.dashboards import load_dashboards, push_dashboards

    results = push_dashboards(load_dashboards(folder), url=grafana_url, token=os.environ.get("GRAFANA_TOKEN"),
                              folder_title=folder_title)
    for r in results:
        out.print(f"{r['uid']:<22} {r['title']:<28} {r['status']} (version {r['version']})")


@dashboards_app.command("check")
def check(folder: Path = typer.Option(Path("dashboards"), "--dir")) -> None:
    """List every metric the dashboards query (all of them exported by gameday)."""
    from gameday.grafana.dashboards import load_dashboards, metric_names, panel_queries

    for d in load_dashboards(folder):
        names = sorted({n for e in panel_queries(d) for n in metric_names(e)})
        out.print(f"{d['uid']}: {', '.join(names)}")
