"""One output object per run: data on stdout, diagnostics and progress on stderr."""

from __future__ import annotations

import sys
import time
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wadoctor.util.errors import UsageError, WadoctorError
from wadoctor.util.escape import visible

if TYPE_CHECKING:
    from wadoctor.logs.report import LogReport
    from wadoctor.pipeline.report import Report
    from wadoctor.pipeline.stream import Writer
    from wadoctor.render.console import SafeConsole
    from wadoctor.repair.plan import Action

PROGRESS_AFTER = 0.3  # seconds before a progress display is worth showing
PROGRESS_EVERY = 0.1  # seconds between redraws
PIPE_WIDTH = 200


class Mode(str, Enum):
    TABLE = "table"
    JSON = "json"
    QUIET = "quiet"
    NAGIOS = "nagios"


def output_mode(json: bool, quiet: bool, nagios: bool = False) -> Mode:
    if json + quiet + nagios > 1:
        raise UsageError("--json, --quiet and --nagios exclude each other")
    return Mode.JSON if json else Mode.QUIET if quiet else Mode.NAGIOS if nagios else Mode.TABLE


def stream_writer(mode: Mode, prometheus: Path | None) -> Writer:
    """How the sessions a database streams are written as they are read, never all kept:
    as JSON records or -q's lines, the fast way, where they are all the output needs; else as
    sessions, read back one at a time by each output (the table, --nagios, the metrics file)."""
    if mode is Mode.JSON and prometheus is None:
        from wadoctor.render.jsonout import JsonWriter

        return JsonWriter()
    if mode is Mode.QUIET and prometheus is None:
        from wadoctor.render.quiet import QuietWriter

        return QuietWriter()
    from wadoctor.pipeline.stream import SessionWriter

    return SessionWriter()


class Output:
    """The consoles (and Rich with them) are made on first use: a JSON run never loads Rich."""

    def __init__(self, mode: Mode = Mode.TABLE, verbose: bool = False) -> None:
        self.mode = mode
        self.verbose = verbose
        self._started = time.monotonic()
        self.started = time.time()
        self._progress: Any = None  # a rich Progress, made once a scan outlasts a moment
        self._scanned = 0
        self._drawn = 0.0

    @cached_property
    def out(self) -> SafeConsole:
        from wadoctor.render.console import SafeConsole

        console = SafeConsole(soft_wrap=self.mode is not Mode.TABLE)
        if not console.is_terminal:
            # A pipe or a log file has no width to respect: never truncate a path or a JID.
            console.width = PIPE_WIDTH
        return console

    @cached_property
    def err(self) -> SafeConsole:
        from wadoctor.render.console import SafeConsole

        return SafeConsole(stderr=True, soft_wrap=True)

    def prometheus(self, path: Path | None, command: str, exit_code: int, mask_phones: bool,
                   report: Report | None = None, logs: LogReport | None = None,
                   actions: list[Action] | None = None) -> None:
        """Write the run's metrics to `path` (node_exporter's textfile collector), if asked."""
        if path is None:
            return
        from wadoctor.render.prometheus import (
            Metrics,
            actions_metrics,
            logs_metrics,
            report_metrics,
            run_metrics,
            write_metrics,
        )

        metrics = Metrics()
        try:
            if report is not None:
                report_metrics(metrics, report, mask_phones)
            if logs is not None:
                logs_metrics(metrics, logs)
            if actions is not None:
                actions_metrics(metrics, actions)
            run_metrics(metrics, command, self.started, exit_code, path)
            write_metrics(path, metrics.chunks())
        except (OSError, WadoctorError) as exc:
            why = f"cannot write metrics: {exc.strerror if isinstance(exc, OSError) else exc}"
            if report is None:
                raise WadoctorError(f"{path}: {why}") from None
            from wadoctor.pipeline.discovery import Problem

            report.problems.append(Problem(str(path), why))  # the run's output still comes, exit 3
        finally:
            metrics.close()

    def warn(self, message: str) -> None:
        self.err.print(f"wadoctor: {message}")

    def on_session(self, name: str) -> None:
        """Progress callback: a spinner on a terminal once a scan outlasts a moment."""
        self._scanned += 1
        if self._progress is None:
            if time.monotonic() - self._started < PROGRESS_AFTER or not sys.stderr.isatty():
                return
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            # No refresh thread: the scan forks workers, and forking a threaded process is unsafe.
            self._progress = Progress(SpinnerColumn(), TextColumn("scanning: {task.description}", markup=False),
                                      TimeElapsedColumn(), console=self.err, transient=True,
                                      auto_refresh=False)
            self._progress.start()
            self._task = self._progress.add_task("", total=None)
        now = time.monotonic()
        if now - self._drawn >= PROGRESS_EVERY:
            self._drawn = now
            self._progress.update(self._task, description=f"{self._scanned} sessions, at {visible(name)}",
                                  refresh=True)

    def finish_progress(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def report(self, report: Report) -> None:
        self.finish_progress()
        for problem in report.problems:
            self.warn(f"{problem.path}: {problem.message}")
        if report.backups_failed:
            self.warn(f"{report.backups_failed} creds backups could not be written (read-only or full root?)")
        if report.uninspected:
            self.warn(f"{report.uninspected} processes could not be inspected (run as root to see every holder)")
        if self.mode is Mode.JSON:
            from wadoctor.render.envelope import write_chunks
            from wadoctor.render.jsonout import json_chunks

            write_chunks(json_chunks(report))
        elif self.mode is Mode.NAGIOS:
            from wadoctor.render.nagios import nagios_line

            sys.stdout.write(nagios_line(report, int(report.exit_code())) + "\n")
        elif self.mode is Mode.QUIET:
            from wadoctor.render.quiet import quiet_lines

            for line in quiet_lines(report):
                self.out.print(line)
        else:
            from wadoctor.render.table import render_table

            render_table(report, self.out, self.verbose)
