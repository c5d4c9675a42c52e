"""`wadoctor logs`: conflicts, logouts and reconnect storms per session, from gateway logs."""

from __future__ import annotations

import json as jsonlib
import re
import signal
import sys
import time
from datetime import datetime, timezone
from typing import Annotated, Optional

import typer
from rich.live import Live

from wadoctor.cli.options import ConfigFile, Json, Quiet, Verbose, output_mode
from wadoctor.cli.output import Mode, Output
from wadoctor.config import Config, load_config
from wadoctor.errors import UsageError
from wadoctor.logs.analysis import LogAnalysis, feed
from wadoctor.logs.events import LineParser, may_matter, parse_time
from wadoctor.logs.report import LogReport, build_report
from wadoctor.logs.sources import follow as follow_lines
from wadoctor.logs.sources import candidate_lines
from wadoctor.render.logsout import logs_document, logs_view

_RELATIVE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_when(value: str | None, option: str) -> float | None:
    """`--since 2h` (ago) or an ISO 8601 time."""
    if value is None:
        return None
    match = _RELATIVE.match(value)
    if match:
        return time.time() - int(match[1]) * _UNITS[match[2]]
    stamp = parse_time(value)
    if stamp is None:
        raise UsageError(f"{option} takes an ISO time (2026-11-21T10:00:00Z) or an age (30m, 2h, 1d), not {value!r}")
    return stamp


def make_parser(config: Config, pattern: str | None) -> LineParser:
    compiled = None
    if pattern is not None:
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise UsageError(f"--pattern is not a valid regular expression: {exc}") from None
        if "session" not in compiled.groupindex:
            raise UsageError("--pattern needs a named group (?P<session>...)")
    return LineParser(config.log_session_keys, compiled)


def analyze(files: list[str], config: Config, since: str | None = None, until: str | None = None,
            session: str | None = None, pattern: str | None = None) -> LogAnalysis:
    analysis = LogAnalysis(config.log_thresholds, parse_when(since, "--since"), parse_when(until, "--until"), session)
    counter = [0]
    feed(analysis, make_parser(config, pattern), candidate_lines(files, counter))
    analysis.lines = counter[0]
    return analysis


def _report(analysis: LogAnalysis, config: Config) -> LogReport:
    return build_report(list(analysis.sessions.values()), config.log_thresholds, config, analysis.lines,
                        analysis.events)


def logs(
    files: Annotated[list[str], typer.Argument(help="Log files (plain, rotated, .gz), or - for standard input.",
                                               show_default=False)],
    since: Annotated[Optional[str], typer.Option("--since", help="Only events after this (ISO time, or 30m, 2h, 1d ago).")] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="Only events before this.")] = None,
    session: Annotated[Optional[str], typer.Option("--session", help="Only this session id.")] = None,
    pattern: Annotated[Optional[str], typer.Option("--pattern", help="Regex with a (?P<session>...) group naming "
                                                   "a line's session.")] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep reading a growing file (or standard input); "
                                         "a summary refreshed in place on a terminal, a line per alert otherwise.")] = False,
    config_file: ConfigFile = None,
    json: Json = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Count stream conflicts, logouts, restarts, decrypt failures and reconnect storms per
    session in gateway logs. Exit 0 ok, 1 warnings, 2 critical, like check."""
    output = Output(output_mode(json, quiet), verbose)
    config = load_config(config_file)
    if not follow:
        report = _report(analyze(files, config, since, until, session, pattern), config)
    else:
        if len(files) != 1:
            raise UsageError("--follow reads one file (or -)")
        report = _follow(files[0], config, output, since, until, session, pattern)
    if output.mode is Mode.JSON:
        sys.stdout.write(jsonlib.dumps(logs_document(report), indent=2, default=str) + "\n")
    elif output.mode is Mode.QUIET:
        for log, found in report.sessions:
            for finding in found:
                if finding.severity.rank:
                    output.out.print(f"{finding.severity.value} {finding.code} {log.session}: {finding.message}",
                                     markup=False)
    else:
        output.out.print(logs_view(report, verbose))
    raise typer.Exit(int(report.exit_code()))


def _follow(name: str, config: Config, output: Output, since: str | None, until: str | None,
            session: str | None, pattern: str | None) -> LogReport:
    """Until SIGINT or SIGTERM: alerts as they happen, then the final summary."""
    stopping = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.append(True))
    analysis = LogAnalysis(config.log_thresholds, parse_when(since, "--since"), parse_when(until, "--until"), session)
    parser = make_parser(config, pattern)
    lines = ((n, line) for n, line in enumerate(follow_lines(name, lambda: bool(stopping))) if may_matter(line))
    if output.out.is_terminal and output.mode is Mode.TABLE:
        with Live(logs_view(_report(analysis, config)), console=output.out, refresh_per_second=2) as live:
            for line in lines:
                feed(analysis, parser, [line])
                live.update(logs_view(_report(analysis, config)))
    else:
        def alert(text: str) -> None:
            stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            print(f"{stamp} alert {text}", flush=True)

        feed(analysis, parser, lines, on_alert=alert if output.mode is not Mode.JSON else None)
    return _report(analysis, config)
