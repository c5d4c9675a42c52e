"""`list` and `check`: the read pipeline, then the steps that are the app's to take, each
explicit: join log figures, compare with the fleet registry, judge, mark what `fix` would
repair, keep creds backups, publish to the registry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from wadoctor.config import Config
from wadoctor.core.model import Session
from wadoctor.pipeline.diagnosis import diagnose
from wadoctor.pipeline.discovery import Problem
from wadoctor.pipeline.report import Report
from wadoctor.pipeline.scan import judge, scan
from wadoctor.stores.sources import StoreSource

if TYPE_CHECKING:  # loaded only with --registry or --logs, or a database read
    from wadoctor.fleet.link import FleetLink
    from wadoctor.logs.analysis import LogAnalysis
    from wadoctor.pipeline.stream import Seal, Writer
    from wadoctor.repair.backups import DatabaseBackups


def inspect(
    paths: Sequence[Path],
    config: Config,
    command: str,
    deep: bool = False,
    on_session: Callable[[str], None] | None = None,
    keep_backups: bool = False,
    logs: LogAnalysis | None = None,
    fleet: FleetLink | None = None,
    sources: Sequence[StoreSource] = (),
    writer: Writer | None = None,
    keep: Callable[[Session], bool] | None = None,
) -> Report:
    """Scan `paths` and `sources` and judge what was found; with `keep_backups`, also back up
    every healthy paired creds that changed since its last backup (check and fix do; list
    does not write); with `logs`, join each session's log figures and findings on its id.
    With a `writer` (the report's renderer), the sessions databases stream are taken through
    these same steps and written as they are read, never all in memory (pipeline.stream),
    but those `keep` picks (Report.kept); not with `fleet`, which compares every session with
    the registry at once."""
    steps = _Steps(config, logs, keep_backups)
    sink = None
    if writer is not None and fleet is None:
        from wadoctor.pipeline.stream import Sink

        sink = Sink(steps.sealer(writer), writer, keep)
    try:
        report = scan(paths, config, command, deep, on_session, sources, sink)
        for session in report.sessions:
            steps.join_logs(session)
        if fleet is not None:
            fleet.observe(report.sessions)
        judge(report, config)
        for session in report.sessions:
            problem, failed = steps.finish(session)
            report.problems += [problem] if problem is not None else []
            report.backups_failed += failed
    finally:
        steps.close()
    if fleet is not None:
        fleet.publish(report.sessions)
        report.fleet = fleet.summary()
        report.fleet_findings = [(subject, f) for subject, o in fleet.observations
                                 if (f := o.finding(config.severity)) is not None]
    return report


class _Steps:
    """The app's own steps for each session, around the pipeline's judging: join its log
    figures before; after, mark what `fix` would repair and keep a creds backup. The repair
    code loads with the first session: an empty root starts faster."""

    def __init__(self, config: Config, logs: LogAnalysis | None, keep_backups: bool) -> None:
        self.config = config
        self.logs = logs
        self.keep_backups = keep_backups
        self.databases: DatabaseBackups | None = None  # made at the first backup (repair code loads then)

    def close(self) -> None:
        if self.databases is not None:
            self.databases.close()

    def join_logs(self, session: Session) -> None:
        """The session's log figures and log observations, by the name the logs give it."""
        if self.logs is None:
            return
        from wadoctor.logs.report import figures, log_observations

        logged = _log_name(session, self.logs)
        if logged is not None:
            session.logs = figures(self.logs.sessions[logged])
            session.observations += log_observations(self.logs.sessions[logged], self.logs.thresholds)

    def finish(self, session: Session) -> tuple[Problem | None, bool]:
        """Say of each finding whether `fix` would repair it, and back up the creds (check and
        fix do; list does not write): (a backups folder wadoctor cannot trust, as a problem of
        the run; whether a read-only or full root refused the backup)."""
        if session.findings:  # most sessions of a large fleet have none
            from wadoctor.repair.plan import fixable_codes

            marked = fixable_codes(session, self.config)
            for finding in session.findings:
                finding.fixable = finding.code in marked
        if not self.keep_backups:
            return None, False
        from wadoctor.repair.backups import DatabaseBackups, database_state_root, keep_backup
        from wadoctor.util.trusted import Untrusted

        if self.databases is None:
            self.databases = DatabaseBackups(database_state_root(self.config.source))
        try:
            keep_backup(session, self.config.backups_keep, self.databases)
        except Untrusted as exc:
            return Problem(session.location, str(exc)), False
        except OSError:
            return None, True
        return None, False

    def sealer(self, writer: Writer) -> Seal:
        def seal(session: Session) -> tuple[bytes, Problem | None, bool]:
            self.join_logs(session)
            diagnose(session, self.config)
            problem, failed = self.finish(session)
            return writer.encode(session), problem, failed

        return seal


def _log_name(session: Session, logs: LogAnalysis) -> str | None:
    """The name the logs give the session: its id, or the one its gateway logs it by (the
    clientId of a whatsapp-web.js `session-<clientId>` folder)."""
    alias = session.gateway.details.get("logged_as") if session.gateway else None
    return next((name for name in (session.id, alias) if name and name in logs.sessions), None)
