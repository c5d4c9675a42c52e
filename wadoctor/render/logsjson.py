"""The versioned JSON document of `logs` (`--json`), built without Rich or the session scan
(`logs --json` starts fast); docs/contracts.md has its fields."""

from __future__ import annotations

from typing import Any

from wadoctor.logs.report import LogReport, figures
from wadoctor.render.envelope import document
from wadoctor.render.jsonout import finding_dict


def logs_document(report: LogReport) -> dict[str, Any]:
    return document("logs", {
        "lines": report.lines,
        "events": report.events,
        "sessions": [
            {"session": log.session, **figures(log), "findings": [finding_dict(f) for f in found]}
            for log, found in report.sessions
        ],
    }, int(report.exit_code()), {"sessions": len(report.sessions)})
