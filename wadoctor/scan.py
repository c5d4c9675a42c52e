"""The read-only pipeline behind `list` and `check`: discover, read, diagnose.

A plain scan streams: each session is listed, its creds read and diagnosed before the next
one is looked at, and nothing per file is kept. `deep` re-reads every session with its key
files parsed, spread over all cores.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from wadoctor.config import Config
from wadoctor.diagnosis import diagnose
from wadoctor.discovery import Discovery
from wadoctor.model import Session
from wadoctor.report import Report
from wadoctor.stores import ADAPTERS

_BY_FORMAT = {adapter.format: adapter for adapter in ADAPTERS}


def default_paths(config: Config) -> list[Path]:
    """Where to look when the command line names nothing: the config's roots, else here."""
    return list(config.roots) or [Path.cwd()]


def _deep_read(session: Session) -> Session:
    """Worker: read one session again, parsing every key file."""
    adapter = _BY_FORMAT[session.format]
    discovery = Discovery([adapter], max_depth=0, deep=True)
    found = list(discovery.sessions([session.path]))
    return found[0] if found else session


def _deepened(sessions: Iterable[Session]) -> Iterator[Session]:
    sessions = list(sessions)
    workers = min(len(sessions), os.cpu_count() or 1)
    if workers <= 1:
        yield from map(_deep_read, sessions)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_deep_read, sessions, chunksize=max(1, len(sessions) // (workers * 8)))


def scan(
    paths: Sequence[Path],
    config: Config,
    command: str,
    deep: bool = False,
    on_session: Callable[[Session], None] | None = None,
) -> Report:
    discovery = Discovery(ADAPTERS, config.max_depth)
    found: Iterable[Session] = discovery.sessions(paths)
    if deep:
        found = _deepened(found)
    report = Report(command=command, sessions=[], deep=deep)
    for session in found:
        report.sessions.append(diagnose(session, config))
        if on_session is not None:
            on_session(session)
    report.problems = discovery.problems
    return report
