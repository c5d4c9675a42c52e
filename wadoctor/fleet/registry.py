"""The registry tables and the three things done with them: publish, read, lock.

Nothing secret is stored: device JIDs, a fingerprint of the public noise key, states,
holders and findings. The schema is created on first use and versioned in `wadoctor_meta`;
each upgrade is a numbered list of statements applied in order under a transaction-level
advisory lock, so concurrent first runs on many hosts cannot race.
"""

from __future__ import annotations

import hashlib
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from wadoctor import __version__
from wadoctor.core.model import Session
from wadoctor.stores.connect import said
from wadoctor.util.errors import ConfigError, WadoctorError
from wadoctor.util.masking import split_url

CONNECT_TIMEOUT = 3  # seconds; a registry that is down must not hang a check
STATEMENT_TIMEOUT_MS = 5000
# How fast PostgreSQL notices a guard's host died (its TCP keepalives on this connection):
# about 10 + 3 x 5 = 25 s, instead of the kernel default of over two hours.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}
SERVER_KEEPALIVES = "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3"
SCHEMA_LOCK = 0x7761646F63746F72  # "wadoctor"

MIGRATIONS: list[list[str]] = [
    [  # 1
        "CREATE TABLE IF NOT EXISTS wadoctor_meta (key text PRIMARY KEY, value text NOT NULL)",
        "CREATE TABLE IF NOT EXISTS wadoctor_hosts (host text PRIMARY KEY, reported_at timestamptz NOT NULL,"
        " wadoctor text NOT NULL, sessions integer NOT NULL)",
        "CREATE TABLE IF NOT EXISTS wadoctor_sessions (host text NOT NULL REFERENCES wadoctor_hosts ON DELETE CASCADE,"
        " path text NOT NULL, session_id text NOT NULL, format text NOT NULL, state text NOT NULL, jid text,"
        " device_key text, noise_fingerprint text, held boolean NOT NULL, holders jsonb NOT NULL,"
        " findings jsonb NOT NULL, PRIMARY KEY (host, path, session_id))",
        "CREATE INDEX IF NOT EXISTS wadoctor_sessions_device ON wadoctor_sessions (device_key)",
        "CREATE INDEX IF NOT EXISTS wadoctor_sessions_noise ON wadoctor_sessions (noise_fingerprint)",
        "CREATE TABLE IF NOT EXISTS wadoctor_guards (key bigint PRIMARY KEY, identity text NOT NULL,"
        " host text NOT NULL, pid integer NOT NULL, started double precision, cmdline text NOT NULL,"
        " since timestamptz NOT NULL)",
    ],
]
SCHEMA_VERSION = len(MIGRATIONS)


class RegistryUnavailable(WadoctorError):
    """The registry could not be reached, or answered with an error."""


def this_host() -> str:
    """The name this host reports under: $WADOCTOR_HOSTNAME (a container's stable name), else
    the hostname."""
    return os.environ.get("WADOCTOR_HOSTNAME") or socket.gethostname()


def require_psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise ConfigError("the fleet registry needs psycopg 3: pip install 'wadoctor[fleet]'") from None
    return psycopg


def connect(url: str) -> Any:
    """A connection with short timeouts and fast dead-peer detection, autocommit."""
    if not url.startswith(("postgresql://", "postgres://")):
        raise ConfigError(f"the registry URL must start with postgresql://, not {url.split(':')[0]!r}")
    psycopg = require_psycopg()
    parts = split_url(url)  # the password goes as its own parameter, never through a URL parser
    extra = {"password": parts.secret} if parts.secret is not None else {}
    try:
        return psycopg.connect(parts.without_password(), autocommit=True, connect_timeout=CONNECT_TIMEOUT,
                               application_name="wadoctor",
                               options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS} {SERVER_KEEPALIVES}",
                               **KEEPALIVES, **extra)
    except psycopg.Error as exc:
        raise RegistryUnavailable(f"registry unreachable: {said(exc, parts, parts.secret)}") from None


def ensure_schema(conn: Any) -> None:
    """Create or upgrade the tables; idempotent and safe to run from many hosts at once."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        conn.execute(MIGRATIONS[0][0])
        row = conn.execute("SELECT value FROM wadoctor_meta WHERE key = 'schema_version'").fetchone()
        current = int(row[0]) if row else 0
        if current > SCHEMA_VERSION:
            raise RegistryUnavailable(f"the registry's schema is version {current}, newer than this wadoctor "
                                      f"({SCHEMA_VERSION}): upgrade wadoctor")
        for statements in MIGRATIONS[current:]:
            for statement in statements:
                conn.execute(statement)
        conn.execute("INSERT INTO wadoctor_meta VALUES ('schema_version', %s) ON CONFLICT (key) DO UPDATE "
                     "SET value = excluded.value", (str(SCHEMA_VERSION),))


def lock_key(label: str) -> int:
    """The advisory-lock key (a signed 64-bit integer) of an identity label."""
    return int.from_bytes(hashlib.sha256(b"wadoctor:" + label.encode()).digest()[:8], "big", signed=True)


def session_row(session: Session) -> dict[str, Any]:
    return {
        "path": session.location, "session_id": session.id, "format": session.format, "state": session.state.value,
        "jid": session.identity.jid if session.identity else None,
        "device_key": session.identity.device_key if session.identity else None,
        "noise_fingerprint": session.identity.noise_fingerprint if session.identity else None,
        "held": bool(session.holders),
        "holders": [{"pid": h.pid, "name": h.name, "started": h.started, "evidence": h.evidence}
                    for h in session.holders],
        "findings": [{"code": f.code, "severity": f.severity.value, "message": f.message} for f in session.findings],
    }


def publish(conn: Any, host: str, sessions: list[Session]) -> None:
    """Replace this host's rows with its sessions: three statements in one pipelined
    transaction, so one round trip whatever the number of sessions."""
    from psycopg.types.json import Jsonb

    rows = [session_row(s) for s in sessions]
    with conn.pipeline(), conn.transaction():
        conn.execute("INSERT INTO wadoctor_hosts VALUES (%s, now(), %s, %s) ON CONFLICT (host) DO UPDATE SET "
                     "reported_at = now(), wadoctor = excluded.wadoctor, sessions = excluded.sessions",
                     (host, __version__, len(rows)))
        conn.execute("DELETE FROM wadoctor_sessions WHERE host = %s", (host,))
        conn.execute(
            "INSERT INTO wadoctor_sessions SELECT %s, r.* FROM jsonb_to_recordset(%s) AS r(path text, session_id text,"
            " format text, state text, jid text, device_key text, noise_fingerprint text, held boolean,"
            " holders jsonb, findings jsonb)", (host, Jsonb(rows)))


# Guards holding their advisory lock right now: pg_locks splits a bigint key into classid
# (high 32 bits) and objid (low 32 bits), objsubid 1. A record without a granted lock is a
# guard that has exited; a lock without a record is not wadoctor's.
LIVE_GUARDS = (
    "SELECT g.identity, g.host, g.pid, g.started, g.cmdline, g.since FROM wadoctor_guards g"
    " JOIN pg_locks l ON l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted"
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND ((l.classid::bigint << 32) | l.objid::bigint) = g.key ORDER BY g.identity"
)


@dataclass(frozen=True)
class GuardRow:
    """An identity a `guard --registry` holds live, whether or not its host published a check."""

    identity: str  # the identity's label: "device 6281...:12" or "noise key ..."
    host: str
    pid: int
    started: float | None
    cmdline: str
    since: datetime


def live_guards(conn: Any) -> list[GuardRow]:
    return [GuardRow(*row) for row in conn.execute(LIVE_GUARDS)]


@dataclass
class HostRow:
    host: str
    reported_at: datetime
    wadoctor: str
    sessions: int

    @property
    def age_seconds(self) -> float:
        return (datetime.now(UTC) - self.reported_at).total_seconds()


def read_fleet(conn: Any) -> tuple[list[HostRow], list[dict[str, Any]]]:
    hosts = [HostRow(*row) for row in conn.execute(
        "SELECT host, reported_at, wadoctor, sessions FROM wadoctor_hosts ORDER BY host")]
    columns = ("host", "path", "session_id", "format", "state", "jid", "device_key", "noise_fingerprint", "held",
               "holders", "findings")
    sessions = [dict(zip(columns, row)) for row in conn.execute(
        f"SELECT {', '.join(columns)} FROM wadoctor_sessions ORDER BY host, session_id")]  # noqa: S608
    return hosts, sessions
