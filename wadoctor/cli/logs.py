"""`wadoctor logs`: conflicts, logouts and reconnect storms per session, from gateway logs."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from wadoctor.cli import runs
from wadoctor.cli.options import ConfigFile, Json, Prometheus, Quiet, Verbose


def logs(
    files: Annotated[list[str], typer.Argument(help="Log files (plain, rotated, .gz), or - for standard input.",
                                               show_default=False)],
    since: Annotated[Optional[str], typer.Option(
        "--since", help="Only events after this (ISO time, or 30m, 2h, 1d ago).")] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="Only events before this.")] = None,
    session: Annotated[Optional[str], typer.Option("--session", help="Only this session id.")] = None,
    pattern: Annotated[Optional[str], typer.Option("--pattern", help="Regex with a (?P<session>...) group naming "
                                                   "a line's session.")] = None,
    follow: Annotated[bool, typer.Option(
        "--follow", "-f", help="Keep reading a growing file (or standard input); a summary refreshed in place on "
                               "a terminal, a line per alert otherwise.")] = False,
    config_file: ConfigFile = None,
    prometheus: Prometheus = None,
    json: Json = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> int:
    """Count stream conflicts, logouts, restarts, decrypt failures and reconnect storms per
    session in gateway logs. Exit 0 ok, 1 warnings, 2 critical, like check.

    \b
    Example: wadoctor logs --since 1h /var/log/gateway.log
    """
    return runs.logs(files, since, until, session, pattern, follow, config_file, prometheus, json, quiet, verbose)
