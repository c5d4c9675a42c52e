"""`fix`: under the run lock, wait for the old gateway to go, inspect, plan, act, re-check."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from wadoctor.app.check import inspect
from wadoctor.config import Config
from wadoctor.core.model import Session
from wadoctor.guard import GuardBusy
from wadoctor.pipeline.report import Report
from wadoctor.repair.execute import execute
from wadoctor.repair.lock import RunLock, lock_targets
from wadoctor.repair.plan import Action, FixOptions, plan_session
from wadoctor.stores.sources import StoreSource
from wadoctor.util.exitcodes import ExitCode

if TYPE_CHECKING:
    from wadoctor.pipeline.stream import Writer


@dataclass
class Acted:
    """What a command that acts (fix, clean, clean-all) did, and the state it left."""

    command: str
    actions: list[Action]
    state: Report
    dry_run: bool

    @property
    def exit_code(self) -> ExitCode:
        """Like check's, on the state left; 3 when an action failed (docs/contracts.md)."""
        if any(a.status == "failed" for a in self.actions):
            return ExitCode.INCOMPLETE
        return self.state.exit_code()


@dataclass
class FixResult:
    before: Report
    actions: list[Action] = field(default_factory=list)
    after: Report | None = None
    dry_run: bool = False

    @property
    def acted(self) -> Acted:
        return Acted("fix", self.actions, self.after or self.before, self.dry_run)


def wait_until_free(paths: Sequence[Path], config: Config, seconds: float, keep_backups: bool,
                    sources: Sequence[StoreSource] = (), writer: Writer | None = None,
                    keep: Callable[[Session], bool] | None = None) -> Report:
    """Scan until no session has a holder (the old gateway has exited), or fail with 75;
    the last scan, of the sessions now free, is the one fix acts on."""
    deadline = time.monotonic() + seconds
    while True:
        report = inspect(paths, config, "fix", keep_backups=keep_backups, sources=sources, writer=writer, keep=keep)
        held = [s for s in report.sessions if s.holders]  # processes: a database's own record outlives a kill
        if not held:
            return report
        report.close()
        if time.monotonic() >= deadline:
            names = "; ".join(f"{s.id}: {', '.join(h.label for h in s.holders)}" for s in held[:5])
            raise GuardBusy(f"{len(held)} session(s) still held after {seconds:g}s: {names}")
        time.sleep(0.5)


def fix(paths: Sequence[Path], config: Config, options: FixOptions, dry_run: bool = False,
        wait: float = 0.0, wait_free: float | None = None, sources: Sequence[StoreSource] = (),
        journal: Callable[[Action, bool], None] | None = None, writer: Writer | None = None) -> FixResult:
    """With a `writer`, the sessions databases stream are written as they are read, as check
    writes them, and only those fix acts on are kept, creds and all (Report.kept): a database
    of a million instances is repaired in bounded memory. The caller closes both reports."""
    def acted_on(session: Session) -> bool:
        return bool(plan_session(session, options, config))

    with RunLock([] if dry_run else lock_targets(paths, config, sources), wait):
        before = None
        if wait_free is not None:
            before = wait_until_free(paths, config, wait_free, keep_backups=not dry_run and options.backups,
                                     sources=sources, writer=writer, keep=acted_on)
        if before is None or options.deep:  # the waiting scans are plain: a deep fix reads again
            if before is not None:
                before.close()
            before = inspect(paths, config, "fix", deep=options.deep, keep_backups=not dry_run and options.backups,
                             sources=sources, writer=writer, keep=acted_on)
        actions = [a for s in before.kept() for a in plan_session(s, options, config)]
        result = FixResult(before, actions, dry_run=dry_run)
        if not dry_run and any(a.status == "planned" for a in actions):
            execute(actions, options.force, journal)
            result.after = inspect(paths, config, "fix", deep=options.deep, sources=sources, writer=writer)
        return result
