"""The read-only pipeline behind `list` and `check`: discover, read, diagnose.

A plain scan streams: each session is listed, its creds read and its holders looked up as
it arrives, and nothing per file is kept. A large folder of sessions is read on every core,
and so is `deep`, which also parses every key file. Duplicate identities need every session,
so diagnosis runs once all are in.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from wadoctor.config import Config
from wadoctor.conflicts import attach_holders, find_duplicate_identities
from wadoctor.cores import available_cores
from wadoctor.diagnosis import diagnose, finding_of
from wadoctor.discovery import Discovery, Problem
from wadoctor.holders.index import HolderIndex
from wadoctor.model import Session
from wadoctor.repair.backups import database_state_root, keep_backup
from wadoctor.repair.plan import mark_fixable
from wadoctor.report import Report
from wadoctor.stores.adapters import ADAPTERS, source_adapter
from wadoctor.stores.base import SourceRead
from wadoctor.stores.connect import read_failure, within
from wadoctor.stores.sources import SourceUnavailable, StoreSource, is_url, parse_source
from wadoctor.trusted import Untrusted

if TYPE_CHECKING:  # loaded by check only with --registry or --logs
    from wadoctor.fleet.link import FleetLink
    from wadoctor.logs.analysis import LogAnalysis


def _back_up(session: Session, config: Config, report: Report, refused: list[Problem]) -> None:
    """Keep a creds backup; a read-only or full root is counted, a backups folder wadoctor
    cannot trust (a link, another owner) is a problem of the run. The check goes on."""
    try:
        keep_backup(session, config.backups_keep, database_state_root(config.source))
    except Untrusted as exc:
        refused.append(Problem(session.location, str(exc)))
    except OSError:
        report.backups_failed += 1


def default_paths(config: Config) -> list[Path]:
    """Where to look when the command line names nothing: the config's roots, else here."""
    return list(config.roots) or ([] if config.stores else [Path.cwd()])


def targets(args: Sequence[str] | None, config: Config) -> tuple[list[Path], list[StoreSource]]:
    """Paths and database sources named on the command line; when none is, the config's roots
    and [[stores]]."""
    if not args:
        return default_paths(config), list(config.stores)
    return [Path(a) for a in args if not is_url(a)], [parse_source(a) for a in args if is_url(a)]


class _Sources:
    """The database sources of one run, each failing alone: any error while one is read (a
    timeout, a revoked privilege, a lost connection, a key of the wrong type, a value wadoctor
    does not expect) becomes a problem naming its masked URL (exit 3), that source is closed,
    and every other source and folder is still read."""

    def __init__(self, sources: Sequence[StoreSource], deep: bool) -> None:
        self.problems: list[Problem] = []
        self.reads: list[tuple[StoreSource, SourceRead]] = []
        for source in sources:
            adapter = source_adapter(source.kind)
            try:
                with within(source.timeout, "reading it"):
                    self.reads.append((source, adapter.read_source(source, deep)))
            except Exception as exc:  # noqa: BLE001 - whatever broke, it broke this source only
                self._fail(source, exc)

    def _fail(self, source: StoreSource, exc: Exception) -> None:
        message = str(exc).removeprefix(f"{source.shown}: ") if isinstance(exc, SourceUnavailable) else \
            f"read failed: {read_failure(exc, source)}"
        self.problems.append(Problem(source.shown, message))

    def _drop(self, source: StoreSource, read: SourceRead, exc: Exception) -> None:
        self._fail(source, exc)
        self.reads = [(s, r) for s, r in self.reads if r is not read]
        try:
            read.close()
        except Exception:  # noqa: BLE001, S110 - a broken connection may fail to close too
            pass

    @property
    def folders(self) -> list[Path]:
        return [f for _, read in self.reads for f in read.folders]

    def claim(self, session: Session) -> Session:
        """The database session a folder session completes, else the folder session."""
        for source, read in list(self.reads):
            try:
                with within(source.timeout, f"reading what it keeps for {session.id}"):
                    found = read.claim(session)
            except Exception as exc:  # noqa: BLE001
                self._drop(source, read, exc)
                continue
            if found is not None:
                return found
        return session

    def sessions(self, scanned: list[Session]) -> Iterator[Session]:
        """Each source's own sessions as it reads them, each within the deadline; a source that
        fails midway is dropped with what it gave."""
        for source, read in list(self.reads):
            produced = iter(read.sessions(scanned))
            while True:
                try:
                    with within(source.timeout, "listing its sessions"):
                        session = next(produced, None)
                except Exception as exc:  # noqa: BLE001
                    self._drop(source, read, exc)
                    break
                if session is None:
                    break
                yield session

    def close(self) -> None:
        for source, read in list(self.reads):
            try:
                read.close()
            except Exception as exc:  # noqa: BLE001
                self._fail(source, exc)


def _empty(paths: Sequence[Path], report: Report) -> list[str]:
    """The folders searched that exist and hold no session at all."""
    found = [os.path.abspath(s.path) for s in report.sessions]
    empty = []
    for path in paths:
        root = os.path.abspath(path)
        if os.path.isdir(root) and not any(p == root or p.startswith(root.rstrip("/") + "/") for p in found):
            empty.append(root)
    return empty


def _log_name(session: Session, logs: LogAnalysis) -> str | None:
    """The name the logs give the session: its id, or the one its gateway logs it by (the
    clientId of a whatsapp-web.js `session-<clientId>` folder)."""
    alias = session.gateway.details.get("logged_as") if session.gateway else None
    return next((name for name in (session.id, alias) if name and name in logs.sessions), None)


def scan(
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
    """Scan `paths`; with `keep_backups`, also back up every healthy paired creds.json that
    changed since its last backup (check and fix do; list does not write); with `logs`, join
    each session's log figures and findings on its id."""
    databases = _Sources(sources, deep)
    folders = [f for f in databases.folders if f not in paths]
    index = HolderIndex.build([*paths, *folders])
    discovery = Discovery(ADAPTERS, config.max_depth, deep, workers=available_cores())
    report = Report(command=command, sessions=[], deep=deep, uninspected=index.table.uninspected)
    refused: list[Problem] = []

    def add(session: Session, held: bool = True) -> None:
        if held:
            attach_holders(session, index)
        if keep_backups:
            _back_up(session, config, report, refused)
        report.sessions.append(session)
        if on_session is not None:
            on_session(session)

    try:
        for session in discovery.sessions([*paths, *folders]):
            add(databases.claim(session))
        for session in databases.sessions(report.sessions):
            add(session, held=False)  # a database session has no folder for a process to hold
    finally:
        databases.close()
    find_duplicate_identities(report.sessions)
    if fleet is not None:
        fleet.observe(report.sessions)
    for session in report.sessions:
        logged = _log_name(session, logs) if logs is not None else None
        if logs is not None and logged is not None:
            from wadoctor.logs.report import figures, log_observations

            session.logs = figures(logs.sessions[logged])
            session.observations += log_observations(logs.sessions[logged], logs.thresholds)
        diagnose(session, config)
        mark_fixable(session, config)
    report.problems = databases.problems + discovery.problems + refused
    report.empty = _empty(paths, report)
    report.apps = discovery.apps
    if fleet is not None:
        fleet.publish(report.sessions)
        report.fleet = fleet.summary()
        report.fleet_findings = [(subject, f) for subject, o in fleet.observations
                                 if (f := finding_of(o, config)) is not None]
    return report
