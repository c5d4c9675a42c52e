"""Reading logs end to end for `logs` and `check --logs`: filters, parser, files -> analysis."""

from __future__ import annotations

import re
import time

from wadoctor.config import Config
from wadoctor.logs.analysis import LogAnalysis, feed_rows
from wadoctor.logs.events import LineParser, parse_time
from wadoctor.logs.report import LogReport, build_report
from wadoctor.logs.scanner import LogScan
from wadoctor.util.cores import available_cores
from wadoctor.util.errors import UsageError
from wadoctor.util.times import AGE_EXAMPLES, parse_age


def parse_when(value: str | None, option: str) -> float | None:
    """`--since 2h` (ago) or an ISO 8601 time."""
    if value is None:
        return None
    age = parse_age(value)
    if age is not None:
        return time.time() - age
    stamp = parse_time(value)
    if stamp is None:
        raise UsageError(f"{option} takes an ISO time (2026-11-21T10:00:00Z) or an age ({AGE_EXAMPLES}), not {value!r}")
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
    return LineParser(config.log_session_keys, compiled, config.log_zone)


def new_analysis(config: Config, since: str | None = None, until: str | None = None,
                 session: str | None = None) -> LogAnalysis:
    return LogAnalysis(config.log_thresholds, parse_when(since, "--since"), parse_when(until, "--until"), session)


def analyze(files: list[str], config: Config, since: str | None = None, until: str | None = None,
            session: str | None = None, pattern: str | None = None) -> LogAnalysis:
    analysis = new_analysis(config, since, until, session)
    scan = LogScan(files, make_parser(config, pattern), available_cores())
    feed_rows(analysis, scan)
    analysis.lines = scan.lines
    return analysis


def report_of(analysis: LogAnalysis, config: Config) -> LogReport:
    return build_report(list(analysis.sessions.values()), config.log_thresholds, config, analysis.lines,
                        analysis.events)
