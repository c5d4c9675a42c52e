"""Quiet output for cron: one line per warning or critical finding, nothing when healthy."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import TYPE_CHECKING

from wadoctor.core.findings import Finding, Severity, placed
from wadoctor.pipeline.report import Report

if TYPE_CHECKING:
    from wadoctor.core.model import Session


def _line(location: str, finding: Finding) -> str:
    return f"{finding.severity.value} {finding.code} {location}: {finding.message}"


def _lines(session: Session) -> list[tuple[str, str]]:
    """(severity, line) of each finding -q shows, most severe first."""
    return [(f.severity.value, _line(session.location, f)) for f in session.findings if f.severity is not Severity.INFO]


def quiet_lines(report: Report) -> Iterator[str]:
    sessions, written = report.written_by(QuietWriter)
    for session in sessions:
        for _, line in _lines(session):
            yield line
    for record in written:
        for _, line in pickle.loads(record)[1]:
            yield line
    for subject, finding in report.fleet_findings:
        yield _line(subject, finding)


class QuietWriter:
    """Sessions written as -q writes them, for a report streamed as it is read
    (pipeline.stream.Writer): each its place and its lines, rendered where it was judged. A
    million healthy rows are a million empty lists, never read back as sessions (23 us each)."""

    def encode(self, session: Session) -> bytes:
        return pickle.dumps((session.location, _lines(session)), pickle.HIGHEST_PROTOCOL)

    def amend(self, record: bytes, finding: Finding) -> bytes:
        """The record with `finding`'s line after those at least as severe, as `placed` puts
        the finding among a session's findings."""
        location, lines = pickle.loads(record)
        if finding.severity is not Severity.INFO:
            lines = placed(lines, (finding.severity.value, _line(location, finding)), lambda line: line[0])
        return pickle.dumps((location, lines), pickle.HIGHEST_PROTOCOL)
