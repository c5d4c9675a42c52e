"""Baileys' legacy single-file store (`useSingleFileAuthState`, up to 4.x):
one JSON file `{"creds": {...}, "keys": {"preKeys", "sessions", ...}}`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from wadoctor.core.evidence import Damage, DamagedFiles
from wadoctor.core.model import Sample, Session, SessionState
from wadoctor.stores.baileys_creds import apply_creds, parse_json_bytes
from wadoctor.stores.baileys_keys import key_value_problem
from wadoctor.stores.base import StoreAdapter
from wadoctor.stores.files import describe_os_error, read_capped

# JSON.stringify({ creds, keys }, BufferJSON.replacer, 2) always starts with the creds key.
_HEAD = re.compile(rb'\A\s*\{\s*"creds"\s*:')
_CAP = 512 << 20
# The single file's key sections and the multi-file key type each one holds.
KEY_KINDS = {
    "preKeys": "pre-key", "sessions": "session", "senderKeys": "sender-key",
    "appStateSyncKeys": "app-state-sync-key", "appStateVersions": "app-state-sync-version",
    "senderKeyMemory": "sender-key-memory",
}


class BaileysSingleFile(StoreAdapter):
    format = "baileys-legacy"
    file_suffixes = (".json",)

    def match_file(self, path: Path, head: bytes) -> bool:
        return path.suffix == ".json" and _HEAD.match(head) is not None

    def read_file(self, path: Path, deep: bool) -> Iterator[Session]:
        session = Session(id=path.stem, path=path, format=self.format)
        try:
            st = path.lstat()
            raw = read_capped(path, _CAP)
        except OSError as exc:
            session.observe("path-unreadable", f"{path.name}: {describe_os_error(exc)}")
            yield session
            return
        session.files, session.size, session.last_activity = 1, st.st_size, st.st_mtime
        session.creds_mtime = st.st_mtime
        state, why = parse_json_bytes(raw)
        if why:
            session.state = SessionState.BROKEN
            session.observe("creds-corrupt", f"{path.name} is {why}", Damage(len(raw)))
        elif not isinstance(state, dict) or not isinstance(state.get("keys", {}), dict):
            session.state = SessionState.BROKEN
            session.observe("creds-invalid", f"{path.name} is not a {{creds, keys}} object")
        else:
            keys = state.get("keys", {})
            session.key_types = {
                kind: len(keys[kind]) for kind in KEY_KINDS if isinstance(keys.get(kind), dict) and keys[kind]
            }
            apply_creds(session, state.get("creds"), sum(session.key_types.values()), f"{path.name} creds")
            if deep:
                _check_keys(session, keys)
        yield session


def _check_keys(session: Session, keys: dict[str, Any]) -> None:
    corrupt = Sample()
    for section, kind in KEY_KINDS.items():
        for key_id, value in (keys.get(section) or {}).items():
            problem = key_value_problem(kind, value)
            if problem:
                corrupt.add(f"keys.{section}.{key_id} ({problem})")
    if corrupt.count:
        session.observe("key-file-corrupt", f"{corrupt.count} key(s) damaged: {corrupt.names[0]}",
                        DamagedFiles(corrupt.count, keys=tuple(corrupt.names)))
