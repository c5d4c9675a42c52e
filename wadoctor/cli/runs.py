"""What `list`, `check` and `logs` do once their arguments are parsed.

These three run from cron, monitoring and deploy hooks many times a day, so their bodies
stay free of Typer: the fast path (cli/hot.py) calls them with the same arguments as the
Typer commands that declare them (cli/inspect.py, cli/logs.py). Each returns its exit code.
"""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from wadoctor.cli.output import Mode, Output, output_mode, stream_writer
from wadoctor.util.errors import UsageError

if TYPE_CHECKING:
    from wadoctor.config import Config
    from wadoctor.logs.report import LogReport


def _inspect(command: str, args: list[str] | None, config_file: Path | None, mode: Mode, verbose: bool,
             deep: bool = False, backups: bool = False, log_files: list[str] | None = None,
             registry: str | None = None, prometheus: Path | None = None) -> int:
    from wadoctor.app.check import inspect
    from wadoctor.app.targets import targets
    from wadoctor.config import load_config, registry_url

    output = Output(mode, verbose)
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
                     keep_backups=backups and config.backups_keep > 0, logs=logs, fleet=fleet, sources=sources,
                     writer=stream_writer(mode, prometheus) if sources else None)
    try:
        output.prometheus(prometheus, command, int(report.exit_code()), config.prometheus_mask_phones, report=report)
        output.report(report)
    finally:
        report.close()
    return int(report.exit_code())


def list_sessions(paths: list[str] | None = None, config_file: Path | None = None, json: bool = False,
                  quiet: bool = False, verbose: bool = False) -> int:
    return _inspect("list", paths, config_file, output_mode(json, quiet), verbose)


def check(paths: list[str] | None = None, config_file: Path | None = None, json: bool = False,
          quiet: bool = False, verbose: bool = False, deep: bool = False, no_backup: bool = False,
          log_files: list[str] | None = None, registry: str | None = None, nagios: bool = False,
          prometheus: Path | None = None) -> int:
    return _inspect("check", paths, config_file, output_mode(json, quiet, nagios), verbose, deep,
                    backups=not no_backup, log_files=log_files, registry=registry, prometheus=prometheus)


def logs(files: list[str], since: str | None = None, until: str | None = None, session: str | None = None,
         pattern: str | None = None, follow: bool = False, config_file: Path | None = None,
         prometheus: Path | None = None, json: bool = False, quiet: bool = False, verbose: bool = False) -> int:
    from wadoctor.config import load_config

    output = Output(output_mode(json, quiet), verbose)
    config = load_config(config_file)
    if not follow:
        from wadoctor.app.logs import read_logs

        report = read_logs(files, config, since, until, session, pattern)
    else:
        if len(files) != 1:
            raise UsageError("--follow reads one file (or -)")
        report = _follow(files[0], config, output, since, until, session, pattern)
    if output.mode is Mode.JSON:
        from wadoctor.render.envelope import write_json
        from wadoctor.render.logsjson import logs_document

        write_json(logs_document(report))
    elif output.mode is Mode.QUIET:
        for log, found in report.sessions:
            for finding in found:
                if finding.severity.rank:
                    output.out.print(f"{finding.severity.value} {finding.code} {log.session}: {finding.message}")
    else:
        from wadoctor.render.logsout import logs_view

        output.out.print(logs_view(report, verbose))
    output.prometheus(prometheus, "logs", int(report.exit_code()), config.prometheus_mask_phones, logs=report)
    return int(report.exit_code())


def _follow(name: str, config: Config, output: Output, since: str | None, until: str | None,
            session: str | None, pattern: str | None) -> LogReport:
    """Until SIGINT or SIGTERM: alerts as they happen (or, on a terminal, the table kept
    current in place), then the final summary."""
    from wadoctor.app.logs import follow_log
    from wadoctor.logs.report import LogReport as Empty
    from wadoctor.render.logsout import logs_view
    from wadoctor.util.escape import visible

    stopping = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.append(True))

    def stop() -> bool:
        return bool(stopping)

    if output.out.is_terminal and output.mode is Mode.TABLE:
        from rich.live import Live

        with Live(logs_view(Empty()), console=output.out, refresh_per_second=2) as live:
            return follow_log(name, config, stop, since, until, session, pattern,
                              on_line=lambda report: live.update(logs_view(report)))

    def alert(text: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        print(f"{stamp} alert {visible(text)}", flush=True)

    return follow_log(name, config, stop, since, until, session, pattern,
                      on_alert=alert if output.mode is not Mode.JSON else None)
