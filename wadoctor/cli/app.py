"""The Typer application: every command, one module per command group, registered here.

Click builds a command's parameters from its function's signature on every run, a few
milliseconds per command; a run that names its command builds (and imports) only that one.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

import typer

from wadoctor import __version__

# name -> (module in wadoctor.cli, function, extra settings), in the order help lists them;
# a function of None names the module's own Typer app (a command group).
COMMANDS: dict[str, tuple[str, str | None, dict[str, Any]]] = {
    "list": ("inspect", "list_sessions", {}),
    "check": ("inspect", "check", {}),
    "fix": ("repair", "fix", {}),
    "clean": ("repair", "clean", {}),
    "clean-all": ("repair", "clean_all", {}),
    "restore": ("quarantine", "restore", {}),
    "quarantine": ("quarantine", None, {}),
    "logs": ("logs", "logs", {}),
    "fleet": ("fleet", "fleet", {}),
    "watch": ("watch", "watch", {}),
    "init": ("init", "init", {}),
    "guard": ("guard", "guard", {"context_settings": {"allow_interspersed_args": False}}),
}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"wadoctor {__version__}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """wadoctor: find and fix broken or conflicting WhatsApp gateway sessions."""


def build_app(only: str | None = None) -> typer.Typer:
    """The application with every command, or with just `only` where that names one."""
    app = typer.Typer(
        name="wadoctor",
        help="Session doctor and conflict fixer for WhatsApp multi-device gateways.",
        no_args_is_help=True,
        add_completion=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,  # help texts are plain: "[registry] url" stays as written
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(_root)
    for name in [only] if only in COMMANDS else COMMANDS:
        module_name, function, settings = COMMANDS[name]
        module = import_module(f"wadoctor.cli.{module_name}")
        if function is None:
            app.add_typer(module.app, name=name, **settings)
        else:
            app.command(name, **settings)(getattr(module, function))
    return app
