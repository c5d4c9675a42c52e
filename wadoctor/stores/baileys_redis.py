"""Baileys auth state kept in Redis, in the layouts the common packages write.

Two layouts, told apart by key names under the configured prefix:

- one hash per session, fields `creds` and `<type>-<id>`: baileys-redis-auth's
  `useRedisAuthStateWithHSet` (key `<session>:auth`) and Evolution API's cache
  (key `<CACHE_REDIS_PREFIX_KEY>:instance:<instance id>`);
- one string key per entry, `<session>:creds` (or `<session>:auth_creds`, redis-baileys) and
  `<session>:<type>-<id>`: baileys-redis-auth's `useRedisAuthState` and redis-baileys.

Values are what Baileys' BufferJSON.replacer writes (redis-baileys writes Buffers as byte
lists, which Baileys' reviver also reads). Keys are found with SCAN, values read with
pipelined commands in batches; never KEYS, never a command that blocks the server. A plain
check reads each session's creds and counts its keys; `--deep` reads every key too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wadoctor.core.evidence import DamagedFiles
from wadoctor.core.model import Sample, Session
from wadoctor.stores.baileys_creds import apply_stored_creds
from wadoctor.stores.baileys_keys import KEY_FILE, key_file_problem
from wadoctor.stores.base import SourceRead, StoreAdapter
from wadoctor.stores.buffers import decode_bytes
from wadoctor.stores.sources import CredsChanged, StoreSource

SCAN_COUNT = 1000  # keys per SCAN step: large steps, few round trips, each step still short
BATCH = 500  # commands per pipeline
CREDS_FIELDS = (b"creds", b"auth_creds")
PRE_KEY = b":pre-key-"
BYTE_LIST_CREDS = ":auth_creds"  # redis-baileys: its reader takes Buffers only as byte lists
HASH_SUFFIX = b":auth"  # baileys-redis-auth's useRedisAuthStateWithHSet
_TYPES = KEY_FILE.pattern.split(")-", 1)[0].lstrip("(")
# `<session>:<entry>` of the one-key-per-entry layout; the session name may itself hold ':'
_ENTRY_KEY = re.compile(rb"(?P<session>.+?):(?P<entry>creds|auth_creds|(?:" + _TYPES.encode() + rb")-.+)\Z", re.S)


@dataclass
class RedisSession:
    """What one session's keys say before it becomes a Session."""

    name: str
    key: str  # the hash's key, or the session's key prefix
    layout: str  # hash or keys
    creds: bytes | None = None
    has_creds: bool = False
    entries: int = 0
    key_types: dict[str, int] = field(default_factory=dict)
    entry_keys: list[bytes] = field(default_factory=list)  # keys layout: every entry's key
    creds_key: bytes | None = None  # keys layout: the creds' own key


def _kind(entry: str) -> str | None:
    match = KEY_FILE.match(entry + ".json")
    return match[1] if match else None


def _escape(prefix: str) -> bytes:
    return re.sub(rb"([*?\[\]\\])", rb"\\\1", prefix.encode())


def _batched(items: list[Any], size: int = BATCH) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def find_sessions(client: Any, prefix: str) -> list[RedisSession]:
    """Every session under `prefix`, in either layout, with its creds and key counts."""
    start = len(prefix.encode())
    by_key: dict[bytes, RedisSession] = {}
    candidates: list[bytes] = []
    pattern = _escape(prefix) + b"*"
    cursor = None
    while cursor != 0:
        cursor, keys = client.scan(cursor or 0, match=pattern, count=SCAN_COUNT)
        for key in keys:  # the hot loop: most keys are pre-keys, found without a regex
            rest = key[start:]
            at = rest.find(PRE_KEY)
            if at > 0 and rest[at + len(PRE_KEY):].isdigit():
                session_name, kind = rest[:at], "pre-key"
            else:
                match = _ENTRY_KEY.match(rest)
                if match is None:
                    candidates.append(key)
                    continue
                session_name, entry = match["session"], match["entry"]
                kind = None if entry in CREDS_FIELDS else _kind(_text(entry))
            found = by_key.get(session_name)
            if found is None:
                base = key[:start] + session_name
                found = by_key[session_name] = RedisSession(_text(session_name), _text(base) + ":", "keys")
            if kind is None:
                if key.endswith(CREDS_FIELDS):
                    found.has_creds, found.creds_key = True, key
                continue
            found.entries += 1
            found.key_types[kind] = found.key_types.get(kind, 0) + 1
            found.entry_keys.append(key)
    sessions = list(by_key.values())
    for batch in _batched([s for s in sessions if s.has_creds]):
        with client.pipeline(transaction=False) as pipe:
            for session in batch:
                pipe.get(session.creds_key)
            for session, value in zip(batch, pipe.execute()):
                session.creds = value
    sessions += _hash_sessions(client, candidates, start)
    return sorted(sessions, key=lambda s: s.name)


def _hash_sessions(client: Any, candidates: list[bytes], start: int) -> list[RedisSession]:
    found: list[RedisSession] = []
    for batch in _batched(candidates):
        with client.pipeline(transaction=False) as pipe:
            for key in batch:
                pipe.type(key)
            hashes = [key for key, kind in zip(batch, pipe.execute()) if kind == b"hash"]
        if not hashes:
            continue
        with client.pipeline(transaction=False) as pipe:
            for key in hashes:
                pipe.hlen(key)
                pipe.hget(key, b"creds")  # None: no creds field (an empty one reads b"")
            replies = pipe.execute()
        for index, key in enumerate(hashes):
            length, creds = replies[2 * index:2 * index + 2]
            has_creds = creds is not None
            name = key[start:]
            if name.endswith(HASH_SUFFIX):
                name = name[:-len(HASH_SUFFIX)]
            found.append(RedisSession(_text(name), _text(key), "hash", creds, has_creds, int(length) - has_creds))
    return found


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "backslashreplace")


def read_entries(client: Any, found: RedisSession) -> Iterator[tuple[str, str, bytes | None]]:
    """(entry name, key type, value) of every key entry of a session, for `--deep`."""
    if found.layout == "hash":
        for field_name, value in client.hscan_iter(found.key, count=SCAN_COUNT):
            entry = _text(field_name)
            if entry in ("creds", "auth_creds"):
                continue
            kind = _kind(entry)
            if kind is not None:
                yield entry, kind, value
        return
    for batch in _batched(found.entry_keys):
        for key, value in zip(batch, client.mget(batch)):
            entry = _text(key)[len(found.key):]
            yield entry, _kind(entry) or "", value


def observe_key_damage(session: Session, client: Any, found: RedisSession) -> None:
    """`--deep`: read every key entry, count each type, and observe the damaged ones."""
    damaged = Sample()
    types: dict[str, int] = {}
    for entry, kind, value in read_entries(client, found):
        types[kind] = types.get(kind, 0) + 1
        if value is None:
            continue  # deleted between the scan and the read: Baileys removes keys it used
        problem = "empty" if not value else key_file_problem(kind, value)
        if problem:
            damaged.add(f"{entry} ({problem})")
    session.key_types = types
    if damaged.count:
        session.observe("key-file-corrupt", f"{damaged.count} key(s) damaged: {damaged.names[0]}",
                        DamagedFiles(damaged.count, tuple(damaged.names)))


def session_of(source: StoreSource, found: RedisSession, client: Any, deep: bool, format: str) -> Session:
    place = f"{source.shown} {found.key}{'*' if found.layout == 'keys' else ''}"
    session = Session(id=found.name, path=Path(place), format=format, source=place, creds_source=place)
    creds_key = found.key if found.layout == "hash" else _text(found.creds_key or (found.key + "creds").encode())
    session.store_key = (found.layout, creds_key)
    session.files = found.entries + found.has_creds
    session.key_types = dict(found.key_types)
    apply_stored_creds(session, found.creds if found.has_creds else None, found.entries, "Redis")
    session.creds_raw, session.store = found.creds, source
    if deep:
        observe_key_damage(session, client, found)
    return session


def byte_lists(value: Any) -> Any:
    """BufferJSON's base64 Buffers rewritten as byte lists, the only form redis-baileys reads."""
    if isinstance(value, dict):
        if value.get("type") == "Buffer" and isinstance(value.get("data"), str):
            return {"type": "Buffer", "data": list(decode_bytes(value))}
        return {k: byte_lists(v) for k, v in value.items()}
    if isinstance(value, list):
        return [byte_lists(v) for v in value]
    return value


class BaileysRedis(StoreAdapter):
    format = "baileys-redis"
    kinds = ("baileys-redis",)

    def replace_creds(self, session: Session, expected: bytes | None, new: bytes,
                      before_commit: Callable[[], None]) -> None:
        import redis as redis_py

        from wadoctor.stores.connect import redis

        layout, key = session.store_key or ("", "")
        if key.endswith(BYTE_LIST_CREDS):
            new = json.dumps(byte_lists(json.loads(new)), separators=(",", ":")).encode()
        client = redis(session.store.url, session.store)
        try:
            with client.pipeline(transaction=True) as pipe:
                pipe.watch(key)
                current = pipe.hget(key, "creds") if layout == "hash" else pipe.get(key)
                if current != expected:
                    raise CredsChanged(f"the creds of {session.id} changed in Redis since they were read: "
                                       "nothing written")
                pipe.multi()
                pipe.hset(key, "creds", new) if layout == "hash" else pipe.set(key, new)
                before_commit()
                pipe.execute()
        except redis_py.WatchError:
            raise CredsChanged(f"the creds of {session.id} changed in Redis while being replaced: "
                               "nothing written") from None
        finally:
            client.close()

    def read_source(self, source: StoreSource, deep: bool) -> SourceRead:
        from wadoctor.stores.connect import redis

        client = redis(source.url, source)
        try:
            return SourceRead([session_of(source, found, client, deep, self.format)
                               for found in find_sessions(client, source.prefix)])
        finally:
            client.close()
