"""The ``gameday`` command: a thin layer over :mod:`gameday.api`; it parses arguments and prints.

Exit codes for every command: 0 pass, 1 fail, 2 invalid input or usage, 3 inconclusive, 4 aborted.
Every usage error is one line on stderr naming the option or file, never a traceback.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version

import typer

from gameday.cli.aws import iam_policy_cmd, plan_cmd
from gameday.cli.chaos import chaos_app
from gameday.cli.common import err
from gameday.cli.dashboards import dashboards_app
from gameday.cli.drill import drill_app, recover_cmd, rehearse_cmd, report_cmd, restore_test_cmd, runbook_app
from gameday.cli.history import history_cmd
from gameday.cli.init import init_cmd
from gameday.cli.lab_ops import lab_app
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
app.command("restore-test")(restore_test_cmd)
app.command("plan")(plan_cmd)
app.command("iam-policy")(iam_policy_cmd)
app.command("history")(history_cmd)
app.command("init")(init_cmd)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _usage(exc: typer.TyperException) -> int:
    """A usage error (typer's vendored click raises them): one line on stderr, exit 2."""
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "gameday"
    if type(exc).__name__ == "NoArgsIsHelpError":
        typer.echo(ctx.get_help() if ctx is not None else "")
        err.print(f"error: a command is missing (see '{path} --help')", highlight=False, markup=False)
        return EXIT_INVALID
    message = _one_line(exc.format_message()) if hasattr(exc, "format_message") else _one_line(str(exc))
    err.print(f"error: {message} (see '{path} --help')", highlight=False, markup=False)
    return EXIT_INVALID


def main(argv: list[str] | None = None) -> None:
    try:
        code = app(args=argv, standalone_mode=False, prog_name="gameday")
    except GamedayError as exc:
        err.print(f"error: {_one_line(str(exc))}", highlight=False, markup=False)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted", highlight=False)
        sys.exit(EXIT_ABORTED)
    except typer.TyperException as exc:  # usage errors: unknown option or command, a bad or missing value
        sys.exit(_usage(exc))
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
