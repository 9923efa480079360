"""``gameday dashboards push | check``."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from gameday.cli.common import out

__all__ = ["dashboards_app"]

dashboards_app = typer.Typer(help="Grafana dashboards for load, drills and the lab.", no_args_is_help=True)


@dashboards_app.command("push")
def push(grafana_url: str = typer.Option(..., "--grafana-url", envvar="GRAFANA_URL", help="e.g. http://grafana:3000"),
         folder: Path = typer.Option(Path("dashboards"), "--dir", help="Folder of dashboard JSON."),
         folder_title: str = typer.Option("gameday", "--folder", help="Grafana folder title.")) -> None:
    """Create or update every dashboard in a 'gameday' folder (idempotent; token from GRAFANA_TOKEN)."""
    from gameday.errors import ConfigError
    from gameday.grafana.dashboards import load_dashboards, push_dashboards

    token = os.environ.get("GRAFANA_TOKEN")
    if not token:  # Grafana would answer 401 with no word about the token
        raise ConfigError("GRAFANA_TOKEN is not set: export a Grafana service-account token (Editor role) as "
                          "GRAFANA_TOKEN")
    results = push_dashboards(load_dashboards(folder), url=grafana_url, token=token, folder_title=folder_title)
    for r in results:
        out.print(f"{r['uid']:<22} {r['title']:<28} {r['status']} (version {r['version']})")


@dashboards_app.command("check")
def check(folder: Path = typer.Option(Path("dashboards"), "--dir")) -> None:
    """List every metric the dashboards query (all of them exported by gameday)."""
    from gameday.grafana.dashboards import load_dashboards, metric_names, panel_queries

    for d in load_dashboards(folder):
        names = sorted({n for e in panel_queries(d) for n in metric_names(e)})
        out.print(f"{d['uid']}: {', '.join(names)}")
