"""The ``gameday`` command: a thin layer over :mod:`gameday.api`; it parses arguments and prints.

Exit codes for every command: 0 pass, 1 fail, 2 invalid input or usage, 3 inconclusive, 4 aborted.
Every usage error is one line on stderr naming the option or file, never a traceback.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version

import click
import typer

from gameday.cli.aws import iam_policy_cmd, plan_cmd
from gameday.cli.chaos import chaos_app
from gameday.cli.common import err
from gameday.cli.dashboards import dashboards_app
from gameday.cli.drill import drill_app, recover_cmd, rehearse_cmd, report_cmd, runbook_app
from gameday.cli.lab import lab_app
from gameday.cli.load import load_app
from gameday.errors import EXIT_ABORTED, EXIT_INVALID, GamedayError

__all__ = ["app", "main"]

app = typer.Typer(help="Chaos, load and disaster-recovery drills, on AWS or on the embedded local lab. "
                       "Exit codes: 0 pass, 1 fail, 2 invalid input, 3 inconclusive, 4 aborted.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


def _version() -> str:
    try:
        return version("gameday-drills")
    except PackageNotFoundError:
        return "unknown"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"gameday {_version()}")
        raise typer.Exit(0)


@app.callback()
def _root(_: bool = typer.Option(False, "--version", callback=_show_version, is_eager=True,
                                 help="Print the version and exit.")) -> None:
    """Chaos, load and disaster-recovery drills."""


app.add_typer(lab_app, name="lab")
app.add_typer(load_app, name="load")
app.add_typer(chaos_app, name="chaos")
app.add_typer(drill_app, name="drill")
app.add_typer(runbook_app, name="runbook")
app.add_typer(dashboards_app, name="dashboards")
app.command("rehearse")(rehearse_cmd)
app.command("report")(report_cmd)
app.command("recover")(recover_cmd)
app.command("plan")(plan_cmd)
app.command("iam-policy")(iam_policy_cmd)


def _usage(exc: click.UsageError) -> int:
    ctx = exc.ctx
    if isinstance(exc, click.exceptions.NoArgsIsHelpError) or (ctx is not None and not exc.format_message()):
        click.echo(ctx.get_help() if ctx is not None else "", err=False)
        err.print(f"error: a command is missing (see '{ctx.command_path if ctx else 'gameday'} --help')",
                  highlight=False, markup=False)
        return EXIT_INVALID
    where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    message = " ".join(exc.format_message().split())
    err.print(f"error: {message}{where}", highlight=False, markup=False)
    return EXIT_INVALID


def main(argv: list[str] | None = None) -> None:
    try:
        code = app(args=argv, standalone_mode=False, prog_name="gameday")
    except GamedayError as exc:
        err.print(f"error: {' '.join(str(exc).split())}", highlight=False, markup=False)
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        sys.exit(_usage(exc))
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except (click.Abort, KeyboardInterrupt):
        err.print("aborted", highlight=False)
        sys.exit(EXIT_ABORTED)
    except click.ClickException as exc:  # e.g. a file option that cannot be opened
        err.print(f"error: {' '.join(exc.format_message().split())}", highlight=False, markup=False)
        sys.exit(EXIT_INVALID)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
