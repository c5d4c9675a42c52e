"""`wadoctor fix`, `clean` and `clean-all`: acting on findings, never losing a byte."""

from __future__ import annotations

import os
import sys
import time
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from wadoctor.cli import completion
from wadoctor.cli.options import (
    ConfigFile,
    Json,
    NoBackup,
    Paths,
    Prometheus,
    Quiet,
    Roots,
    Targets,
    Verbose,
)
from wadoctor.cli.output import Mode, Output, output_mode, stream_writer
from wadoctor.util.errors import UsageError
from wadoctor.util.exitcodes import ExitCode

if TYPE_CHECKING:
    from collections.abc import Callable

    from wadoctor.app.fix import Acted
    from wadoctor.repair.plan import Action


class Keep(str, Enum):
    OLDEST = "keep-oldest"
    NEWEST = "keep-newest"


Force = Annotated[bool, typer.Option("--force", help="Act on sessions a live process holds.")]
LogFile = Annotated[Optional[Path], typer.Option("--log", help="Append one line per action to FILE.",
                                                 dir_okay=False, show_default=False)]
Syslog = Annotated[bool, typer.Option("--syslog", help="Send one line per action to syslog.")]
Wait = Annotated[float, typer.Option("--wait", metavar="SECONDS", min=0,
                                     help="Wait for another running fix instead of exiting 75.")]


class _Journal:
    """--log and --syslog: a line before each action starts and one when it ends, written as
    it happens, so an interrupted run still says what it was doing; then the skipped ones."""

    def __init__(self, log_file: Path | None, use_syslog: bool) -> None:
        self.log_file = log_file
        self.use_syslog = use_syslog
        self.written: set[int] = set()
        if use_syslog:
            import syslog

            syslog.openlog("wadoctor", syslog.LOG_PID, syslog.LOG_USER)

    def line(self, line: str) -> None:
        from wadoctor.util.escape import visible

        line = visible(line)
        if self.log_file:
            with open(self.log_file, "a") as handle:
                handle.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S%z')} wadoctor: {line}\n")
                handle.flush()
                os.fsync(handle.fileno())
        if self.use_syslog:
            import syslog

            syslog.syslog(syslog.LOG_ERR if line.startswith("failed") else syslog.LOG_NOTICE, line)

    def __call__(self, action: Action, started: bool) -> None:
        from wadoctor.render.actions import action_line

        if started:
            self.line(f"starting {action.kind} {action.session.location}: {action.detail}")
        else:
            self.written.add(id(action))
            self.line(action_line(action))

    def rest(self, actions: list[Action]) -> None:
        from wadoctor.render.actions import action_line

        for action in actions:
            if action.status != "planned" and id(action) not in self.written:
                self.line(action_line(action))


def _finish(output: Output, acted: Acted) -> None:
    from wadoctor.render.actions import action_line, actions_chunks, print_actions

    code = acted.exit_code
    if output.mode is Mode.JSON:
        from wadoctor.render.envelope import write_chunks

        write_chunks(actions_chunks(acted.command, acted.actions, acted.dry_run, acted.state, int(code), time.time()))
    elif output.mode is Mode.QUIET:  # what cron mails: each thing done or failed, else nothing
        for action in acted.actions:
            if action.status in ("done", "failed"):
                output.out.print(action_line(action), markup=False)
    elif acted.actions or code or output.verbose:
        # what an action row already explains (what one did and is still found is left), by place
        # and name: the sessions a database streamed are read back as copies
        answered = {(a.session.location, a.session.id, c) for a in acted.actions if a.status != "done" for c in a.codes}
        left = [(s.id, codes) for s in acted.state.every_session() if (codes := [
            f.code for f in s.findings if f.severity.rank and (s.location, s.id, f.code) not in answered])]
        print_actions(output.out, acted.actions, left, output.verbose)
    raise typer.Exit(int(code))


SignalManaged = Annotated[bool, typer.Option("--signal-managed", help="Signal a holder even where its manager (PM2, "
                                             "a systemd unit, a container's restart policy) would start it again; "
                                             "by default its own stop command is named instead.")]


def fix(
    paths: Targets = None,
    config_file: ConfigFile = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; change nothing.")] = False,
    force: Force = False,
    deep: Annotated[bool, typer.Option("--deep", help="Also find key files whose content is damaged.")] = False,
    foreign_locks: Annotated[bool, typer.Option("--foreign-locks", help="Also remove Chromium locks written by "
                                                "another host (no browser here may hold the profile).")] = False,
    purge_abandoned: Annotated[bool, typer.Option("--purge-abandoned", help="Quarantine sessions stuck unpaired "
                                                  "past the threshold, and logged-out profiles.")] = False,
    purge_unrecoverable: Annotated[bool, typer.Option("--purge-unrecoverable", help="Quarantine sessions whose "
                                                      "creds are lost with no backup.")] = False,
    terminate_duplicates: Annotated[Optional[Keep], typer.Option("--terminate-duplicates", help="Stop duplicate "
                                                                 "holders, keeping the oldest or the newest.")] = None,
    signal_managed: SignalManaged = False,
    no_backup: NoBackup = False,
    wait: Wait = 0.0,
    wait_free: Annotated[Optional[float], typer.Option(
        "--wait-free", metavar="SECONDS", min=0,
        help="First wait until no process holds the sessions (a pre-restart hook).")] = None,
    log_file: LogFile = None,
    use_syslog: Syslog = False,
    prometheus: Prometheus = None,
    json: Json = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Repair what the findings allow: quarantine damaged files and stale locks, restore creds
    from backups, salvage stores. Prints nothing and exits 0 when there was nothing to do.

    \b
    Example: wadoctor fix --dry-run -v /srv/gateway/sessions
    """
    from wadoctor.app.fix import fix as run_fix
    from wadoctor.app.targets import targets
    from wadoctor.config import load_config
    from wadoctor.repair.plan import FixOptions

    output = Output(output_mode(json, quiet), verbose)
    config = load_config(config_file)
    options = FixOptions(force=force, deep=deep, foreign_locks=foreign_locks, purge_abandoned=purge_abandoned,
                         purge_unrecoverable=purge_unrecoverable,
                         terminate=terminate_duplicates.value if terminate_duplicates else None,
                         signal_managed=signal_managed, backups=not no_backup)
    roots, sources = targets(paths, config)
    journal = _Journal(log_file, use_syslog)
    result = run_fix(roots, config, options, dry_run, wait, wait_free, sources, journal,
                     stream_writer(output.mode, prometheus) if sources else None)
    try:
        for problem in result.before.problems:
            output.warn(f"{problem.path}: {problem.message}")
        journal.rest(result.actions)
        acted = result.acted
        output.prometheus(prometheus, "fix", int(acted.exit_code), config.prometheus_mask_phones,
                          report=acted.state, actions=result.actions)
        _finish(output, acted)
    finally:
        for report in (result.before, result.after):
            if report is not None:
                report.close()


def _confirm(yes: bool, output: Output) -> Callable[[list[Action]], None]:
    """Ask on the terminal before anything is moved; without one, only --yes goes on."""
    def confirm(actions: list[Action]) -> None:
        from wadoctor.render.actions import print_actions

        taking = [a for a in actions if a.status == "planned"]
        if yes or not taking:
            return
        if not sys.stdin.isatty():
            raise UsageError("refusing to clean without --yes when standard input is not a terminal")
        print_actions(output.err, actions)
        if not typer.confirm(f"Move {sum(a.kind == 'quarantine-session' for a in taking)} session(s) to quarantine?",
                             err=True):
            output.err.print("nothing was moved")
            raise typer.Exit(int(ExitCode.OK))
    return confirm


Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask (required when not on a terminal).")]
StopHolders = Annotated[bool, typer.Option("--stop-holders", help="Stop the processes holding the sessions first.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Print what would be taken; change nothing.")]


def clean(
    sessions: Annotated[list[str], typer.Argument(help="Session ids or paths.", show_default=False,
                                                  autocompletion=completion.session_ids)],
    root: Roots = None,
    config_file: ConfigFile = None,
    yes: Yes = False,
    force: Force = False,
    stop_holders: StopHolders = False,
    signal_managed: SignalManaged = False,
    dry_run: DryRun = False,
    wait: Wait = 0.0,
    json: Json = False,
    quiet: Quiet = False,
) -> None:
    """Move whole sessions (by id or path) to the quarantine; `wadoctor restore` undoes it.

    \b
    Example: wadoctor clean --dry-run new-kiosk
    """
    from wadoctor.app.clean import choose, clean
    from wadoctor.config import load_config

    output = Output(output_mode(json, quiet))
    config = load_config(config_file)
    chosen = choose(sessions, root, config)
    _finish(output, clean("clean", chosen, config, force, stop_holders, signal_managed, dry_run, wait,
                          _confirm(yes, output)))


def clean_all(
    root: Paths = None,
    config_file: ConfigFile = None,
    yes: Yes = False,
    force: Force = False,
    stop_holders: StopHolders = False,
    signal_managed: SignalManaged = False,
    dry_run: DryRun = False,
    wait: Wait = 0.0,
    json: Json = False,
    quiet: Quiet = False,
) -> None:
    """Move every session found to the quarantine; `wadoctor restore` undoes it.

    \b
    Example: wadoctor clean-all --dry-run /srv/old-gateway/sessions
    """
    from wadoctor.app.clean import choose_all, clean
    from wadoctor.config import load_config

    output = Output(output_mode(json, quiet))
    config = load_config(config_file)
    _finish(output, clean("clean-all", choose_all(root, config), config, force, stop_holders, signal_managed,
                          dry_run, wait, _confirm(yes, output)))
