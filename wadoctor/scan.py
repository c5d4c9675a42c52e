"""The read-only pipeline behind `list` and `check`: discover, read, diagnose.

A plain scan streams: each session is listed, its creds read and its holders looked up as
it arrives, and nothing per file is kept. A large folder of sessions is read on every core,
and so is `deep`, which also parses every key file. Duplicate identities need every session,
so diagnosis runs once all are in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from wadoctor.config import Config
from wadoctor.conflicts import attach_holders, find_duplicate_identities
from wadoctor.cores import available_cores
from wadoctor.diagnosis import diagnose, finding_of
from wadoctor.discovery import Discovery
from wadoctor.holders.index import HolderIndex
from wadoctor.model import Session
from wadoctor.repair.backups import keep_backup
from wadoctor.repair.plan import mark_fixable
from wadoctor.report import Report
from wadoctor.stores import ADAPTERS

if TYPE_CHECKING:  # loaded by check only with --registry or --logs
    from wadoctor.fleet.link import FleetLink
    from wadoctor.logs.analysis import LogAnalysis


def _backed_up(session: Session, config: Config) -> bool:
    try:
        keep_backup(session, config.backups_keep)
    except OSError:
        return False  # a read-only or full root: the check itself still completes
    return True


def default_paths(config: Config) -> list[Path]:
    """Where to look when the command line names nothing: the config's roots, else here."""
    return list(config.roots) or [Path.cwd()]


def scan(
    paths: Sequence[Path],
    config: Config,
    command: str,
    deep: bool = False,
    on_session: Callable[[Session], None] | None = None,
    keep_backups: bool = False,
    logs: LogAnalysis | None = None,
    fleet: FleetLink | None = None,
) -> Report:
    """Scan `paths`; with `keep_backups`, also back up every healthy paired creds.json that
    changed since its last backup (check and fix do; list does not write); with `logs`, join
    each session's log figures and findings on its id."""
    index = HolderIndex.build(paths)
    discovery = Discovery(ADAPTERS, config.max_depth, deep, workers=available_cores())
    report = Report(command=command, sessions=[], deep=deep, uninspected=index.table.uninspected)
    for session in discovery.sessions(paths):
        attach_holders(session, index)
        if keep_backups:
            report.backups_failed += not _backed_up(session, config)
        report.sessions.append(session)
        if on_session is not None:
            on_session(session)
    find_duplicate_identities(report.sessions)
    if fleet is not None:
        fleet.observe(report.sessions)
    for session in report.sessions:
        if logs is not None and session.id in logs.sessions:
            from wadoctor.logs.report import figures, log_observations

            session.logs = figures(logs.sessions[session.id])
            session.observations += log_observations(logs.sessions[session.id], logs.thresholds)
        diagnose(session, config)
        mark_fixable(session, config)
    report.problems = discovery.problems
    report.apps = discovery.apps
    if fleet is not None:
        fleet.publish(report.sessions)
        report.fleet = fleet.summary()
        report.fleet_findings = [(subject, f) for subject, o in fleet.observations
                                 if (f := finding_of(o, config)) is not None]
    return report
