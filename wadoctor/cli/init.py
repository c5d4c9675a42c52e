"""`wadoctor init`: write a commented default wadoctor.toml."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer



def init(
    path: Annotated[Path, typer.Argument(help="Where to write it.", dir_okay=False)] = Path("wadoctor.toml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a default wadoctor.toml: roots, thresholds and severity overrides."""
    from wadoctor.config import write_default_config
    from wadoctor.escape import visible

    write_default_config(path, force)
    typer.echo(f"wrote {visible(path)}", err=True)
