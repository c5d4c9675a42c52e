"""One log line -> the events in it, for every library's own wording.

Strings come from the libraries' sources: Baileys 7 (`stream errored out` with its
`reasonNode`; 4.x to 6.x log the whole `node` instead), `connection errored` with an
`Error: Stream Errored (conflict)` trace, `Connection Failure`, DisconnectReason codes,
libsignal's `Bad MAC`), whatsmeow and neonize
(`Got replaced stream error, sending StreamReplaced event`, `Got device removed stream error`,
`Failed to delete store after device_removed error`, `database is locked`), whatsapp-web.js
(`disconnected` with CONFLICT/LOGOUT), wppconnect-server (`State Change CONFLICT: <session>`)
and Chromium (`The profile appears to be in use`, exit `Code: 21`). A keyword filter skips
every other line before any parsing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any, NamedTuple

CONFLICT = "conflict"
LOGOUT = "logout"
RESTART = "restart"
CONNECTION_LOST = "connection-lost"
BAD_SESSION = "bad-session"
MULTIDEVICE_MISMATCH = "multidevice-mismatch"
FORBIDDEN = "forbidden"
UNAVAILABLE = "unavailable"
DECRYPT_FAILURE = "decrypt-failure"
RECONNECT = "reconnect"
PROFILE_IN_USE = "profile-in-use"
DB_LOCKED = "db-locked"
STORE_ERROR = "store-error"

# Baileys' DisconnectReason
STATUS_CODES = {440: CONFLICT, 401: LOGOUT, 515: RESTART, 408: CONNECTION_LOST, 428: CONNECTION_LOST,
                500: BAD_SESSION, 411: MULTIDEVICE_MISMATCH, 403: FORBIDDEN, 503: UNAVAILABLE}
REASON_NAMES = {"connectionReplaced": CONFLICT, "loggedOut": LOGOUT, "restartRequired": RESTART,
                "connectionLost": CONNECTION_LOST, "connectionClosed": CONNECTION_LOST, "timedOut": CONNECTION_LOST,
                "badSession": BAD_SESSION, "multideviceMismatch": MULTIDEVICE_MISMATCH,
                "unavailableService": UNAVAILABLE}

# Lower-case words one of which every line worth parsing contains (each rule below needs at
# least one). Plain substring search, at C speed over whole chunks of the file, is what lets
# most lines be skipped unparsed. The search checks each place where a word's first bytes
# appear: "matching sessions" rather than "sessions found", since every pino line of a
# multi-session gateway carries "session".
KEYWORDS = ("connection", "conflict", "stream err", "decrypt", "bad mac", "matching sessions", "device_removed",
            "database is locked", "reconnect", "disconnect", "in use by another", "code: 21", "logout",
            "logged out", "loggedout", "restart", "failure", "reason")


def may_matter(line: str) -> bool:
    lowered = line.lower()
    return any(word in lowered for word in KEYWORDS)


_TEXT_RULES: Sequence[tuple[re.Pattern[str], str]] = [  # first match wins: specific before general
    (re.compile(r"Failed to delete store after device_removed"), STORE_ERROR),
    (re.compile(r"Got replaced stream error|StreamReplaced|Stream Errored \(conflict\)(?!.*device_removed)"), CONFLICT),
    (re.compile(r"Got device removed stream error|device_removed|\bLOGOUT\b|logged out", re.IGNORECASE), LOGOUT),
    (re.compile(r"Failed to reconnect after 515|restart required|Got 515", re.IGNORECASE), RESTART),
    (re.compile(r"Got 503 stream error"), UNAVAILABLE),
    (re.compile(r"Bad MAC|No session found to decrypt|No matching sessions found|failed to decrypt message"),
     DECRYPT_FAILURE),
    (re.compile(r"database is locked"), DB_LOCKED),
    (re.compile(r"profile appears to be in use by another|\bCode: 21\b"), PROFILE_IN_USE),
    (re.compile(r"disconnected\W+(?:.*\W)?CONFLICT\b", re.IGNORECASE), CONFLICT),
    # wppconnect-server's onStateChange handler: `State Change CONFLICT: <session>`
    (re.compile(r"State Change CONFLICT\b"), CONFLICT),
    (re.compile(r"reconnecting\W+true|reconnecting\.\.\.|Reconnecting in|reconnect attempt|auto.?reconnect",
                re.IGNORECASE), RECONNECT),
]
# Baileys' example app: "connection closed due to Error: ... , reconnecting true"
RECONNECT_HINT = re.compile(r"reconnecting\W+true", re.IGNORECASE)
_STATUS = re.compile(r"(?:status(?:Code)?|reason|code|DisconnectReason)\W{0,4}(\d{3})\b", re.IGNORECASE)
_REASON_NAME = re.compile(r"\b(" + "|".join(REASON_NAMES) + r")\b")
_CONTEXT = re.compile(r"connection|disconnect|close|failure|reason|logged|conflict", re.IGNORECASE)
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
_BRACKETED = re.compile(r"\[([A-Za-z0-9_.:@-]{2,64})\]")
# Lines whose gateway names the session in its own words (wppconnect-server: `State Change
# CONFLICT: sales`), tried before the generic forms below.
_GATEWAY_SESSION = re.compile(r"State Change [A-Z_]+: (?P<session>[\w.:@-]+)")
_KEY_VALUE = re.compile(r"\b(?:session|sessionId|instance|instanceName|clientId)[\"']?\s*[=:]\s*[\"']?([\w.:@-]+)")
_LEVELS = frozenset({"info", "warn", "warning", "error", "debug", "trace", "fatal", "notice", "critical"})
_JSON = json.JSONDecoder()


def _json_document(text: str) -> object:
    """json.loads(text) for text that starts with its document, without loads' wrappers (a
    third of its time on a log line): what follows the document may only be JSON whitespace."""
    document, end = _JSON.raw_decode(text)
    if end != len(text) and text[end:].strip(" \t\n\r"):
        raise ValueError(f"extra data at {end}")
    return document


class Event(NamedTuple):
    """One thing a line says happened. A tuple: the scanner's workers send thousands of them."""

    kind: str
    time: float | None
    session: str | None
    detail: str


def parse_time(value: object, zone: tzinfo | None = None) -> float | None:
    """pino's epoch milliseconds, or an ISO 8601 string. A time written without a zone
    (Python logging's default format, many Go loggers) is in `zone`, the host's local time
    when None: what the gateway's clock said when it wrote the line."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value / 1000 if value > 1e11 else float(value)
    if isinstance(value, str):
        match = _ISO.search(value)
        if match:
            text = match[0].replace(",", ".").replace(" ", "T")
            try:
                stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                return None
            if stamp.tzinfo is None and zone is not None:
                stamp = stamp.replace(tzinfo=zone)
            return stamp.timestamp()  # a naive datetime's timestamp() reads it as local time
    return None


# How each Baileys line logs a stream:error (socket.js): the reason node and the whole node.
# 7.x: logger.error({ reasonNode, fullErrorNode }, ...); 4.x to 6.x: logger.error({ node }, ...),
# the reason being the node's first child (what getErrorCodeFromStreamError reads).
STREAM_ERROR_FORMS = (("reasonNode", "fullErrorNode"), (None, "node"))


def _stream_error_nodes(record: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(reason node, whole stream:error node) of a `stream errored out` record, any line."""
    for reason_key, full_key in STREAM_ERROR_FORMS:
        full = record.get(full_key)
        reason = record.get(reason_key) if reason_key else None
        if reason is None and isinstance(full, dict):
            children = full.get("content")
            reason = children[0] if isinstance(children, list) and children else None
        if isinstance(reason, dict) or isinstance(full, dict):
            return (reason if isinstance(reason, dict) else {}), (full if isinstance(full, dict) else {})
    return {}, {}


class LineParser:
    """Classifies lines; `session_keys` are the pino bindings that name a session."""

    def __init__(self, session_keys: Sequence[str], pattern: re.Pattern[str] | None = None,
                 zone: tzinfo | None = None) -> None:
        self.session_keys = tuple(session_keys)
        self.pattern = pattern
        self.zone = zone  # of times written without one; None: the host's local time

    def parse(self, line: str) -> list[Event]:
        """Events in a line that passed the keyword filter (`may_matter` or `candidate_lines`)."""
        stripped = line if line[:1] == "{" else line.lstrip()
        if stripped[:1] == "{":
            try:
                record = _json_document(stripped)
            except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
                record = None
            if isinstance(record, dict):
                return self._pino(record, line)
        return self._text(line, parse_time(line[:64], self.zone), self._text_session(line))

    def _pino_session(self, record: dict[str, Any]) -> str | None:
        for key in self.session_keys:
            value = record.get(key)
            if type(value) is str:  # the usual case first: run once per event of a large log
                if value:
                    return value
            elif isinstance(value, int) and not isinstance(value, bool):
                return str(value)
        return None

    def _pino(self, record: dict[str, Any], line: str) -> list[Event]:
        stamp = record.get("time")
        time = stamp / 1000 if type(stamp) is int and stamp > 1e11 else parse_time(stamp, self.zone)
        session = self._pino_session(record)
        if session is None and self.pattern is not None:
            session = self._text_session(line)
        msg = record.get("msg", "")
        if msg == "stream errored out":
            node, full = _stream_error_nodes(record)
            tag = node.get("tag")
            if tag == "conflict":
                attrs = node.get("attrs")
                kind = attrs.get("type") if isinstance(attrs, dict) else None
                return [Event(LOGOUT if kind == "device_removed" else CONFLICT, time, session,
                              f"stream:error conflict type={kind}")]
            code = (full.get("attrs") or {}).get("code") if isinstance(full.get("attrs"), dict) else None
            if code and str(code).isdigit() and int(code) in STATUS_CODES:
                return [Event(STATUS_CODES[int(code)], time, session, f"stream:error code {code}")]
            return [Event(BAD_SESSION, time, session, f"stream:error {tag or code}")]
        err = record.get("err") if isinstance(record.get("err"), dict) else {}
        text = " ".join(str(part) for part in (str(msg), record.get("trace") or "", err.get("message") or "",
                                               err.get("stack") or "") if part)
        return self._text(text, time, session)

    def _text_session(self, line: str) -> str | None:
        if self.pattern is not None:
            match = self.pattern.search(line)
            if match and match.groupdict().get("session"):
                return match["session"]
        match = _GATEWAY_SESSION.search(line) or _KEY_VALUE.search(line)
        if match:
            return match[1]
        for match in _BRACKETED.finditer(line):
            token = match[1]
            if token.lower() not in _LEVELS and not token[:1].isdigit():
                return token
        return None

    def _text(self, text: str, time: float | None, session: str | None) -> list[Event]:
        return [Event(kind, time, session, detail) for kind, detail in _classify(text)]


@lru_cache(maxsize=1024)
def _classify(text: str) -> tuple[tuple[str, str], ...]:
    """(kind, detail) of each event in a line's text. Cached: a gateway repeats the same few
    messages (a reconnect storm is one line thousands of times), and the rules are the cost."""
    for rule, kind in _TEXT_RULES:
        if rule.search(text):
            if kind != RECONNECT and RECONNECT_HINT.search(text):
                return (kind, rule.pattern[:40]), (RECONNECT, "reconnecting")
            return ((kind, rule.pattern[:40]),)
    name = _REASON_NAME.search(text)
    if name:
        return ((REASON_NAMES[name[1]], name[1]),)
    if not _CONTEXT.search(text):
        return ()  # a bare "statusCode: 440," inside a dumped error object: counted by its headline
    for match in _STATUS.finditer(text):
        code = int(match[1])
        if code in STATUS_CODES:
            if RECONNECT_HINT.search(text):
                return (STATUS_CODES[code], f"status {code}"), (RECONNECT, "reconnecting")
            return ((STATUS_CODES[code], f"status {code}"),)
    return ()
