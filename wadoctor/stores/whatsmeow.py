"""whatsmeow's SQLite store (neonize, go-whatsapp-web-multidevice, wuzapi, WAHA GOWS).

One file is a whatsmeow Container and may hold many devices: each `whatsmeow_device` row is
a session of its own. The file is opened strictly read-only, with a short busy timeout, and
never through neonize (whose device listing migrates the file and can abort the process).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from wadoctor.core.evidence import Damage, Evidence, LockedBy, Problems, Reason
from wadoctor.core.model import Identity, Session, SessionState
from wadoctor.stores.adv import decode_device_identity
from wadoctor.stores.base import StoreAdapter
from wadoctor.stores.files import describe_os_error, read_head
from wadoctor.stores.jid import parse_jid
from wadoctor.stores.sqlite_probe import (
    MAGIC,
    TooLargeToCopy,
    any_lock_pid,
    connect_read_only,
    hot_journal,
    rolled_back_copy,
    wal_left,
)
from wadoctor.stores.x25519 import public_key

BUSY_SECONDS = 0.5
# schema versions whose device table wadoctor has read (neonize 0.5.2 writes 15, compat 8)
KNOWN_VERSION = 15
QUICK_CHECK_MAX = 64 << 20  # a plain check runs quick_check on stores up to this size
COPY_MAX = 512 << 20  # a store with a hot journal is read from a rolled-back copy up to this size
KEY_LENGTHS = {
    "noise_key": 32, "identity_key": 32, "signed_pre_key": 32, "signed_pre_key_sig": 64,
    "adv_account_sig": 64, "adv_account_sig_key": 32, "adv_device_sig": 64,
}
_COLUMNS = ("jid", "lid", "push_name", "platform", "business_name", "adv_details", *KEY_LENGTHS)
# Names gateways give their stores, so that a damaged one is still recognised.
KNOWN_NAMES = frozenset({"whatsapp.db", "whatsmeow.db", "neonize.db", "main.db", "store.db", "session.db",
                         "db.sqlite3"})


class StoreUnreadable(Exception):
    """The file cannot be read as a whatsmeow store; args: (finding code, message, evidence)."""


class WhatsmeowSqlite(StoreAdapter):
    format = "whatsmeow"
    file_suffixes = (".db", ".sqlite", ".sqlite3")

    def match_file(self, path: Path, head: bytes) -> bool:
        return head.startswith(MAGIC) or path.name in KNOWN_NAMES

    def read_file(self, path: Path, deep: bool) -> Iterator[Session]:
        try:
            st = path.stat()
        except OSError as exc:
            yield _store_session(path, "path-unreadable", f"{path.name}: {describe_os_error(exc)}")
            return
        try:
            head = read_head(path, len(MAGIC))
            if not head.startswith(MAGIC):
                what = "empty" if st.st_size == 0 else "not a SQLite database"
                raise StoreUnreadable("store-corrupt", f"{path.name} is {what}", Damage(bytes=st.st_size))
            hot = hot_journal(path)
            if hot:  # what the gateway will read once SQLite rolls the journal back
                with rolled_back_copy(path, COPY_MAX) as copy:
                    rows, version = _read_devices(copy, deep or st.st_size <= QUICK_CHECK_MAX)
            else:
                rows, version = _read_devices(path, deep or st.st_size <= QUICK_CHECK_MAX)
        except TooLargeToCopy as exc:
            yield _store_session(path, "state-unknown", f"{path.name} has a hot journal and {exc}: its devices "
                                                        "cannot be read without rolling it back", SessionState.UNKNOWN,
                                 Reason(str(exc)))
            return
        except StoreUnreadable as exc:
            code, message, evidence = exc.args
            yield _store_session(path, code, message, evidence=evidence)
            return
        except OSError as exc:
            yield _store_session(path, "path-unreadable", f"{path.name}: {describe_os_error(exc)}")
            return
        if rows is None:
            return  # some other program's SQLite file
        sessions = [_device_session(path, row) for row in rows] or [_empty_session(path)]
        for session in sessions:
            session.files, session.size, session.last_activity = _footprint(path, st)
            if version is not None:
                session.observe("store-schema-unknown", version)
            if hot:
                session.observe("store-journal-hot", f"{path.name}-journal holds a transaction nobody finished; "
                                                     "read as SQLite will roll it back")
            elif wal_left(path):
                session.observe("store-journal-hot", f"{path.name}-wal holds writes no open connection owns")
            yield session


def _footprint(path: Path, st: os.stat_result) -> tuple[int, int, float]:
    files, size, newest = 1, st.st_size, st.st_mtime
    for suffix in ("-journal", "-wal", "-shm"):
        try:
            extra = path.with_name(path.name + suffix).stat()
        except OSError:
            continue
        files, size, newest = files + 1, size + extra.st_size, max(newest, extra.st_mtime)
    return files, size, newest


def _read_devices(path: Path, integrity: bool) -> tuple[list[dict[str, Any]] | None, str | None]:
    """Device rows (None: not a whatsmeow store) and a note when the schema is not one we know."""
    try:
        connection = connect_read_only(path, BUSY_SECONDS)
    except sqlite3.Error as exc:
        raise StoreUnreadable("store-corrupt", f"{path.name} cannot be opened: {exc}", None) from None
    try:
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "whatsmeow_device" not in tables:
            return None, None
        if integrity:
            problems = [r[0] for r in connection.execute("PRAGMA quick_check(5)")]
            if problems != ["ok"]:
                raise StoreUnreadable("store-corrupt", f"{path.name} fails SQLite's quick_check: {problems[0]}",
                                      Damage(quick_check=tuple(problems)))
        note = _schema_note(connection, tables)
        present = {r[1] for r in connection.execute("PRAGMA table_info(whatsmeow_device)")}
        columns = [c for c in _COLUMNS if c in present]
        cursor = connection.execute(f"SELECT {', '.join(columns)} FROM whatsmeow_device")  # noqa: S608
        return [dict(zip(columns, row)) for row in cursor], note
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            pid = any_lock_pid(path)
            holder = f" by pid {pid}" if pid else ""
            raise StoreUnreadable("store-locked", f"{path.name} is locked{holder} beyond {BUSY_SECONDS}s",
                                  LockedBy(pid)) from None
        raise StoreUnreadable("store-corrupt", f"{path.name}: {exc}", None) from None
    except sqlite3.DatabaseError as exc:
        raise StoreUnreadable("store-corrupt", f"{path.name}: {exc}", None) from None
    finally:
        connection.close()


def _schema_note(connection: sqlite3.Connection, tables: set[str]) -> str | None:
    if "whatsmeow_version" not in tables:
        return "no whatsmeow_version table"
    columns = {r[1] for r in connection.execute("PRAGMA table_info(whatsmeow_version)")}
    select = "version, compat" if "compat" in columns else "version, NULL"
    row = connection.execute(f"SELECT {select} FROM whatsmeow_version").fetchone()  # noqa: S608
    if row is None or not isinstance(row[0], int):
        return "whatsmeow_version is empty"
    version, compat = row
    if version > KNOWN_VERSION and (compat is None or compat > KNOWN_VERSION):
        return f"schema version {version} (compatible with {compat}) is newer than wadoctor knows ({KNOWN_VERSION})"
    return None


def _store_session(path: Path, code: str, message: str, state: SessionState = SessionState.BROKEN,
                   evidence: Evidence | None = None) -> Session:
    session = Session(id=path.stem, path=path, format="whatsmeow", state=state)
    try:
        st = path.stat()
        session.files, session.size, session.last_activity = _footprint(path, st)
    except OSError:
        pass
    session.observe(code, message, evidence)
    return session


def _empty_session(path: Path) -> Session:
    session = Session(id=path.stem, path=path, format="whatsmeow", state=SessionState.UNPAIRED)
    session.observe("store-empty", f"{path.name} holds no device: never paired, or logged out")
    return session


def _device_session(path: Path, row: dict[str, Any]) -> Session:
    jid = parse_jid(row.get("jid"))
    label = f"{jid.user}.{jid.device or 0}" if jid else str(row.get("jid"))
    session = Session(id=f"{path.stem}/{label}", path=path, format="whatsmeow", state=SessionState.PAIRED)
    problems = [] if jid else [f"jid {row.get('jid')!r} is not a device JID"]
    for column, size in KEY_LENGTHS.items():
        value = row.get(column)
        if column in row and (not isinstance(value, bytes) or len(value) != size):
            length = len(value) if isinstance(value, bytes) else type(value).__name__
            problems.append(f"{column} is {length} bytes, expected {size}")
    identity = Identity(
        jid=row.get("jid") if jid else None,
        phone=jid.user if jid else None,
        device=jid.device if jid else None,
        lid=row.get("lid") or None,
        name=row.get("push_name") or None,
        platform=row.get("platform") or None,
        business_name=row.get("business_name") or None,
    )
    if isinstance(row.get("noise_key"), bytes) and len(row["noise_key"]) == 32:
        # whatsmeow keeps only the private noise key; the public half is derived from it
        identity.noise_fingerprint = Identity.fingerprint(public_key(row["noise_key"]))
    if isinstance(row.get("adv_details"), bytes):
        try:
            identity.paired_at = decode_device_identity(row["adv_details"]).timestamp
        except ValueError:
            problems.append("adv_details is not a device identity")
    session.identity = identity
    if problems:
        session.state = SessionState.BROKEN
        session.observe("device-invalid", f"device {row.get('jid')}: {problems[0]}", Problems(tuple(problems)))
    return session
