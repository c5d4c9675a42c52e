"""The versioned JSON document of `check` (`--json`); docs/contracts.md has its fields."""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any

from wadoctor.render.envelope import document
from wadoctor.util.times import iso

if TYPE_CHECKING:
    from wadoctor.core.findings import Finding
    from wadoctor.core.model import Identity, Session
    from wadoctor.pipeline.report import Report


def _identity(identity: Identity | None) -> dict[str, Any] | None:
    if identity is None:
        return None
    return {
        "jid": identity.jid,
        "phone": identity.phone,
        "device": identity.device,
        "lid": identity.lid,
        "name": identity.name,
        "platform": identity.platform,
        "business_name": identity.business_name,
        "paired_at": iso(identity.paired_at),
        "noise_fingerprint": identity.noise_fingerprint,
    }


def session_dict(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "path": session.location,
        "creds_source": session.creds_source,
        "connection": None if session.connection is None else {
            "status": session.connection.status, "since": iso(session.connection.since),
            "reported_by": session.connection.reported_by, "live": session.connection.live},
        "format": session.format,
        "state": session.state.value,
        "identity": _identity(session.identity),
        "files": session.files,
        "bytes": session.size,
        "last_activity": iso(session.last_activity),
        "key_files": session.key_types,
        "gateway": None if session.gateway is None else {
            "name": session.gateway.name,
            "engine": session.gateway.engine,
            "app": None if session.gateway.app is None else str(session.gateway.app),
            **session.gateway.details,
        },
        "holders": [
            {
                "pid": h.pid,
                "name": h.name,
                "user": h.user,
                "started": iso(h.started),
                "cmdline": h.cmdline,
                "container": h.container.id if h.container else None,
                "container_info": vars(h.container) if h.container else None,
                "evidence": h.evidence,
                "proof": h.proof,
                "managers": [vars(m) for m in h.managers],
            }
            for h in session.holders
        ],
        "logs": session.logs,
        "findings": [finding_dict(f) for f in session.findings],
    }


def compact(value: Any) -> bytes:
    """`value` as compact JSON, each session of a document on a line of its own: by orjson,
    at a sixth of json's cost (a million sessions). Where that is not plain ASCII, json
    writes it, escaping all past ASCII as check's JSON always has (a C1 control from a
    session name must not reach a terminal raw), and whatever orjson refuses (a lone
    surrogate, an integer past 64 bits)."""
    import orjson  # loaded with the first session written: an empty check starts faster

    try:  # dataclasses and datetimes go to `default` (str), as json.dumps gives them
        written = orjson.dumps(value, default=str,
                               option=orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME)
        if written.isascii():
            return written
    except orjson.JSONEncodeError:
        pass
    return json.dumps(value, default=str, separators=(",", ":")).encode()


def _evidence(finding: Finding) -> dict[str, Any]:
    return finding.evidence.as_dict() if finding.evidence is not None else {}


def finding_dict(finding: Finding) -> dict[str, Any]:
    """A finding as check's and logs' documents give it."""
    return {"code": finding.code, "severity": finding.severity.value, "message": finding.message,
            "hint": finding.hint, "fixable": finding.fixable, "evidence": _evidence(finding)}


def report_dict(report: Report, sessions: bool = True) -> dict[str, Any]:
    """The whole document; without `sessions`, with that list empty (json_chunks fills it)."""
    return document(report.command, {
        "deep": report.deep,
        "gateways": [{"path": str(a.path), "name": a.gateway.name, "version": a.version, "evidence": a.evidence}
                     for a in report.apps],
        "sessions": [session_dict(s) for s in report.sessions] if sessions else [],
        "problems": [{"path": p.path, "message": p.message} for p in report.problems],
        "fleet": None if report.fleet is None else {
            **report.fleet,
            "findings": [{"subject": subject, "code": f.code, "severity": f.severity.value, "message": f.message,
                          "hint": f.hint, "evidence": _evidence(f)} for subject, f in report.fleet_findings],
        },
    }, int(report.exit_code()), {
        "sessions": report.total,
        "states": report.state_counts(),
        "findings": report.severity_counts(),
        "complete": report.complete,
        "empty_roots": report.empty,
        "processes_uninspected": report.uninspected,
    }, report.generated_at)


class JsonWriter:
    """Sessions written as `json_chunks` writes them, for a report streamed as it is read
    (pipeline.stream.Writer): each a line of compact JSON."""

    def encode(self, session: Session) -> bytes:
        return compact(session_dict(session))

    def amend(self, record: bytes, finding: Finding) -> bytes:
        """The record with `finding` among its findings, after those at least as severe."""
        from wadoctor.core.findings import placed

        written = json.loads(record)
        written["findings"] = placed(written["findings"], finding_dict(finding), lambda f: f["severity"])
        return compact(written)


def json_chunks(report: Report) -> Iterator[bytes]:
    """check's document in pieces (see document_chunks)."""
    return document_chunks(report_dict(report, sessions=False), report, 1)


def document_chunks(document: dict[str, Any], report: Report, depth: int) -> Iterator[bytes]:
    """`document` as write_json writes it, with the report's sessions in its (empty)
    `sessions` list `depth` levels in, each compact on a line of its own: written as made, so
    a million sessions never stand in memory as one string, and each by orjson or the C
    encoder of json (which `indent` turns off). In bytes, as records are spooled: a million
    are not decoded and encoded again. Parses to exactly what report_dict gives; the sessions
    written as they were read (report.streamed) follow the others, as they are."""
    whole = json.dumps(document, indent=2, default=str)
    pad = "  " * depth
    head, _, tail = whole.partition(f'\n{pad}"sessions": [],')  # a newline inside a value is escaped
    yield f'{head}\n{pad}"sessions": ['.encode()
    first = separator = f"\n{pad}  ".encode()
    between = b"," + first
    sessions, written = report.written_by(JsonWriter)
    for session in sessions:
        yield separator + compact(session_dict(session))
        separator = between
    while block := list(islice(written, 1024)):  # a million records make a thousand writes
        yield separator + between.join(block)
        separator = between
    yield (f"\n{pad}]," if separator != first else "],").encode() + tail.encode() + b"\n"
