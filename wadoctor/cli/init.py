"""`wadoctor init`: write a commented default wadoctor.toml."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wadoctor.config import CONFIG_NAME, write_default_config


def init(
    path: Annotated[Path, typer.Argument(help="Where to write it.", dir_okay=False)] = Path(CONFIG_NAME),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a default wadoctor.toml: roots, thresholds and severity overrides."""
    write_default_config(path, force)
    typer.echo(f"wrote {path}", err=True)
