"""`wadoctor logs`: conflicts, logouts and reconnect storms per session, from gateway logs."""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from wadoctor.cli.options import ConfigFile, Json, Mode, Prometheus, Quiet, Verbose, output_mode
from wadoctor.util.errors import UsageError

if TYPE_CHECKING:
    from wadoctor.cli.output import Output
    from wadoctor.config import Config
    from wadoctor.logs.report import LogReport


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
) -> None:
    """Count stream conflicts, logouts, restarts, decrypt failures and reconnect storms per
    session in gateway logs. Exit 0 ok, 1 warnings, 2 critical, like check.

    \b
    Example: wadoctor logs --since 1h /var/log/gateway.log
    """
    from wadoctor.cli.output import Output
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
    raise typer.Exit(int(report.exit_code()))


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
