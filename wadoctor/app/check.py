"""`list` and `check`: the read pipeline, then the steps that are the app's to take, each
explicit: join log figures, compare with the fleet registry, judge, mark what `fix` would
repair, keep creds backups, publish to the registry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from wadoctor.config import Config
from wadoctor.core.model import Session
from wadoctor.pipeline.discovery import Problem
from wadoctor.pipeline.report import Report
from wadoctor.pipeline.scan import judge, scan
from wadoctor.stores.sources import StoreSource

if TYPE_CHECKING:  # loaded only with --registry or --logs
    from wadoctor.fleet.link import FleetLink
    from wadoctor.logs.analysis import LogAnalysis


def inspect(
    paths: Sequence[Path],
    config: Config,
    command: str,
    deep: bool = False,
    on_session: Callable[[Session], None] | None = None,
    keep_backups: bool = False,
    logs: LogAnalysis | None = None,
    fleet: FleetLink | None = None,
    sources: Sequence[StoreSource] = (),
) -> Report:
    """Scan `paths` and `sources` and judge what was found; with `keep_backups`, also back up
    every healthy paired creds that changed since its last backup (check and fix do; list
    does not write); with `logs`, join each session's log figures and findings on its id."""
    report = scan(paths, config, command, deep, on_session, sources)
    if logs is not None:
        join_logs(report.sessions, logs)
    if fleet is not None:
        fleet.observe(report.sessions)
    judge(report, config)
    if report.sessions:  # the repair code loads with the first session: an empty root starts faster
        mark_fixable(report, config)
        if keep_backups:
            back_up(report, config)
    if fleet is not None:
        fleet.publish(report.sessions)
        report.fleet = fleet.summary()
        report.fleet_findings = [(subject, f) for subject, o in fleet.observations
                                 if (f := o.finding(config.severity)) is not None]
    return report


def join_logs(sessions: Sequence[Session], logs: LogAnalysis) -> None:
    """Each session's log figures and log observations, by the name the logs give it."""
    from wadoctor.logs.report import figures, log_observations

    for session in sessions:
        logged = _log_name(session, logs)
        if logged is not None:
            session.logs = figures(logs.sessions[logged])
            session.observations += log_observations(logs.sessions[logged], logs.thresholds)


def _log_name(session: Session, logs: LogAnalysis) -> str | None:
    """The name the logs give the session: its id, or the one its gateway logs it by (the
    clientId of a whatsapp-web.js `session-<clientId>` folder)."""
    alias = session.gateway.details.get("logged_as") if session.gateway else None
    return next((name for name in (session.id, alias) if name and name in logs.sessions), None)


def mark_fixable(report: Report, config: Config) -> None:
    """Say of each finding whether `fix` would repair it (changing nothing)."""
    from wadoctor.repair.plan import fixable_codes

    for session in report.sessions:
        marked = fixable_codes(session, config)
        for finding in session.findings:
            finding.fixable = finding.code in marked


def back_up(report: Report, config: Config) -> None:
    """Keep a creds backup of each session; a read-only or full root is counted, a backups
    folder wadoctor cannot trust (a link, another owner) is a problem of the run."""
    from wadoctor.repair.backups import database_state_root, keep_backup
    from wadoctor.util.trusted import Untrusted

    state = database_state_root(config.source)
    for session in report.sessions:
        try:
            keep_backup(session, config.backups_keep, state)
        except Untrusted as exc:
            report.problems.append(Problem(session.location, str(exc)))
        except OSError:
            report.backups_failed += 1
