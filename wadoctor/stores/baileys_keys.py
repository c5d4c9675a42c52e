"""Baileys' Signal key files: names, types and the shape each type must have."""

from __future__ import annotations

import re
from collections.abc import Callable

from wadoctor.stores.baileys_creds import parse_json_bytes
from wadoctor.stores.buffers import BadBytes, decode_bytes, decode_sized

# 7.x types; 6.x has the first six. Alternation order matters: sender-key-memory must be
# tried before sender-key. Names have '/' replaced by '__' and ':' by '-'.
KEY_TYPES = ("pre-key", "session", "sender-key-memory", "sender-key", "app-state-sync-key",
             "app-state-sync-version", "lid-mapping", "device-list", "tctoken", "identity-key")
KEY_SUFFIX = ".json"
KEY_FILE = re.compile(rf"({'|'.join(KEY_TYPES)})-(.+){re.escape(KEY_SUFFIX)}\Z")
# Leftovers of an interrupted atomic write (*.json.tmp) or a hand-made backup.
LEFTOVER_SUFFIXES = (".tmp", ".bak")
KEY_FILE_CAP = 16 << 20

# The smallest file Baileys 7 can write for each type (compact JSON, Buffers as base64): a
# smaller one was cut short, so a plain check reads it. Derived from the shapes below and
# checked against every file real Baileys 7.0.0-rc14 writes (tests/test_crash_window.py);
# a floor only decides what is read, the shape check decides what is damaged.
SIZE_FLOORS = {
    "pre-key": 164,  # {"private":{"type":"Buffer","data":<44>},"public":{...}}: always this size
    "session": 500,  # a SessionRecord: base key, ratchet key pair, root key, chain: 10+ keys of 44
    "sender-key": 120,  # a Buffer wrapping a JSON list with one state: chain seed and signing key
    "sender-key-memory": 2,  # {}
    "app-state-sync-key": 57,  # {"keyData":<44>}
    "app-state-sync-version": 230,  # {"version":0,"hash":<128-byte Buffer>,"indexValueMap":{}}
    "lid-mapping": 3,  # "1"
    "device-list": 2,  # []
    "tctoken": 37,  # {"token":{"type":"Buffer","data":""}}
    "identity-key": 71,  # a 33-byte Buffer: always this size
}


def _key_pair(value: object) -> None:
    if not isinstance(value, dict):
        raise BadBytes("is not a key pair")
    for part in ("private", "public"):
        try:
            decode_sized(value.get(part), 32)
        except BadBytes as exc:
            raise BadBytes(f"{part} {exc}") from None


def _object_with(*fields: str) -> Callable[[object], None]:
    def check(value: object) -> None:
        if not isinstance(value, dict):
            raise BadBytes(f"is a JSON {type(value).__name__}, expected an object")
        missing = [f for f in fields if f not in value]
        if missing:
            raise BadBytes(f"has no {missing[0]}")
    return check


def _of_type(kind: type) -> Callable[[object], None]:
    def check(value: object) -> None:
        if not isinstance(value, kind):
            raise BadBytes(f"is a JSON {type(value).__name__}, expected a {kind.__name__}")
    return check


def _sender_key_states(value: object) -> None:
    """libsignal's SenderKeyRecord.serialize(): a list of sender-key states."""
    _of_type(list)(value)
    for state in value:  # type: ignore[attr-defined]
        if not isinstance(state, dict) or "senderChainKey" not in state or "senderSigningKey" not in state:
            raise BadBytes("is a list of something other than sender-key states")


def _sender_key_buffer(value: object) -> None:
    """7.x: the serialized record JSON-encoded into a Buffer."""
    states, why = parse_json_bytes(decode_bytes(value))
    if why:
        raise BadBytes(f"holds a sender-key record that is {why}")
    _of_type(list)(states)


# What each Baileys line writes where the lines differ, newest first; a file is healthy when
# any form fits. The versions are read from each line's own code and tested against files its
# own code writes (tests/test_baileys_versions.py, docs/baileys-versions.md).
FORMS: dict[str, tuple[tuple[str, Callable[[object], None]], ...]] = {
    "sender-key": (
        ("7.x", _sender_key_buffer),  # JSON.stringify(Buffer.from(JSON.stringify(record.serialize())))
        ("6.x", _sender_key_states),  # record.serialize() itself, bytes as base64 strings
    ),
}


_SHAPES: dict[str, Callable[[object], None]] = {
    "pre-key": _key_pair,
    "session": _object_with("_sessions"),
    "sender-key-memory": _of_type(dict),
    "app-state-sync-key": _object_with("keyData"),
    "app-state-sync-version": _object_with("version", "hash"),
    "lid-mapping": _of_type(str),
    "device-list": _of_type(list),
    "tctoken": _object_with("token"),
    "identity-key": lambda value: decode_sized(value, 33) and None,
}


def key_file_problem(kind: str, raw: bytes) -> str | None:
    """Why a key file's content is not what Baileys writes for its type, or None."""
    value, why = parse_json_bytes(raw)
    return why or key_value_problem(kind, value)


def key_value_problem(kind: str, value: object) -> str | None:
    """Why a parsed key is not what any Baileys line writes for its type, or None: the newest
    form's complaint where none fits."""
    forms = FORMS.get(kind) or (("any", _SHAPES[kind]),)
    problems = []
    for _, check in forms:
        try:
            check(value)
        except BadBytes as exc:
            problems.append(str(exc))
        else:
            return None
    return problems[0]
