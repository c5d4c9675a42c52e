"""`wadoctor guard --registry`: one identity live on one host, enforced by PostgreSQL.

Besides the local flock, the guard takes a session-level advisory lock per device identity
in the registry and keeps its connection open for exactly the life of the gateway: it stays
as a small parent that forwards signals and exits with the gateway's status. If its host
dies, PostgreSQL drops the connection (TCP keepalives set on it: about 25 s) and with it the
locks, with no manual cleanup. A second host trying the same identity is refused at once
(exit 75), named with the holder's host, pid and start time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

from wadoctor.fleet.registry import RegistryUnavailable, connect, ensure_schema, lock_key, this_host
from wadoctor.guard import GuardBusy, SessionGuard, forward_signals, shell_status, spawn, this_process_record
from wadoctor.pipeline.discovery import Discovery
from wadoctor.stores.adapters import ADAPTERS
from wadoctor.util.errors import WadoctorError
from wadoctor.util.escape import visible
from wadoctor.util.masking import mask_cmdline

WATCH_SECONDS = 5.0


def identities(target: Path) -> list[tuple[str, int]]:
    """(label, advisory-lock key) of every identity stored under the target."""
    labels = {s.identity.label for s in Discovery(ADAPTERS, max_depth=2).sessions([target]) if s.identity}
    return sorted((label, lock_key(label)) for label in labels if label)


def _take(conn: Any, keys: list[tuple[str, int]], command: list[str], pid: int, started: float | None) -> None:
    for label, key in keys:
        if not conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
            row = conn.execute("SELECT host, pid, started, cmdline FROM wadoctor_guards WHERE key = %s",
                               (key,)).fetchone()
            if row is None:
                raise GuardBusy(f"{label} is live on another host (no record of which)")
            host, holder, since, cmdline = row
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since)) if since else "?"
            raise GuardBusy(f"{label} is live on host {host} (pid {holder}, started {when}): {cmdline}")
    _record(conn, keys, command, pid, started)


def _record(conn: Any, keys: list[tuple[str, int]], command: list[str], pid: int, started: float | None) -> None:
    for label, key in keys:
        conn.execute(
            "INSERT INTO wadoctor_guards VALUES (%s, %s, %s, %s, %s, %s, now()) ON CONFLICT (key) DO UPDATE SET "
            "identity = excluded.identity, host = excluded.host, pid = excluded.pid, started = excluded.started, "
            "cmdline = excluded.cmdline, since = excluded.since",
            (key, label, this_host(), pid, started, mask_cmdline(command)))


def _die_with_parent() -> None:
    """In the child: receive SIGTERM if the guard dies (even by SIGKILL), so the gateway never
    outlives the registry lock that makes it the only holder (Linux prctl PR_SET_PDEATHSIG)."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _spawn(command: list[str]) -> subprocess.Popen[bytes]:
    return spawn(command, preexec_fn=_die_with_parent)


def guard_with_registry(target: Path, command: list[str], wait: float, url: str, optional: bool) -> int:
    """Run `command` under the local lock and the registry's identity locks; its exit status."""
    local = SessionGuard(target, wait)
    local.acquire(this_process_record(command))
    keys = identities(target)
    conn: Any = None
    try:
        if keys:
            try:
                conn = connect(url)
                ensure_schema(conn)
                _take(conn, keys, command, os.getpid(), psutil.Process().create_time())
            except RegistryUnavailable as exc:
                if conn is not None:
                    conn.close()
                    conn = None
                if not optional:
                    raise RegistryUnavailable(f"{exc}; not starting the gateway (--registry-optional to start it "
                                              "with the local lock only)") from None
                print(f"wadoctor: {visible(exc)}; starting with the local lock only", file=sys.stderr)
        child = _spawn(command)
        if conn is not None:
            _record(conn, keys, command, child.pid, psutil.Process(child.pid).create_time())
        return _supervise(child, conn, url, keys, command)
    finally:
        if conn is not None:
            conn.close()
        local.release(remove=True)


def _supervise(child: subprocess.Popen[bytes], conn: Any, url: str, keys: list[tuple[str, int]],
               command: list[str]) -> int:
    """Forward signals, watch the registry connection, return the child's status as a shell
    would (128 + signal when it was killed)."""
    forward_signals(child)
    while True:
        try:
            return shell_status(child.wait(timeout=WATCH_SECONDS))
        except subprocess.TimeoutExpired:
            conn = _watch(conn, url, keys, command, child)


def _watch(conn: Any, url: str, keys: list[tuple[str, int]], command: list[str], child: subprocess.Popen[bytes]) -> Any:
    """Keep the identity locks: if the connection dropped, take them again; if another host
    took one meanwhile, stop the gateway rather than run a split brain."""
    if conn is None:
        return None
    try:
        conn.execute("SELECT 1")
        return conn
    except Exception:  # noqa: BLE001 - any failure means the locks may be gone
        conn.close()
    print("wadoctor: lost the registry connection; taking the identity locks again", file=sys.stderr)
    try:
        fresh = connect(url)
        _take(fresh, keys, command, child.pid, psutil.Process(child.pid).create_time())
        return fresh
    except GuardBusy as exc:
        print(f"wadoctor: {visible(exc)}; stopping the gateway to avoid a split brain", file=sys.stderr)
        child.terminate()
        return None
    except (WadoctorError, psutil.Error):
        return _Reconnect()


class _Reconnect:
    """Stands for a connection still to be made again at the next watch."""

    def execute(self, *_args: Any) -> None:
        raise RegistryUnavailable("not connected")

    def close(self) -> None:
        pass
