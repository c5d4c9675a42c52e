"""The read-only pipeline behind `list` and `check`: discover, read, diagnose.

A plain scan streams: each session is listed, its creds read and diagnosed as it arrives,
and nothing per file is kept. A large folder of sessions is read on every core, and so is
`deep`, which also parses every key file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from wadoctor.config import Config
from wadoctor.diagnosis import diagnose
from wadoctor.discovery import Discovery
from wadoctor.model import Session
from wadoctor.report import Report
from wadoctor.stores import ADAPTERS


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def default_paths(config: Config) -> list[Path]:
    """Where to look when the command line names nothing: the config's roots, else here."""
    return list(config.roots) or [Path.cwd()]


def scan(
    paths: Sequence[Path],
    config: Config,
    command: str,
    deep: bool = False,
    on_session: Callable[[Session], None] | None = None,
) -> Report:
    discovery = Discovery(ADAPTERS, config.max_depth, deep, workers=available_cores())
    report = Report(command=command, sessions=[], deep=deep)
    for session in discovery.sessions(paths):
        report.sessions.append(diagnose(session, config))
        if on_session is not None:
            on_session(session)
    report.problems = discovery.problems
    return report
