"""`wadoctor list` and `wadoctor check`: read-only views of every session found."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from wadoctor.cli import runs
from wadoctor.cli.options import (
    ConfigFile,
    Json,
    Nagios,
    NoBackup,
    Prometheus,
    Quiet,
    Registry,
    Targets,
    Verbose,
)


def list_sessions(paths: Targets = None, config_file: ConfigFile = None, json: Json = False,
                  quiet: Quiet = False, verbose: Verbose = False) -> int:
    """List every session found: identity, state, size and last activity.

    \b
    Example: wadoctor list /srv/gateway/sessions
    """
    return runs.list_sessions(paths, config_file, json, quiet, verbose)


def check(
    paths: Targets = None,
    config_file: ConfigFile = None,
    json: Json = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
    deep: Annotated[bool, typer.Option("--deep", help="Also parse every key file (slower, uses all cores).")] = False,
    no_backup: NoBackup = False,
    log_files: Annotated[Optional[list[str]], typer.Option("--logs", metavar="FILE", help="Gateway log to join "
                                                           "on session ids (repeatable; - for stdin).")] = None,
    registry: Registry = None,
    nagios: Nagios = False,
    prometheus: Prometheus = None,
) -> int:
    """Diagnose every session found. Exit 0 ok, 1 warnings, 2 critical, 3 incomplete.

    Also keeps a few verified backups of each healthy creds.json (under <root>/.wadoctor/backups),
    so that `wadoctor fix` can restore one after a crash empties it.

    \b
    Example: wadoctor check --deep --logs /var/log/gateway.log /srv/gateway/sessions
    """
    return runs.check(paths, config_file, json, quiet, verbose, deep, no_backup, log_files, registry, nagios,
                      prometheus)
