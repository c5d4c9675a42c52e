"""Log figures -> findings, with the same codes, severities and exit codes as `check`."""

from __future__ import annotations

import time
from typing import Any

from wadoctor.config import Config, Thresholds
from wadoctor.core.evidence import Count, LogConflicts, Storms
from wadoctor.core.findings import Finding, Observation, Severity
from wadoctor.logs.analysis import HOUR, SUMMARY_KINDS, SessionLog
from wadoctor.logs.events import DB_LOCKED, DECRYPT_FAILURE, LOGOUT, PROFILE_IN_USE
from wadoctor.util.exitcodes import ExitCode, outcome
from wadoctor.util.records import Record, field
from wadoctor.util.times import iso


def log_observations(log: SessionLog, thresholds: Thresholds) -> list[Observation]:
    found = []
    rate = log.worst_hourly_conflicts
    if rate >= thresholds.conflicts_warning_per_hour:
        critical = rate >= thresholds.conflicts_critical_per_hour
        found.append(Observation("log-conflicts", f"{log.conflicts} stream conflicts, up to {rate} within one hour "
                                 f"(warning at {thresholds.conflicts_warning_per_hour}, critical at "
                                 f"{thresholds.conflicts_critical_per_hour})",
                                 LogConflicts(log.conflicts, rate),
                                 Severity.CRITICAL if critical else None))
    if log.storms:
        found.append(Observation("log-reconnect-storm", f"{log.storms} reconnect storm(s), up to {log.worst_burst} "
                                 f"reconnects within {thresholds.storm_seconds:g}s",
                                 Storms(log.storms, log.worst_burst)))
    for kind, code, what in ((LOGOUT, "log-logged-out", "logged out (401 / device_removed)"),
                             (PROFILE_IN_USE, "log-profile-in-use", "Chromium refused the profile as in use"),
                             (DB_LOCKED, "log-db-locked", "'database is locked' errors"),
                             (DECRYPT_FAILURE, "log-decrypt-failures", "decryption failures (Bad MAC, no session)")):
        if log.count(kind):
            found.append(Observation(code, f"{log.count(kind)}x {what}", Count(log.count(kind))))
    return found


def figures(log: SessionLog) -> dict[str, Any]:
    named = {key: log.count(kind) for key, kind in SUMMARY_KINDS.items()}
    other = {k: v for k, v in sorted(log.counts.items()) if k not in SUMMARY_KINDS.values()}
    return {**named, "other": other, "worst_hourly_conflicts": log.worst_hourly_conflicts,
            "conflicts_last_hour": log.conflicts_since(time.time() - HOUR), "storms": log.storms,
            "first_seen": iso(log.first_seen), "last_seen": iso(log.last_seen)}


class LogReport(Record):
    sessions: list[tuple[SessionLog, list[Finding]]] = field(default_factory=list)
    lines: int = 0
    events: int = 0

    def exit_code(self) -> ExitCode:
        worst = max((f.severity.rank for _, found in self.sessions for f in found), default=0)
        return outcome(critical=worst >= 2, warning=worst == 1)


def build_report(logs: list[SessionLog], thresholds: Thresholds, config: Config, lines: int, events: int) -> LogReport:
    report = LogReport(lines=lines, events=events)
    for log in sorted(logs, key=lambda log: (-log.conflicts, log.session)):
        found = [f for f in (o.finding(config.severity) for o in log_observations(log, thresholds)) if f]
        report.sessions.append((log, sorted(found, key=lambda f: -f.severity.rank)))
    return report
