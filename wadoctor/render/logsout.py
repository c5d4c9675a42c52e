"""How `wadoctor logs` shows its figures on a terminal (the JSON is in `logsjson`)."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Group
from rich.table import Table

from wadoctor.logs.report import LogReport, figures
from wadoctor.render.console import text
from wadoctor.render.table import finding_lines, human_age

COLUMNS = ("conflicts", "worst_hourly_conflicts", "logouts", "restarts", "connection_losses", "decrypt_failures",
           "reconnects", "storms")
HEADERS = ("CONFLICTS", "WORST/H", "LOGOUTS", "RESTARTS", "LOST", "DECRYPT", "RECONNECTS", "STORMS")


def logs_table(report: LogReport) -> Table:
    now = time.time()
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("SESSION", overflow="fold")
    for header in (*HEADERS, "LAST SEEN"):
        table.add_column(header, justify="right", no_wrap=True)
    for log, found in report.sessions:
        row = figures(log)
        style = "bold red" if any(f.severity.rank == 2 for f in found) else "yellow" if found else ""
        table.add_row(text(shown_name(log.session), style), *(str(row[c]) for c in COLUMNS),
                      human_age(log.last_seen, now))
    return table


def logs_view(report: LogReport, verbose: bool = False) -> Group:
    parts: list[Any] = [logs_table(report) if report.sessions else text("No conflict or reconnect events found.")]
    for log, found in report.sessions:
        if found:
            parts.append(text(""))
            parts.append(Group(text(shown_name(log.session), "bold"), *finding_lines(found, verbose)))
    parts.append(text(""))
    parts.append(text(f"{plural(report.lines, 'line')}, {plural(report.events, 'event')}, "
                      f"{plural(len(report.sessions), 'session')}"))
    return Group(*parts)


NAME_SHOWN = 120  # characters of a session name from a log shown in a table (the JSON has it whole)


def shown_name(name: str) -> str:
    """A name a log line gave, cut for a table: a line can make one megabytes long."""
    return name if len(name) <= NAME_SHOWN else f"{name[:NAME_SHOWN]}… ({len(name):,} characters)"


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"

