"""The versioned JSON document of `logs` (`--json`), built without Rich or the session scan
(`logs --json` starts fast); docs/contracts.md has its fields."""

from __future__ import annotations

from typing import Any

from wadoctor import JSON_SCHEMA_VERSION, __version__
from wadoctor.logs.report import LogReport, figures
from wadoctor.render.jsonout import finding_dict


def logs_document(report: LogReport) -> dict[str, Any]:
    return {
        "schema_version": JSON_SCHEMA_VERSION,
        "tool": {"name": "wadoctor", "version": __version__},
        "command": "logs",
        "lines": report.lines,
        "events": report.events,
        "sessions": [
            {"session": log.session, **figures(log), "findings": [finding_dict(f) for f in found]}
            for log, found in report.sessions
        ],
        "summary": {"sessions": len(report.sessions), "exit_code": int(report.exit_code())},
    }
