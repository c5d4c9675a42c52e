"""`wadoctor list` and `wadoctor check`: read-only views of every session found."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

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
    output_mode,
)


def _run(command: str, args: Targets, config_file: ConfigFile, json: bool, quiet: bool,
         verbose: bool, deep: bool = False, backups: bool = False, log_files: list[str] | None = None,
         registry: str | None = None, nagios: bool = False, prometheus: Path | None = None) -> None:
    from wadoctor.app.check import inspect
    from wadoctor.app.targets import targets
    from wadoctor.cli.output import Output
    from wadoctor.config import load_config, registry_url

    output = Output(output_mode(json, quiet, nagios), verbose)
    config = load_config(config_file)
    if verbose:
        output.warn(f"config: {config.source or 'none found; defaults'}")
    logs = fleet = None
    if log_files:
        from wadoctor.logs.run import analyze

        logs = analyze(log_files, config)
    url = registry_url(config, registry) if command == "check" else None
    if url:
        from wadoctor.fleet.link import FleetLink

        fleet = FleetLink(url, config.registry_stale_minutes)
    paths, sources = targets(args, config)
    report = inspect(paths, config, command, deep=deep, on_session=output.on_session,
                     keep_backups=backups and config.backups_keep > 0, logs=logs, fleet=fleet, sources=sources)
    output.prometheus(prometheus, command, int(report.exit_code()), config.prometheus_mask_phones, report=report)
    output.report(report)
    raise typer.Exit(int(report.exit_code()))


def list_sessions(paths: Targets = None, config_file: ConfigFile = None, json: Json = False,
                  quiet: Quiet = False, verbose: Verbose = False) -> None:
    """List every session found: identity, state, size and last activity.

    \b
    Example: wadoctor list /srv/gateway/sessions
    """
    _run("list", paths, config_file, json, quiet, verbose)


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
) -> None:
    """Diagnose every session found. Exit 0 ok, 1 warnings, 2 critical, 3 incomplete.

    Also keeps a few verified backups of each healthy creds.json (under <root>/.wadoctor/backups),
    so that `wadoctor fix` can restore one after a crash empties it.

    \b
    Example: wadoctor check --deep --logs /var/log/gateway.log /srv/gateway/sessions
    """
    _run("check", paths, config_file, json, quiet, verbose, deep, backups=not no_backup, log_files=log_files,
         registry=registry, nagios=nagios, prometheus=prometheus)
