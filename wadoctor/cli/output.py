"""One output object per run: data on stdout, diagnostics and progress on stderr."""

from __future__ import annotations

import sys
import time
from typing import Any


from wadoctor.cli.options import Mode
from wadoctor.model import Session
from wadoctor.render.console import SafeConsole
from wadoctor.escape import visible
from wadoctor.render.jsonout import render_json
from wadoctor.render.quiet import quiet_lines
from wadoctor.render.table import render_table
from wadoctor.report import Report

PROGRESS_AFTER = 0.3  # seconds before a progress display is worth showing
PROGRESS_EVERY = 0.1  # seconds between redraws
PIPE_WIDTH = 200


class Output:
    def __init__(self, mode: Mode = Mode.TABLE, verbose: bool = False) -> None:
        self.mode = mode
        self.verbose = verbose
        self.out = SafeConsole(soft_wrap=mode is not Mode.TABLE)
        if not self.out.is_terminal:
            # A pipe or a log file has no width to respect: never truncate a path or a JID.
            self.out.width = PIPE_WIDTH
        self.err = SafeConsole(stderr=True, soft_wrap=True)
        self._started = time.monotonic()
        self._progress: Any = None  # a rich Progress, made once a scan outlasts a moment
        self._scanned = 0
        self._drawn = 0.0

    def warn(self, message: str) -> None:
        self.err.print(f"wadoctor: {message}")

    def on_session(self, session: Session) -> None:
        """Progress callback: a spinner on a terminal once a scan outlasts a moment."""
        self._scanned += 1
        if self._progress is None:
            if not self.err.is_terminal or time.monotonic() - self._started < PROGRESS_AFTER:
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
            self._progress.update(self._task, description=f"{self._scanned} sessions, at {visible(session.id)}", refresh=True)

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
            sys.stdout.write(render_json(report) + "\n")
        elif self.mode is Mode.QUIET:
            for line in quiet_lines(report):
                self.out.print(line)
        else:
            render_table(report, self.out, self.verbose)
