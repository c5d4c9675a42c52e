"""`wadoctor init`: write a commented default wadoctor.toml."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def init(
    path: Annotated[Optional[Path], typer.Argument(help="Where to write it (default: ./wadoctor.toml).",
                                                   dir_okay=False, show_default=False)] = None,
    system: Annotated[bool, typer.Option("--system", help="Write /etc/wadoctor/wadoctor.toml, found without flags by "
                                         "every run (cron, systemd timers).")] = False,
    root: Annotated[Optional[list[Path]], typer.Option("--root", metavar="PATH", help="A sessions root to put in "
                                                       "`roots` (repeatable; absolute paths with --system).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a default wadoctor.toml: roots, thresholds and severity overrides."""
    from wadoctor.config import CONFIG_NAME, SYSTEM_CONFIG, write_default_config
    from wadoctor.errors import UsageError
    from wadoctor.escape import visible

    if system and path is not None:
        raise UsageError("give a PATH or --system, not both")
    target = SYSTEM_CONFIG if system else path or Path(CONFIG_NAME)
    roots = [str(r.absolute()) if system else str(r) for r in root] if root else ([] if system else None)
    write_default_config(target, force, roots)
    typer.echo(f"wrote {visible(target)}", err=True)
