"""`wadoctor fix` end to end: run lock, wait for holders to go, scan, plan, act, re-check."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from wadoctor.config import Config
from wadoctor.guard import GuardBusy
from wadoctor.holders.kernel_locks import locks_on, read_locks
from wadoctor.masking import mask_cmdline
from wadoctor.repair.backups import database_state_root
from wadoctor.repair.execute import execute
from wadoctor.repair.plan import Action, FixOptions, plan_session
from wadoctor.report import Report
from wadoctor.scan import scan
from wadoctor.stores.sources import StoreSource

@dataclass
class FixResult:
    before: Report
    actions: list[Action] = field(default_factory=list)
    after: Report | None = None
    dry_run: bool = False


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


def _lock_targets(paths: Sequence[Path], config: Config, sources: Sequence[StoreSource]) -> list[Path]:
    """The roots, and for database sources the folder that keeps their backups and quarantine
    (beside the config): a run over databases alone is locked too."""
    if not sources:
        return list(paths)
    state = database_state_root(config.source)
    state.mkdir(mode=0o700, parents=True, exist_ok=True)
    return [*paths, state]


def wait_until_free(paths: Sequence[Path], config: Config, seconds: float, keep_backups: bool,
                    sources: Sequence[StoreSource] = ()) -> Report:
    """Scan until no session has a holder (the old gateway has exited), or fail with 75;
    the last scan, of the sessions now free, is the one fix acts on."""
    deadline = time.monotonic() + seconds
    while True:
        report = scan(paths, config, "fix", keep_backups=keep_backups, sources=sources)
        held = [s for s in report.sessions if s.holders]  # processes: a database's own record outlives a kill
        if not held:
            return report
        if time.monotonic() >= deadline:
            names = "; ".join(f"{s.id}: {', '.join(h.label for h in s.holders)}" for s in held[:5])
            raise GuardBusy(f"{len(held)} session(s) still held after {seconds:g}s: {names}")
        time.sleep(0.5)


def fix(paths: Sequence[Path], config: Config, options: FixOptions, dry_run: bool = False,
        wait: float = 0.0, wait_free: float | None = None, sources: Sequence[StoreSource] = (),
        journal: Callable[[Action, bool], None] | None = None) -> FixResult:
    with RunLock([] if dry_run else _lock_targets(paths, config, sources), wait):
        before = None
        if wait_free is not None:
            before = wait_until_free(paths, config, wait_free, keep_backups=not dry_run and options.backups,
                                     sources=sources)
        if before is None or options.deep:  # the waiting scans are plain: a deep fix reads again
            before = scan(paths, config, "fix", deep=options.deep, keep_backups=not dry_run and options.backups,
                          sources=sources)
        actions = [a for s in before.sessions for a in plan_session(s, options, config)]
        result = FixResult(before, actions, dry_run=dry_run)
        if not dry_run and any(a.status == "planned" for a in actions):
            execute(actions, options.force, journal)
            result.after = scan(paths, config, "fix", deep=options.deep, sources=sources)
        return result
