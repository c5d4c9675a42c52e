"""`wadoctor fix` end to end: run lock, wait for holders to go, scan, plan, act, re-check."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from wadoctor.config import Config
from wadoctor.errors import WadoctorError
from wadoctor.guard import GuardBusy, SessionGuard
from wadoctor.repair.execute import execute
from wadoctor.repair.plan import Action, FixOptions, plan_session
from wadoctor.repair.quarantine import STATE_DIR
from wadoctor.report import Report
from wadoctor.scan import scan
from wadoctor.stores.sources import StoreSource

RUN_LOCK = "fix.lock"


@dataclass
class FixResult:
    before: Report
    actions: list[Action] = field(default_factory=list)
    after: Report | None = None
    dry_run: bool = False


def run_lock(paths: Sequence[Path], wait: float) -> list[SessionGuard]:
    """One fix at a time per root: a second overlapping cron run exits 75 (or waits)."""
    locks = []
    folders = sorted({os.path.abspath(p if p.is_dir() else p.parent) for p in paths if p.exists()})
    try:
        for folder in folders:
            state = Path(folder) / STATE_DIR
            try:
                state.mkdir(exist_ok=True)
            except OSError as exc:
                raise WadoctorError(f"cannot take the run lock in {state}: {exc.strerror}; nothing was changed") \
                    from None
            lock = SessionGuard(folder, wait, lock_file=state / RUN_LOCK, label=f"wadoctor fix on {folder}")
            lock.acquire()
            locks.append(lock)
    except BaseException:
        for lock in locks:
            lock.release()
        raise
    return locks


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
        wait: float = 0.0, wait_free: float | None = None, sources: Sequence[StoreSource] = ()) -> FixResult:
    locks = [] if dry_run else run_lock(paths, wait)
    try:
        before = None
        if wait_free is not None:
            before = wait_until_free(paths, config, wait_free, keep_backups=not dry_run, sources=sources)
        if before is None or options.deep:  # the waiting scans are plain: a deep fix reads again
            before = scan(paths, config, "fix", deep=options.deep, keep_backups=not dry_run, sources=sources)
        actions = [a for s in before.sessions for a in plan_session(s, options, config)]
        result = FixResult(before, actions, dry_run=dry_run)
        if not dry_run and any(a.status == "planned" for a in actions):
            execute(actions, options.force)
            result.after = scan(paths, config, "fix", deep=options.deep, sources=sources)
        return result
    finally:
        for lock in locks:
            lock.release()
