"""`wadoctor guard`: one live process per session, enforced by the kernel.

The guard takes an exclusive flock on a lock file inside the session folder (or beside a
store file), writes who holds it, then execs the gateway with the descriptor inherited: the
lock lives exactly as long as the gateway process and dies with it, however it dies. The
record (pid, host, boot id, start time, command line) is only for humans and for `check`:
the flock alone decides who holds the session.

Python gateways (neonize bots) use the same lock as a context manager:

    with SessionGuard("sessions/shop"):
        client.connect()
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from wadoctor import __version__
from wadoctor.errors import UsageError, WadoctorError
from wadoctor.exitcodes import ExitCode
from wadoctor.masking import mask_args

LOCK_NAME = ".wadoctor.lock"
LOCK_SUFFIX = ".wadoctor.lock"
START_TOLERANCE = 1.0  # seconds: process start times are recorded with clock-tick precision


class GuardBusy(WadoctorError):
    """The session is held by another live process."""

    exit_code = ExitCode.BUSY


@dataclass(frozen=True)
class GuardRecord:
    pid: int
    host: str
    boot_id: str | None
    started: float | None
    cmdline: list[str]
    since: float
    wadoctor: str = __version__

    def describe(self) -> str:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started)) if self.started else "?"
        return f"pid {self.pid} on {self.host} (started {started}): {' '.join(self.cmdline)[:120]}"


def boot_id() -> str | None:
    try:
        with open("/proc/sys/kernel/random/boot_id") as handle:
            return handle.read().strip()
    except OSError:
        return None


def lock_path(target: Path) -> Path:
    """Where the lock for a session folder, a sessions root or a store file lives."""
    return target / LOCK_NAME if target.is_dir() else target.with_name(target.name + LOCK_SUFFIX)


def read_record(path: Path) -> GuardRecord | None:
    """The record in a lock file, or None when absent, partial or not ours."""
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read(65536))
        return GuardRecord(**{k: data[k] for k in GuardRecord.__dataclass_fields__ if k in data})
    except (OSError, ValueError, TypeError, KeyError):
        return None


def record_is_stale(record: GuardRecord) -> str | None:
    """Why a recorded holder is provably gone, or None when it is alive or cannot be proven
    dead (another host, an unknown boot): locks are broken only on proof of death."""
    if record.host != socket.gethostname():
        return None
    current_boot = boot_id()
    if record.boot_id and current_boot and record.boot_id != current_boot:
        return "the machine has rebooted since"
    import psutil  # a record is read only where a guard lock file exists

    try:
        started = psutil.Process(record.pid).create_time()
    except psutil.NoSuchProcess:
        return f"pid {record.pid} is gone"
    except psutil.Error:
        return None
    if record.started is not None and abs(started - record.started) > START_TOLERANCE:
        return f"pid {record.pid} now belongs to another process (started at another time)"
    return None


def this_process_record(command: list[str] | None = None) -> GuardRecord:
    """A record for this process, naming `command` when it is about to exec into it."""
    import psutil

    me = psutil.Process()
    return GuardRecord(pid=me.pid, host=socket.gethostname(), boot_id=boot_id(), started=me.create_time(),
                       cmdline=mask_args(command or me.cmdline()), since=time.time())


class SessionGuard:
    """An exclusive, kernel-enforced claim on a session, held while the context is open."""

    def __init__(self, target: str | os.PathLike[str], wait: float = 0.0, lock_file: Path | None = None,
                 label: str | None = None) -> None:
        self.target = Path(target)
        self.wait = wait
        self.lock_file = lock_file  # another lock than the session's own (fix's run lock)
        self.label = label or str(self.target)
        self.fd: int | None = None

    def acquire(self, record: GuardRecord | None = None) -> int:
        """Take the lock (waiting up to `wait` seconds) and write the record; return the fd."""
        if self.lock_file is None and not self.target.exists():
            raise UsageError(f"{self.target}: no such file or directory")
        path = self.lock_file or lock_path(self.target)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise WadoctorError(f"{path}: cannot open the lock file: {exc.strerror}") from None
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = read_record(path)
                    os.close(fd)
                    who = holder.describe() if holder else "another process"
                    raise GuardBusy(f"{self.label} is held by {who}") from None
                time.sleep(0.1)
        payload = json.dumps(asdict(record or this_process_record())).encode()
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, payload, 0)
            os.fsync(fd)
        except OSError:
            pass  # a full disk loses the record, for humans only; the flock itself holds
        self.fd = fd
        return fd

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing drops the flock; the file stays as a harmless record
            self.fd = None

    def __enter__(self) -> SessionGuard:
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def guard_exec(target: Path, command: list[str], wait: float = 0.0) -> None:
    """Lock the session, then become `command`: the lock dies with the gateway process."""
    if not command:
        raise UsageError("no command to run (usage: wadoctor guard PATH -- COMMAND [ARGS...])")
    guard = SessionGuard(target, wait)
    fd = guard.acquire(this_process_record(command))
    os.set_inheritable(fd, True)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvp(command[0], command)
    except OSError as exc:
        guard.release()
        code = 127 if exc.errno == errno.ENOENT else 126
        raise CommandFailed(f"cannot run {command[0]!r}: {exc.strerror}", code) from None


class CommandFailed(WadoctorError):
    """The guarded command could not be started (126 not executable, 127 not found, as shells do)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.exit_code = code  # type: ignore[assignment]
