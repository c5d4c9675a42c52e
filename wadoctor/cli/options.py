"""Options shared by several commands, declared once.

Command modules import only this and Typer when the CLI loads; the core, Rich and psutil
are imported inside the command that runs, so `--version` and `--help` stay fast.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer


class Mode(str, Enum):
    TABLE = "table"
    JSON = "json"
    QUIET = "quiet"


Paths = Annotated[
    Optional[list[Path]],
    typer.Argument(metavar="[PATH]...", help="Session folders, folders of sessions, store files or application "
                   "folders. Default: the config's roots, else the current folder.", show_default=False),
]
ConfigFile = Annotated[
    Optional[Path],
    typer.Option("--config", "-c", metavar="FILE", help="Config file (default: $WADOCTOR_CONFIG, else "
                 "./wadoctor.toml).", dir_okay=False, show_default=False),
]
Json = Annotated[bool, typer.Option("--json", help="Print the versioned JSON document (docs/contracts.md).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print only warnings and critical findings, one per line.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Show the evidence behind each finding.")]
Registry = Annotated[
    Optional[str],
    typer.Option("--registry", metavar="URL", help="Fleet registry, postgresql://... (default: $WADOCTOR_REGISTRY, "
                 "else [registry] url).", show_default=False),
]


def output_mode(json: bool, quiet: bool) -> Mode:
    if json and quiet:
        raise typer.BadParameter("--json and --quiet exclude each other")
    return Mode.JSON if json else Mode.QUIET if quiet else Mode.TABLE
