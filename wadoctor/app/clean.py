"""`clean` and `clean-all`: choose whole sessions, plan their move to the quarantine, confirm
through the caller, act under the run lock, then look again at what the roots still hold."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from wadoctor.app.check import inspect
from wadoctor.app.fix import Acted
from wadoctor.app.targets import default_paths
from wadoctor.config import Config
from wadoctor.core.model import Session
from wadoctor.pipeline.report import Report
from wadoctor.repair.execute import execute
from wadoctor.repair.lock import RunLock
from wadoctor.repair.plan import Action, plan_clean
from wadoctor.util.errors import NotFound


@dataclass
class Chosen:
    report: Report  # everything the roots hold
    sessions: list[Session]  # what is to be taken
    roots: list[Path]


def choose(names: Sequence[str], roots: Sequence[Path] | None, config: Config) -> Chosen:
    """Sessions by path, or by id under `roots` (else the config's); anything named that is
    not exactly one session there is NotFound (3), before anything is planned."""
    named = [Path(s) for s in names if Path(s).exists()]
    searched = [] if len(named) == len(names) else list(roots or default_paths(config))  # where ids are looked for
    report = inspect(named + searched, config, "clean")
    wanted = {s for s in names if not Path(s).exists()}
    chosen = [s for s in report.sessions if s.id in wanted or any(s.path == p.absolute() or s.path == p for p in named)]
    missing = wanted - {s.id for s in chosen}
    if missing:
        raise NotFound(f"no session named {sorted(missing)[0]!r} under {', '.join(map(str, searched))} "
                       "and no such path")
    for path in named:
        if any(s.path == path.absolute() or s.path == path for s in chosen):
            continue
        under = [s for s in report.sessions if s.path.is_relative_to(path.absolute())]
        raise NotFound(f"{path}: a folder of {len(under)} sessions, not one: name them, or use clean-all"
                       if under else f"{path}: holds no session")
    return Chosen(report, chosen, named + searched)


def choose_all(roots: Sequence[Path] | None, config: Config) -> Chosen:
    searched = list(roots or default_paths(config))
    report = inspect(searched, config, "clean-all")
    return Chosen(report, report.sessions, searched)


def clean(command: str, chosen: Chosen, config: Config, force: bool, stop_holders: bool, signal_managed: bool,
          dry_run: bool, wait: float, confirm: Callable[[list[Action]], None]) -> Acted:
    """`confirm(actions)` is the caller's to ask (it raises to stop); a dry run asks nothing."""
    actions = plan_clean(chosen.sessions, chosen.report.sessions, force, stop_holders, signal_managed)
    if dry_run:
        return Acted(command, actions, chosen.report, dry_run)
    confirm(actions)
    with RunLock(chosen.roots, wait):
        execute(actions, force)
    # named sessions are gone now: what is left is what the roots still hold
    state = inspect([r for r in chosen.roots if os.path.lexists(r)], config, command)
    return Acted(command, actions, state, dry_run)
