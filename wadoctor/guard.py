"""`wadoctor guard`: one live process per session, enforced by the kernel.

The guard takes an exclusive flock on a lock file inside the session folder (or beside a
store file), writes who holds it, then runs the gateway as its child with the descriptor
inherited, forwarding signals to it: the lock lives as long as the gateway (even if the guard
itself is killed, the child still holds it) and no longer. When the gateway ends, the guard
removes the lock file while it still holds the lock and exits with the gateway's status, so a
guarded run leaves nothing behind. The record (pid, host, boot id, start time, command line) is
only for humans and for `check`: the flock alone decides who holds the session.

Python gateways (neonize bots) use the same lock as a context manager:

    with SessionGuard("sessions/shop"):
        client.connect()
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import stat
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from wadoctor import __version__
from wadoctor.util.errors import UsageError, WadoctorError
from wadoctor.util.exitcodes import ExitCode
from wadoctor.util.masking import mask_args

LOCK_NAME = ".wadoctor.lock"  # inside a session folder; beside a store file, after its name
START_TOLERANCE = 1.0  # seconds: process start times are recorded with clock-tick precision
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)


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
    return target / LOCK_NAME if target.is_dir() else target.with_name(target.name + LOCK_NAME)


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
        self.path = self.lock_file or lock_path(self.target)

    def acquire(self, record: GuardRecord | None = None) -> int:
        """Take the lock (waiting up to `wait` seconds) and write the record; return the fd."""
        if self.lock_file is None and not self.target.exists():
            raise UsageError(f"{self.target}: no such file or directory")
        path = self.lock_file or lock_path(self.target)
        deadline = time.monotonic() + self.wait
        while True:
            fd = _open_lock(path)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                if time.monotonic() >= deadline:
                    holder = read_record(path)
                    who = holder.describe() if holder else "another process"
                    raise GuardBusy(f"{self.label} is held by {who}") from None
                time.sleep(0.1)
                continue
            if _same_file(fd, path):
                break
            os.close(fd)  # the holder removed the file as it ended: lock the one there now
        payload = json.dumps(asdict(record or this_process_record())).encode()
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, payload, 0)
            os.fsync(fd)
        except OSError:
            pass  # a full disk loses the record, for humans only; the flock itself holds
        self.fd = fd
        self.path = path
        return fd

    def release(self, remove: bool = False) -> None:
        """Drop the lock; with `remove`, first unlink the lock file while still holding it, so
        nothing is left (a waiting guard then finds the file gone and makes its own)."""
        if self.fd is None:
            return
        if remove and _same_file(self.fd, self.path):
            try:
                os.unlink(self.path)
            except OSError:
                pass  # a read-only folder keeps a harmless record
        os.close(self.fd)  # closing drops the flock
        self.fd = None

    def __enter__(self) -> SessionGuard:
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def _open_lock(path: Path) -> int:
    """The lock file, never through a link and only as a regular file of one name (a FIFO or
    a hard link planted there would make the record's write land elsewhere)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise WadoctorError(f"{path}: cannot open the lock file: {exc.strerror}") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
        os.close(fd)
        raise WadoctorError(f"{path}: not a plain lock file (a FIFO, a device or a hard link): refused")
    return fd


def _same_file(fd: int, path: Path) -> bool:
    """Whether the locked descriptor is still the file at `path`."""
    try:
        here = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    mine = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)


def forward_signals(child: subprocess.Popen[bytes]) -> None:
    """What the guard receives (systemd's or PM2's stop, Ctrl-C), the gateway receives."""
    for signum in FORWARDED:
        signal.signal(signum, lambda number, _frame: child.send_signal(number))


def shell_status(code: int) -> int:
    """A child's status as a shell gives it: 128 + the signal that killed it."""
    return code if code >= 0 else 128 - code


def spawn(command: list[str], keep_fd: int | None = None, **options: Any) -> subprocess.Popen[bytes]:
    """Start the gateway (holding `keep_fd`, the lock, when given); 127 and 126 as shells say."""
    try:
        return subprocess.Popen(command, pass_fds=() if keep_fd is None else (keep_fd,), **options)
    except FileNotFoundError:
        raise CommandFailed(f"cannot run {command[0]!r}: No such file or directory", 127) from None
    except PermissionError:
        raise CommandFailed(f"cannot run {command[0]!r}: Permission denied", 126) from None


def guard_run(target: Path, command: list[str], wait: float = 0.0) -> int:
    """Lock the session, run `command` holding the lock, remove the lock file when it ends;
    its exit status."""
    if not command:
        raise UsageError("no command to run (usage: wadoctor guard PATH -- COMMAND [ARGS...])")
    guard = SessionGuard(target, wait)
    fd = guard.acquire(this_process_record(command))
    try:
        child = spawn(command, keep_fd=fd)
    except CommandFailed:
        guard.release(remove=True)
        raise
    forward_signals(child)
    status = shell_status(child.wait())
    guard.release(remove=True)
    return status


class CommandFailed(WadoctorError):
    """The guarded command could not be started (126 not executable, 127 not found, as shells do)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.exit_code = code  # type: ignore[assignment]
