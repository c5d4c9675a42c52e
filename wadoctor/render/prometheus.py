"""Metrics for Prometheus' node_exporter textfile collector, written atomically.

Cron or a systemd timer runs `wadoctor check --prometheus /var/lib/node_exporter/textfile/
wadoctor.prom`; node_exporter serves the file. It is written to a temporary file in the same
folder, fsynced and renamed over the old one, so the collector never reads half a file. The
names follow Prometheus' conventions (a `wadoctor_` prefix, base units, `_info` metrics set to
1 that carry labels). Nothing secret is written: no key material, and phone numbers masked
unless the config says otherwise. Every metric is documented in docs/contracts.md.
"""

from __future__ import annotations

import os
import re
import stat
import time
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wadoctor.logs.report import LogReport, figures
from wadoctor.pipeline.report import Report
from wadoctor.repair.plan import Action
from wadoctor.repair.safety import fsync_dir, write_synced
from wadoctor.util.errors import WadoctorError
from wadoctor.util.trusted import check_file_and_folders

if TYPE_CHECKING:
    from wadoctor.util.spool import Spool

LAST_SUCCESS = "wadoctor_last_success_timestamp_seconds"
_LAST_SUCCESS_LINE = re.compile(rf"^{LAST_SUCCESS}(?:{{[^}}]*}})? ([0-9.e+]+)$", re.M)
# Exit codes at which a run counts as successful: it completed (with or without findings).
SUCCESS_CODES = (0, 1, 2)
PREVIOUS_CAP = 16 << 20  # of the previous file, read for its last success


def mask_phone(phone: str | None) -> str:
    """`6281234567890` -> `6281*****7890`: enough to tell numbers apart on a dashboard."""
    if not phone:
        return ""
    keep = min(4, len(phone) // 3)
    return phone[:keep] + "*" * (len(phone) - 2 * keep) + phone[len(phone) - keep:]


_SPECIAL = re.compile(r'[\\"\n\x00-\x1f\x7f\ud800-\udfff]')


def _escape(char: str) -> str:
    if char in '\\"':
        return "\\" + char
    if char == "\n":
        return "\\n"
    # control characters and bytes that were not UTF-8 (a folder name's surrogate escapes): shown
    # as a literal \xNN, which every Prometheus parser reads as text
    code = ord(char) - 0xDC00 if 0xDC80 <= ord(char) <= 0xDCFF else ord(char)
    return f"\\\\x{code:02x}" if code < 0x100 else "\ufffd"


def _label(value: object) -> str:
    """A label value in the text format from any text: backslash, double quote and line feed
    escaped as the format says; other control characters (a carriage return too) and bytes
    that were not UTF-8 written as a literal \\xNN, so the file is always valid UTF-8."""
    return _SPECIAL.sub(lambda m: _escape(m[0]), str(value))


class _Samples:
    """A family's sample lines in the order added: a few thousand in memory, the rest spilled
    to a spool (a million sessions' info lines are 300 MB of text)."""

    HELD = 4096

    def __init__(self) -> None:
        self.held: list[bytes] = []
        self.spilled: Spool | None = None

    def append(self, line: bytes) -> None:
        self.held.append(line)
        if len(self.held) == self.HELD:
            if self.spilled is None:
                from wadoctor.util.spool import Spool

                self.spilled = Spool()
            self.spilled.extend(b"".join(self.held), array("I", map(len, self.held)))
            self.held = []

    def __iter__(self) -> Iterator[bytes]:
        yield from self.spilled or ()
        yield from self.held

    def close(self) -> None:
        if self.spilled is not None:
            self.spilled.close()


@dataclass
class Metrics:
    """Families in the order they are written, each with HELP, TYPE and its samples."""

    families: dict[str, tuple[str, str, _Samples]] = field(default_factory=dict)

    def add(self, name: str, kind: str, help_text: str, value: float, **labels: object) -> None:
        family = self.families.setdefault(name, (kind, help_text, _Samples()))
        shown = ",".join(f'{key}="{_label(v)}"' for key, v in labels.items())
        number = str(int(value)) if float(value).is_integer() else repr(float(value))  # full precision
        family[2].append((f"{name}{{{shown}}} {number}\n" if shown else f"{name} {number}\n").encode())

    def declare(self, name: str, kind: str, help_text: str) -> None:
        """A family with no sample this run (no session has that finding): still typed."""
        self.families.setdefault(name, (kind, help_text, _Samples()))

    def chunks(self) -> Iterator[bytes]:
        """The text format, a family at a time, its samples a few thousand lines at a time."""
        for name, (kind, help_text, samples) in self.families.items():
            yield f"# HELP {name} {help_text}\n# TYPE {name} {kind}\n".encode()
            lines = iter(samples)
            while block := list(islice(lines, _Samples.HELD)):
                yield b"".join(block)

    def close(self) -> None:
        for _, _, samples in self.families.values():
            samples.close()


_INFO = "One per session: its format, state, health and phone."


def report_metrics(metrics: Metrics, report: Report, mask_phones: bool = True) -> None:
    """Sessions by state and by finding, one info metric per session, holders, log figures:
    in one pass over the sessions (those written as they came are read back once)."""
    metrics.declare("wadoctor_sessions", "gauge", "Sessions found, by state.")
    for state, count in sorted(report.state_counts().items()):
        metrics.add("wadoctor_sessions", "gauge", "Sessions found, by state.", count, state=state)
    metrics.declare("wadoctor_sessions_with_finding", "gauge", "Sessions with a finding, by code and severity.")
    by_code: Counter[tuple[str, str]] = Counter()
    duplicates = 0
    logged: list[tuple[str, dict[str, Any]]] = []
    for session in report.every_session():
        for code, severity in {(f.code, f.severity.value) for f in session.findings}:
            by_code[(code, severity)] += 1
        phone = session.identity.phone if session.identity else None
        worst = session.findings[0].severity.value if session.findings else "ok"
        metrics.add("wadoctor_session_info", "gauge", _INFO, 1,
                    session=session.id, path=session.location, format=session.format, state=session.state.value,
                    health=worst, held="true" if session.holders else "false",
                    phone=mask_phone(phone) if mask_phones else phone or "")
        metrics.add("wadoctor_session_holders", "gauge", "Live processes holding the session.", len(session.holders),
                    session=session.id)
        duplicates += any(f.code == "duplicate-holder" for f in session.findings)
        if session.logs is not None:
            logged.append((session.id, session.logs))
    for (code, severity), count in sorted(by_code.items()):
        metrics.add("wadoctor_sessions_with_finding", "gauge", "Sessions with a finding, by code and severity.",
                    count, code=code, severity=severity)
    metrics.add("wadoctor_duplicate_holder_sessions", "gauge", "Sessions held by two independent live processes.",
                duplicates)
    for severity, count in report.severity_counts().items():
        metrics.add("wadoctor_findings", "gauge", "Findings, by severity.", count, severity=severity)
    for name, figures_of in logged:
        _log_metrics(metrics, name, figures_of)


def actions_metrics(metrics: Metrics, actions: list[Action]) -> None:
    """What a fix or clean did: actions by status (planned only on a dry run)."""
    counts = Counter(a.status for a in actions)
    for status in ("planned", "done", "skipped", "failed"):
        metrics.add("wadoctor_fix_actions", "gauge", "Repair actions of this run, by status.", counts.get(status, 0),
                    status=status)


def logs_metrics(metrics: Metrics, report: LogReport) -> None:
    for log, _ in report.sessions:
        _log_metrics(metrics, log.session, figures(log))
    metrics.add("wadoctor_log_lines", "gauge", "Log lines read by this run.", report.lines)


def _log_metrics(metrics: Metrics, session: str, figures_: dict[str, object]) -> None:
    for key, name, help_text in (
        ("conflicts_last_hour", "wadoctor_log_conflicts_last_hour", "Stream conflicts logged in the last hour."),
        ("conflicts", "wadoctor_log_conflicts", "Stream conflicts in the logs read."),
        ("worst_hourly_conflicts", "wadoctor_log_worst_hourly_conflicts", "Most conflicts within one hour."),
        ("storms", "wadoctor_log_reconnect_storms", "Reconnect storms in the logs read."),
        ("reconnects", "wadoctor_log_reconnects", "Reconnects in the logs read."),
        ("logouts", "wadoctor_log_logouts", "Logouts in the logs read."),
    ):
        metrics.add(name, "gauge", help_text, float(figures_.get(key) or 0), session=session)  # type: ignore[arg-type]


def run_metrics(metrics: Metrics, command: str, started: float, exit_code: int, previous: Path) -> None:
    """The run itself; the last success is carried over from the previous file when this run failed."""
    now = time.time()
    metrics.add("wadoctor_run_duration_seconds", "gauge", "How long the run took.", round(now - started, 3),
                command=command)
    metrics.add("wadoctor_run_exit_code", "gauge", "The run's exit code (docs/contracts.md).", exit_code,
                command=command)
    metrics.add("wadoctor_run_timestamp_seconds", "gauge", "When the run ended.", round(now, 3), command=command)
    last = now if exit_code in SUCCESS_CODES else _previous_success(previous)
    if last is not None:
        metrics.add(LAST_SUCCESS, "gauge", "When a run last completed (exit 0, 1 or 2).", round(last, 3),
                    command=command)


def _previous_success(path: Path) -> float | None:
    """The last success the previous file recorded; only a regular file is read (a FIFO
    planted at the path would hold the run forever)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        match = _LAST_SUCCESS_LINE.search(handle.read(PREVIOUS_CAP).decode(errors="replace"))
    return float(match[1]) if match else None


def write_metrics(path: Path, text: Iterable[bytes]) -> None:
    """Replace the file atomically with the text (Metrics.chunks): a temporary file beside it,
    fsynced, renamed over it. Only a regular file is replaced; as root, only in folders no
    other user could have swapped."""
    if os.geteuid() == 0:
        check_file_and_folders(path.parent)
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            raise WadoctorError(f"{path} is not a regular file: refused")
    except FileNotFoundError:
        pass
    temp = path.with_name(f".{path.name}.{os.urandom(3).hex()}.tmp")
    try:
        write_synced(temp, text)
        os.chmod(temp, 0o644)  # node_exporter runs as its own user
        os.replace(temp, path)
    finally:
        if os.path.lexists(temp):
            os.unlink(temp)
    fsync_dir(path.parent)
