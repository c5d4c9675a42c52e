"""Options shared by several commands, declared once.

Command modules import only this and Typer when the CLI loads; the core, Rich and psutil
are imported inside the command that runs, so `--version` and `--help` stay fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

Paths = Annotated[
    Optional[list[Path]],
    typer.Argument(metavar="[PATH]...", help="Session folders, folders of sessions, store files or application "
                   "folders. Default: the config's roots, else the current folder.", show_default=False),
]
Targets = Annotated[
    Optional[list[str]],
    typer.Argument(metavar="[PATH|URL]...", help="Session folders, folders of sessions, store files or application "
                   "folders; or auth state in a database: postgresql://... (Evolution API) or redis://...?prefix=... "
                   "(docs/contracts.md). Default: the config's roots and [[stores]], else the current folder.",
                   show_default=False),
]
ConfigFile = Annotated[
    Optional[Path],
    typer.Option("--config", "-c", metavar="FILE", help="Config file (default: $WADOCTOR_CONFIG, else the first of "
                 "./wadoctor.toml, ~/.config/wadoctor/wadoctor.toml (not for root), /etc/wadoctor/wadoctor.toml).",
                 dir_okay=False, show_default=False),
]
Json = Annotated[bool, typer.Option("--json", help="Print the versioned JSON document (docs/contracts.md).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print only warnings and critical findings, one per line.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Show the evidence behind each finding.")]
Roots = Annotated[
    Optional[list[Path]],
    typer.Option("--root", metavar="PATH", help="Where to look (repeatable; default: the config's roots, else the "
                 "current folder).", show_default=False),
]
NoBackup = Annotated[bool, typer.Option("--no-backup", help="Do not back up healthy creds.json files (check: a "
                                        "strictly read-only run).")]
Nagios = Annotated[bool, typer.Option("--nagios", help="Print one monitoring-plugins line (Nagios, Icinga): "
                                      "STATUS - text | perfdata.")]
Prometheus = Annotated[
    Optional[Path],
    typer.Option("--prometheus", metavar="FILE", help="Also write metrics for node_exporter's textfile collector "
                 "(atomically; docs/contracts.md).", dir_okay=False, show_default=False),
]
Registry = Annotated[
    Optional[str],
    typer.Option("--registry", metavar="URL", help="Fleet registry, postgresql://... (default: $WADOCTOR_REGISTRY, "
                 "else [registry] url).", show_default=False),
]

