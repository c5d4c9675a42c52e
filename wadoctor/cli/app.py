"""The Typer application: every command, one module per command group, registered here."""

from __future__ import annotations

import typer

from wadoctor import __version__
from wadoctor.cli import fleet as fleet_cmd
from wadoctor.cli import guard as guard_cmd
from wadoctor.cli import init as init_cmd
from wadoctor.cli import logs as logs_cmd
from wadoctor.cli import quarantine as quarantine_cmd
from wadoctor.cli import repair as repair_cmd
from wadoctor.cli import inspect as inspect_cmd

app = typer.Typer(
    name="wadoctor",
    help="Session doctor and conflict fixer for WhatsApp multi-device gateways.",
    no_args_is_help=True,
    add_completion=True,
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
