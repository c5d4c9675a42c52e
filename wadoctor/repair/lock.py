"""The run lock of `fix` and `clean`: one run at a time per root, its holder named."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Sequence
from pathlib import Path

from wadoctor.config import Config
from wadoctor.guard import GuardBusy
from wadoctor.holders.kernel_locks import locks_on, read_locks
from wadoctor.repair.backups import database_state_root
from wadoctor.stores.sources import StoreSource
from wadoctor.util.masking import mask_cmdline


class RunLock:
    """One fix (or clean) at a time per root: an exclusive flock on the root folder itself, so
    an overlapping cron run exits 75 (or waits), and a run that changes nothing leaves nothing
    behind. The holder is named from the kernel's lock table."""

    def __init__(self, paths: Sequence[Path], wait: float) -> None:
        self.folders = sorted({os.path.abspath(p if p.is_dir() else p.parent) for p in paths if p.exists()})
        self.wait = wait
        self.fds: list[int] = []

    def __enter__(self) -> RunLock:
        try:
            for folder in self.folders:
                fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
                self.fds.append(fd)
                self._take(fd, folder)
        except BaseException:
            self.__exit__()
            raise
        return self

    def _take(self, fd: int, folder: str) -> None:
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise GuardBusy(f"wadoctor fix on {folder} is held by {_holder_of(folder)}") from None
                time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        for fd in self.fds:
            os.close(fd)
        self.fds = []


def _holder_of(folder: str) -> str:
    locks = [lock for lock in locks_on(read_locks(), folder) if lock.kind == "FLOCK"]
    if not locks:
        return "another process"
    try:
        with open(f"/proc/{locks[0].pid}/cmdline", "rb") as handle:
            command = mask_cmdline([a.decode(errors="replace") for a in handle.read(4096).split(b"\0") if a])
    except OSError:
        command = "?"
    return f"pid {locks[0].pid}: {command[:120]}"


def lock_targets(paths: Sequence[Path], config: Config, sources: Sequence[StoreSource]) -> list[Path]:
    """The roots, and for database sources the folder that keeps their backups and quarantine
    (beside the config): a run over databases alone is locked too."""
    if not sources:
        return list(paths)
    state = database_state_root(config.source)
    state.mkdir(mode=0o700, parents=True, exist_ok=True)
    return [*paths, state]
