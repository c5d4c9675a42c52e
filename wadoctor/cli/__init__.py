"""The Typer layer: parses arguments, calls the core, maps errors to exit codes."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

import typer

# Typer vendors Click (>= 0.26); its UsageError is what a bad command line raises.
from typer._click.exceptions import ClickException, UsageError as ClickUsageError

from wadoctor import __version__
from wadoctor.cli import fleet as fleet_cmd
from wadoctor.cli import guard as guard_cmd
from wadoctor.cli import init as init_cmd
from wadoctor.cli import logs as logs_cmd
from wadoctor.cli import quarantine as quarantine_cmd
from wadoctor.cli import repair as repair_cmd
from wadoctor.cli import inspect as inspect_cmd
from wadoctor.errors import WadoctorError
from wadoctor.exitcodes import ExitCode
from wadoctor.escape import visible

app = typer.Typer(
    name="wadoctor",
    help="Session doctor and conflict fixer for WhatsApp multi-device gateways.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts are plain: "[registry] url" stays as written
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("list")(inspect_cmd.list_sessions)
app.command("check")(inspect_cmd.check)
app.command("fix")(repair_cmd.fix)
app.command("clean")(repair_cmd.clean)
app.command("clean-all")(repair_cmd.clean_all)
app.command("restore")(quarantine_cmd.restore)
app.add_typer(quarantine_cmd.app, name="quarantine")
app.command("logs")(logs_cmd.logs)
app.command("fleet")(fleet_cmd.fleet)
app.command("init")(init_cmd.init)
app.command("guard", context_settings={"allow_interspersed_args": False})(guard_cmd.guard)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"wadoctor {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """wadoctor: find and fix broken or conflicting WhatsApp gateway sessions."""


def _fail(message: str, code: ExitCode) -> None:
    print(f"wadoctor: error: {visible(message)}", file=sys.stderr)
    sys.exit(int(code))


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: never a traceback for a user error, always a documented code."""
    try:
        code = app(args=list(argv) if argv is not None else None, prog_name="wadoctor", standalone_mode=False)
    except ClickUsageError as exc:
        exc.message = visible(exc.message)  # it may quote what was typed
        exc.show()
        sys.exit(int(ExitCode.USAGE))
    except ClickException as exc:
        exc.message = visible(exc.message)
        exc.show()
        sys.exit(int(ExitCode.INCOMPLETE))
    except WadoctorError as exc:
        _fail(str(exc), exc.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        _fail("interrupted", ExitCode.INCOMPLETE)
    except Exception as exc:  # noqa: BLE001 - the last line of defence against a traceback
        if os.environ.get("WADOCTOR_DEBUG"):
            traceback.print_exc()
        _fail(f"internal error: {type(exc).__name__}: {exc} (set WADOCTOR_DEBUG=1 for the traceback "
              "and please report it)", ExitCode.INCOMPLETE)
    sys.exit(int(code or 0))
