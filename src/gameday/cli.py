"""The ``gameday`` command: a thin layer over the Python API.

Exit codes for every command: 0 pass, 1 fail, 2 invalid input, 3 inconclusive, 4 aborted.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from gameday.cli_aws import iam_policy_cmd, plan
from gameday.cli_chaos import chaos_app
from gameday.cli_dashboards import dashboards_app
from gameday.cli_lab import lab_app
from gameday.cli_load import load_app
from gameday.errors import EXIT_INVALID, GamedayError

__all__ = ["app", "main"]

app = typer.Typer(help="Chaos, load and disaster-recovery drills, on AWS or on the embedded local lab.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
app.add_typer(lab_app, name="lab")
app.add_typer(load_app, name="load")
app.add_typer(chaos_app, name="chaos")
app.add_typer(dashboards_app, name="dashboards")
app.command("plan")(plan)
app.command("iam-policy")(iam_policy_cmd)

err = Console(stderr=True, soft_wrap=True)  # an error line stays one line, whatever the width


def _register_optional() -> None:
    # Commands of later layers register themselves when their modules exist.
    try:
        from gameday.cli_drill import register as register_drill
    except ImportError:
        return
    register_drill(app)


_register_optional()


def main(argv: list[str] | None = None) -> None:
    try:
        code = app(args=argv, standalone_mode=False)
    except GamedayError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(4)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(EXIT_INVALID)
        raise
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
