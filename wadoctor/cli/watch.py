"""`wadoctor watch`: the monitor and circuit breaker, running until stopped."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from wadoctor.cli.options import ConfigFile, Prometheus, Registry, Targets

if TYPE_CHECKING:
    from wadoctor.pipeline.report import Report


def watch(
    paths: Targets = None,
    log: Annotated[Optional[list[str]], typer.Option(
        "--log", metavar="FILE", help="A gateway log to follow (repeatable): a file (rotation and truncation are "
        "followed), - for standard input, journal:UNIT for a systemd unit's journal, or docker:CONTAINER through "
        "the engine's socket ($DOCKER_HOST, /var/run/docker.sock, podman's).")] = None,
    once: Annotated[bool, typer.Option("--once", help="One check, its events, and exit with check's code.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say each action the policy would take; take "
                                          "none (notifications included).")] = False,
    history: Annotated[Optional[Path], typer.Option("--history", metavar="FILE", dir_okay=False, help="The "
                                                    "SQLite file of what was seen and done (default: beside the "
                                                    "config, else wadoctor's state folder).")] = None,
    prometheus: Prometheus = None,
    registry: Registry = None,
    config_file: ConfigFile = None,
) -> None:
    """Follow the gateways' logs and session folders, re-check what changes, and break conflict
    loops: N conflicts of a session within a window open its circuit, the cause is read from
    what the last check proved, and [watch]'s action for that cause is taken once (notify by
    default). Events are JSON lines on standard output.

    \b
    Example: wadoctor watch --log /var/log/gateway.log /srv/gateway/sessions
    """
    from wadoctor.app.targets import targets
    from wadoctor.app.watch import Watch
    from wadoctor.cli.output import Output
    from wadoctor.config import load_config, registry_url
    from wadoctor.repair.backups import database_state_root
    from wadoctor.repair.quarantine import STATE_DIR
    from wadoctor.util.errors import ConfigError
    from wadoctor.util.trusted import Untrusted
    from wadoctor.watch.history import History

    config = load_config(config_file)
    roots, sources = targets(paths, config)
    place = history or database_state_root(config.source) / STATE_DIR / "watch.sqlite"
    try:
        kept = History(place)
    except Untrusted as exc:
        raise ConfigError(str(exc)) from None

    def emit(body: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(body, default=str) + "\n")
        sys.stdout.flush()

    output = Output()

    def metrics(report: Report) -> None:
        output.prometheus(prometheus, "watch", int(report.exit_code()), config.prometheus_mask_phones, report=report)

    stop = threading.Event()
    if not once:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
    try:
        report = Watch(roots, config, kept, emit, sources, dry_run, metrics,
                       registry_url(config, registry)).run(log or [], stop, once)
    finally:
        kept.close()
    raise typer.Exit(int(report.exit_code()))
