"""Quiet output for cron: one line per warning or critical finding, nothing when healthy."""

from __future__ import annotations

from collections.abc import Iterator

from wadoctor.core.findings import Severity
from wadoctor.pipeline.report import Report


def quiet_lines(report: Report) -> Iterator[str]:
    for session in report.every_session():
        for finding in session.findings:
            if finding.severity is not Severity.INFO:
                yield f"{finding.severity.value} {finding.code} {session.location}: {finding.message}"
    for subject, finding in report.fleet_findings:
        yield f"{finding.severity.value} {finding.code} {subject}: {finding.message}"
