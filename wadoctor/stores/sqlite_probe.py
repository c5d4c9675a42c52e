"""Looking at a SQLite file without ever writing to it or waiting on it.

Lock probes use fcntl(F_GETLK), which reports a conflicting POSIX lock and its owner's pid
without taking anything: the same byte ranges SQLite itself locks (see SQLite's os_unix.c).
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import sqlite3
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

MAGIC = b"SQLite format 3\x00"
PENDING_BYTE = 0x40000000
SHARED_SIZE = 510
WAL_DMS_BYTE = 128  # the -shm byte every open WAL connection holds a read lock on
_FLOCK = "hhqqi"  # struct flock on Linux x86-64/aarch64: type, whence, start, len, pid


def lock_owner(path: Path, start: int, length: int, exclusive: bool = True) -> int | None:
    """The pid holding a POSIX lock that conflicts with ours on [start, start+length), or None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        kind = fcntl.F_WRLCK if exclusive else fcntl.F_RDLCK
        request = struct.pack(_FLOCK, kind, os.SEEK_SET, start, length, 0)
        try:
            answer = fcntl.fcntl(fd, fcntl.F_GETLK, request)
        except OSError as exc:
            if exc.errno in (errno.EBADF, errno.EINVAL):  # a read-only fd cannot ask for F_WRLCK
                return None
            raise
        ltype, _, _, _, pid = struct.unpack(_FLOCK, answer)
        return None if ltype == fcntl.F_UNLCK else pid
    finally:
        os.close(fd)


def writer_pid(db: Path) -> int | None:
    """The process holding SQLite's RESERVED or PENDING lock: a write is in progress."""
    return lock_owner(db, PENDING_BYTE, 2)


def any_lock_pid(db: Path) -> int | None:
    """Any process with a SQLite lock on the database file (reading or writing)."""
    return lock_owner(db, PENDING_BYTE, 2 + SHARED_SIZE)


def hot_journal(db: Path) -> bool:
    """SQLite's own definition: a non-empty rollback journal with a non-zero header and no
    RESERVED lock on the database, i.e. a transaction a crashed writer left half done."""
    journal = db.with_name(db.name + "-journal")
    try:
        with open(journal, "rb") as handle:
            header = handle.read(28)
    except OSError:
        return False
    return bool(header.strip(b"\0")) and writer_pid(db) is None


def wal_left(db: Path) -> bool:
    """A non-empty -wal that no open connection uses (nobody holds the -shm DMS lock)."""
    wal = db.with_name(db.name + "-wal")
    shm = db.with_name(db.name + "-shm")
    try:
        if wal.stat().st_size == 0:
            return False
    except OSError:
        return False
    return not shm.exists() or lock_owner(shm, WAL_DMS_BYTE, 1, exclusive=True) is None


def connect_read_only(db: Path, busy_seconds: float) -> sqlite3.Connection:
    """A connection that cannot write: mode=ro, query_only, a short busy timeout."""
    uri = f"file:{quote(str(db.resolve()))}?mode=ro"
    connection = sqlite3.connect(uri, uri=True, timeout=busy_seconds, isolation_level=None,
                                 check_same_thread=False)
    connection.execute("PRAGMA query_only = ON")
    return connection


class TooLargeToCopy(Exception):
    """A store too large to copy for reading past its hot journal."""


@contextmanager
def rolled_back_copy(db: Path, cap: int) -> Iterator[Path]:
    """A private copy of a store and its hot journal, rolled back as SQLite rolls back on the
    next normal open: what the gateway will read next, with the store itself never touched
    (a read-only open cannot roll back and fails). Files are read without following links."""
    with tempfile.TemporaryDirectory(prefix="wadoctor-store-") as folder:
        copy = Path(folder) / db.name
        for suffix in ("", "-journal"):
            source = os.open(db.with_name(db.name + suffix), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            try:
                if os.fstat(source).st_size > cap:
                    raise TooLargeToCopy(f"{db.name}{suffix} is larger than {cap >> 20} MiB")
                with open(source, "rb", closefd=False) as reader, open(copy.with_name(copy.name + suffix), "xb") as out:
                    shutil.copyfileobj(reader, out)
            finally:
                os.close(source)
        connection = sqlite3.connect(copy, isolation_level=None)
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the rollback happens here
        finally:
            connection.close()
        yield copy
