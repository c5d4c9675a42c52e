"""The read pipeline behind every command: discover, read, attach holders, judge. It only reads.

A scan streams: each session is listed, its creds read and its holders looked up as it
arrives, and nothing per file is kept. A large folder of sessions is read on every core,
and so is `deep`, which also parses every key file. Given a `Sink`, the sessions a database
streams are judged and written as they are read, on every core, and let go (pipeline.stream).
`judge` turns what was observed (here, and whatever the app joined from logs or the fleet
registry) into findings under the config; duplicate identities need every session, so they
are found then, once all are in, and added to each session concerned.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wadoctor.config import Config
from wadoctor.core.findings import placed
from wadoctor.core.model import Session
from wadoctor.pipeline.diagnosis import diagnose
from wadoctor.pipeline.discovery import Discovery, Problem
from wadoctor.pipeline.report import Report
from wadoctor.stores.adapters import ADAPTERS, source_adapter
from wadoctor.stores.base import SourceRead
from wadoctor.stores.connect import each_within, read_failure, within
from wadoctor.stores.sources import SourceUnavailable, StoreSource
from wadoctor.util.cores import available_cores

if TYPE_CHECKING:  # loaded where a database is read, or sessions compared: an empty check starts faster
    from wadoctor.holders.index import HolderIndex
    from wadoctor.pipeline.stream import Batch, Sink

CHUNK = 256  # database sessions judged per batch (and per message to a worker): a few hundred KB


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

    def sessions(self, scanned: list[Session], sink: Sink | None) -> Iterator[Session | Batch]:
        """Each source's own sessions as it reads them (with a `sink`, batches of them sealed),
        each within the deadline; a source that fails midway is dropped with what it gave."""
        for source, read in list(self.reads):
            produced = _produced(read, scanned, sink)
            with each_within(source.timeout, "listing its sessions") as timing:
                while True:
                    try:
                        timing(True)
                        item = next(produced, None)
                        timing(False)
                    except Exception as exc:  # noqa: BLE001
                        timing(False)
                        self._drop(source, read, exc)
                        break
                    if item is None:
                        break
                    yield item

    def close(self) -> None:
        for source, read in list(self.reads):
            try:
                read.close()
            except Exception as exc:  # noqa: BLE001
                self._fail(source, exc)


def _produced(read: SourceRead, scanned: list[Session], sink: Sink | None) -> Iterator[Session | Batch]:
    """A source's sessions: one of each job, then the rest; with a `sink`, in sealed batches,
    those of its jobs on every core when the source allows."""
    if sink is None:
        yield from map(read.session_of, read.jobs())
        yield from read.sessions(scanned)
        return
    from wadoctor.pipeline.stream import Batch
    from wadoctor.util.forked import chunked, stream_map

    def sealed(sessions: Iterable[Session]) -> Batch:
        batch = Batch()
        for session in sessions:
            batch.add(session, *sink.seal(session))
            if sink.keep is not None and sink.keep(session):
                batch.kept.append(session)
        return batch

    def from_jobs(jobs: list[Any]) -> Batch:
        return sealed(map(read.session_of, jobs))

    yield from stream_map(from_jobs, chunked(read.jobs(), CHUNK), available_cores() if read.forkable else 1, 1)
    yield from map(sealed, chunked(read.sessions(scanned), CHUNK))


class _Holders:
    """The processes that hold folder sessions. The process table is read, and the code that
    reads it loaded, at the first folder session: a run that finds none (an empty or unmounted
    root) reads no process table and starts faster."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = paths
        self.index: HolderIndex | None = None

    def attach(self, session: Session) -> None:
        from wadoctor.pipeline.conflicts import attach_holders

        if self.index is None:
            from wadoctor.holders.index import HolderIndex

            self.index = HolderIndex.build(self.paths)
        attach_holders(session, self.index)

    @property
    def uninspected(self) -> int:
        return self.index.table.uninspected if self.index is not None else 0


def _empty(paths: Sequence[Path], report: Report) -> list[str]:
    """The folders searched that exist and hold no session at all."""
    found = [os.path.abspath(s.path) for s in report.sessions]
    empty = []
    for path in paths:
        root = os.path.abspath(path)
        if os.path.isdir(root) and not any(p == root or p.startswith(root.rstrip("/") + "/") for p in found):
            empty.append(root)
    return empty


def scan(
    paths: Sequence[Path],
    config: Config,
    command: str,
    deep: bool = False,
    on_session: Callable[[str], None] | None = None,
    sources: Sequence[StoreSource] = (),
    sink: Sink | None = None,
) -> Report:
    """Read every session under `paths` and in `sources`, with its holders; nothing is
    judged yet (see `judge`), but for the database sessions a `sink` seals."""
    databases = _Sources(sources, deep)
    folders = [f for f in databases.folders if f not in paths]
    holders = _Holders([*paths, *folders])
    discovery = Discovery(ADAPTERS, config.max_depth, deep, workers=available_cores())
    report = Report(command=command, sessions=[], deep=deep)
    problems: list[Problem] = []

    def add(session: Session, held: bool = True) -> None:
        if held:
            holders.attach(session)
        report.sessions.append(session)
        if on_session is not None:
            on_session(session.id)

    try:
        for session in discovery.sessions([*paths, *folders]):
            add(databases.claim(session))
        if sink is not None:
            from wadoctor.pipeline.stream import Streamed

            report.streamed = Streamed(sink.writer)
        for item in databases.sessions(report.sessions, sink):
            if isinstance(item, Session):
                add(item, held=False)  # a database session has no folder for a process to hold
                continue
            report.streamed.add(item)  # type: ignore[union-attr]
            problems += item.problems
            report.backups_failed += item.backups_failed
            if on_session is not None and item.last:
                on_session(item.last)
    finally:
        databases.close()
    report.uninspected = holders.uninspected
    report.problems = databases.problems + discovery.problems + problems
    report.empty = _empty(paths, report)
    report.apps = discovery.apps
    return report


def judge(report: Report, config: Config) -> None:
    """Findings from every session's observations, under the config's severities (the
    sealed sessions were judged as they were read); then duplicate identities, among all."""
    for session in report.sessions:
        diagnose(session, config)
    if len(report.sessions) + len(report.streamed or ()) < 2:
        return
    from wadoctor.pipeline.conflicts import find_duplicate_identities
    from wadoctor.pipeline.stream import Member

    members = [Member.of(s) for s in report.sessions]
    written = report.streamed.sharing(members) if report.streamed is not None else []
    for position, observation in find_duplicate_identities(members + [m for _, m in written]):
        finding = observation.finding(config.severity)
        if finding is None:
            continue
        if position < len(members):
            session = report.sessions[position]
            session.findings = placed(session.findings, finding, lambda f: f.severity.value)
        else:
            report.streamed.amend(written[position - len(members)][0], finding)  # type: ignore[union-attr]
