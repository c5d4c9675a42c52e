"""Per-session figures from a stream of events, in memory bounded by sessions, not lines.

Baileys reports one conflict three times (`stream errored out`, `connection errored`, the
app's own `connection closed due to ...` line): events of one kind for one session within a
second of each other (or, without timestamps, within a few lines) are counted once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

from wadoctor.config import Thresholds
from wadoctor.logs.events import (
    CONFLICT,
    CONNECTION_LOST,
    DECRYPT_FAILURE,
    LOGOUT,
    RECONNECT,
    RESTART,
    Event,
    LineParser,
)
from wadoctor.util.records import Record, field

UNKNOWN = "(unknown)"
DEDUPE_SECONDS = 1.0
DEDUPE_LINES = 3
HOUR = 3600.0
ECHO_OF = {CONFLICT: (LOGOUT,)}
_ECHOES = {kind: (kind, *echoes) for kind, echoes in ECHO_OF.items()}  # each kind, then what it may echo


class SessionLog(Record):
    session: str
    counts: dict[str, int] = field(default_factory=dict)
    first_seen: float | None = None
    last_seen: float | None = None
    worst_hourly_conflicts: int = 0
    storms: int = 0
    worst_burst: int = 0  # most reconnects seen inside one storm window
    _conflicts: deque[float] = field(default_factory=deque, repr=False)
    _reconnects: deque[float] = field(default_factory=deque, repr=False)
    _last: dict[str, tuple[float | None, int]] = field(default_factory=dict, repr=False)
    _in_storm: bool = field(default=False, repr=False)

    def count(self, kind: str) -> int:
        return self.counts.get(kind, 0)

    @property
    def conflicts(self) -> int:
        return self.count(CONFLICT)

    def conflicts_since(self, moment: float) -> int:
        """Conflicts at or after `moment`, when it lies within the last hour of conflicts kept."""
        return sum(1 for at in self._conflicts if at >= moment)


class LogAnalysis:
    def __init__(self, thresholds: Thresholds, since: float | None = None, until: float | None = None,
                 session: str | None = None) -> None:
        self.thresholds = thresholds
        self.since, self.until, self.only = since, until, session
        self.sessions: dict[str, SessionLog] = {}
        self.lines = 0
        self.events = 0
        self._filtering = session is not None or since is not None or until is not None
        self._conflict_levels = ((thresholds.conflicts_critical_per_hour, "critical"),
                                 (thresholds.conflicts_warning_per_hour, "warning"))

    def _keep(self, session: str | None, time: float | None) -> bool:
        if self.only is not None and session != self.only:
            return False
        if self.since is None and self.until is None:
            return True
        if time is None:
            return False
        return (self.since is None or time >= self.since) and (self.until is None or time <= self.until)

    def add(self, event: Event) -> list[str]:
        """Account for one event; return the alerts it raised (for --follow)."""
        return self.record(*event)

    def record(self, kind: str, time: float | None, session: str | None, detail: str) -> list[str]:
        """`add` of an event's fields. Run once per event of a log of gigabytes: written for
        speed, with no call it can do without."""
        if self._filtering and not self._keep(session, time):
            return []
        name = session or UNKNOWN
        log = self.sessions.get(name)
        if log is None:
            log = self.sessions[name] = SessionLog(name)
        last = log._last
        # Baileys traces a device_removed logout as "Stream Errored (conflict)": an echo, not a conflict
        for echo in _ECHOES.get(kind, (kind,)):
            previous = last.get(echo)
            if previous is not None:
                then, line = previous
                if (abs(time - then) <= DEDUPE_SECONDS if time is not None and then is not None
                        else self.lines - line <= DEDUPE_LINES):
                    last[kind] = (time, self.lines)
                    return []
        last[kind] = (time, self.lines)
        self.events += 1
        log.counts[kind] = log.counts.get(kind, 0) + 1
        if time is None:
            return [f"{name}: logged out ({detail})"] if kind == LOGOUT else []
        if log.first_seen is None or time < log.first_seen:
            log.first_seen = time
        if log.last_seen is None or time > log.last_seen:
            log.last_seen = time
        if kind == CONFLICT:
            return self._conflict_rate(log, time)
        if kind == RECONNECT:
            return self._storm(log, time)
        if kind == LOGOUT:
            return [f"{name}: logged out ({detail})"]
        return []

    def _conflict_rate(self, log: SessionLog, time: float) -> list[str]:
        window = log._conflicts
        window.append(time)
        while window and window[0] <= time - HOUR:  # a half-open hour
            window.popleft()
        before, log.worst_hourly_conflicts = log.worst_hourly_conflicts, max(log.worst_hourly_conflicts, len(window))
        for limit, level in self._conflict_levels:
            if before < limit <= log.worst_hourly_conflicts:
                return [f"{log.session}: {log.worst_hourly_conflicts} conflicts within an hour ({level})"]
        return []

    def _storm(self, log: SessionLog, time: float) -> list[str]:
        window = log._reconnects
        window.append(time)
        while window and window[0] < time - self.thresholds.storm_seconds:
            window.popleft()
        if len(window) >= self.thresholds.storm_reconnects:
            log.worst_burst = max(log.worst_burst, len(window))
            if not log._in_storm:
                log._in_storm = True
                log.storms += 1
                return [f"{log.session}: reconnect storm, {len(window)} reconnects within "
                        f"{self.thresholds.storm_seconds:g}s"]
        elif not window or len(window) < self.thresholds.storm_reconnects // 2:
            log._in_storm = False
        return []


SUMMARY_KINDS = {"conflicts": CONFLICT, "logouts": LOGOUT, "restarts": RESTART, "connection_losses": CONNECTION_LOST,
                 "decrypt_failures": DECRYPT_FAILURE, "reconnects": RECONNECT}


def feed(analysis: LogAnalysis, parser: LineParser, lines: Iterable[tuple[int, str]],
         on_alert: Callable[[str], None] | None = None) -> None:
    """Run numbered candidate lines through the parser into the analysis."""
    feed_events(analysis, ((number, parser.parse(line)) for number, line in lines), on_alert)


def feed_rows(analysis: LogAnalysis, rows: Iterable[tuple[int, str, float | None, str | None, str]]) -> None:
    """Account for each event row (line number, kind, time, session, detail) of a scan, in order."""
    record = analysis.record
    for line, kind, time, session, detail in rows:
        analysis.lines = line + 1 if line >= analysis.lines else analysis.lines
        record(kind, time, session, detail)


def feed_events(analysis: LogAnalysis, lines: Iterable[tuple[int, list[Event]]],
                on_alert: Callable[[str], None] | None = None) -> None:
    """Account for each line's events, in line order."""
    for number, events in lines:
        analysis.lines = max(analysis.lines, number + 1)
        for event in events:
            alerts = analysis.add(event)
            if on_alert is not None:
                for alert in alerts:
                    on_alert(alert)
