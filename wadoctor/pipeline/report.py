"""The result of a run, shared by every renderer, and the exit code it maps to."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wadoctor.core.findings import Finding, Severity
from wadoctor.core.model import Session
from wadoctor.gateways.detect import AppFolder
from wadoctor.pipeline.discovery import Problem
from wadoctor.util.exitcodes import ExitCode, outcome

if TYPE_CHECKING:
    from wadoctor.pipeline.stream import Streamed


@dataclass
class Report:
    command: str
    sessions: list[Session]
    problems: list[Problem] = field(default_factory=list)
    deep: bool = False
    uninspected: int = 0  # processes whose details were denied: holders may be missing
    backups_failed: int = 0  # sessions whose creds backup could not be written
    fleet_findings: list[tuple[str, Finding]] = field(default_factory=list)  # (subject, finding)
    fleet: dict[str, Any] | None = None  # the registry's view, with --registry
    apps: list[AppFolder] = field(default_factory=list)  # gateways' application folders recognised
    # folders searched that hold no session: a volume that failed to mount must not read as healthy
    empty: list[str] = field(default_factory=list)
    generated_at: float = field(default_factory=time.time)
    # database sessions judged and written as they were read (pipeline.stream), after `sessions`
    streamed: Streamed | None = None

    def every_session(self) -> Iterator[Session]:
        """Those in memory, then those written as they came, read back one at a time."""
        yield from self.sessions
        if self.streamed is not None:
            yield from self.streamed.sessions()

    def written_by(self, writer: type) -> tuple[Iterable[Session], Iterator[bytes]]:
        """What an output renders itself, and the records its own `writer` already wrote: with
        the stream written by that writer, the sessions in memory and the stream's records;
        otherwise every session (those streamed read back) and no record."""
        if self.streamed is not None and isinstance(self.streamed.writer, writer):
            return self.sessions, iter(self.streamed)
        return self.every_session(), iter(())

    def kept(self) -> list[Session]:
        """The sessions in memory, creds and all: every one but those only written as they
        came (of which a stream keeps what its sink asked for: those fix acts on)."""
        return self.sessions + (self.streamed.kept if self.streamed is not None else [])

    def close(self) -> None:
        """Let go of the spool of the sessions written as they came."""
        if self.streamed is not None:
            self.streamed.close()

    @property
    def total(self) -> int:
        """Sessions found: those in memory and those written as they came."""
        return len(self.sessions) + (len(self.streamed) if self.streamed is not None else 0)

    def severity_counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Severity}
        for finding in [f for s in self.sessions for f in s.findings] + [f for _, f in self.fleet_findings]:
            counts[finding.severity.value] += 1
        for severity, count in (self.streamed.severities.items() if self.streamed is not None else ()):
            counts[severity] += count
        return counts

    def state_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for session in self.sessions:
            counts[session.state.value] = counts.get(session.state.value, 0) + 1
        for state, count in (self.streamed.states.items() if self.streamed is not None else ()):
            counts[state] = counts.get(state, 0) + count
        return counts

    @property
    def complete(self) -> bool:
        """False when a path could not be searched or a check crashed."""
        crashed = any(f.code == "check-crashed" for s in self.sessions for f in s.findings) or bool(
            self.streamed is not None and self.streamed.crashed)
        unreachable = any(f.code == "registry-unreachable" for _, f in self.fleet_findings)
        return not self.problems and not crashed and not unreachable

    def exit_code(self) -> ExitCode:
        """critical (2) > could not complete (3) > warning (1) > ok (0).

        `list` is an inventory: only an incomplete scan changes its exit code.
        """
        if self.command == "list":
            return outcome(incomplete=not self.complete)
        counts = self.severity_counts()
        return outcome(critical=bool(counts[Severity.CRITICAL.value]), incomplete=not self.complete,
                       warning=bool(counts[Severity.WARNING.value] or (self.command == "check" and self.empty)))
