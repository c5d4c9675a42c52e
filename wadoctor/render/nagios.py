"""One line for monitoring-plugins runners (Nagios, Icinga, Zabbix, Sensu).

`SERVICE STATUS - text | perfdata`, as the monitoring-plugins guidelines set it, with the exit
code wadoctor already uses (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN). The text names the worst
findings; names from outside are made visible and a `|`, which would start the perfdata, is
escaped too.
"""

from __future__ import annotations

from wadoctor.core.findings import Severity
from wadoctor.pipeline.report import Report
from wadoctor.util.escape import visible

STATUS = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}
NAMED = 3  # findings named in the text; the rest are counted


def _plain(text: object) -> str:
    return visible(text).replace("|", "\\x7c")


def nagios_line(report: Report, exit_code: int) -> str:
    counts = report.severity_counts()
    worst: list[tuple[int, str, str]] = []
    held = conflicts = 0
    for session in report.every_session():  # one pass: sessions written as they came are read back
        worst += [(f.severity.rank, f.code, session.id) for f in session.findings if f.severity is not Severity.INFO]
        held += bool(session.holders)
        conflicts += int((session.logs or {}).get("conflicts_last_hour") or 0)
    worst.sort(reverse=True)
    worst += [(f.severity.rank, f.code, subject) for subject, f in report.fleet_findings if f.severity.rank]
    text = f"{report.total} sessions"
    if worst:
        named = ", ".join(f"{code} on {_plain(subject)}" for _, code, subject in worst[:NAMED])
        more = f" and {len(worst) - NAMED} more" if len(worst) > NAMED else ""
        text += f", {counts['critical']} critical, {counts['warning']} warning: {named}{more}"
    if not report.complete:
        text += f"; incomplete: {len(report.problems)} path(s) could not be searched"
    if report.empty:
        text += f"; no session found in {_plain(report.empty[0])}" + (
            f" and {len(report.empty) - 1} more" if len(report.empty) > 1 else "")
    perfdata = (f"sessions={report.total};;;0 critical={counts['critical']};;;0 "
                f"warning={counts['warning']};;;0 held={held};;;0 conflicts_1h={conflicts};;;0")
    return f"WADOCTOR {STATUS.get(exit_code, 'UNKNOWN')} - {text} | {perfdata}"
