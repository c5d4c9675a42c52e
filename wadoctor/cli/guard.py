"""`wadoctor guard PATH -- COMMAND`: run a gateway holding an exclusive lock on its session."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wadoctor.guard import guard_exec


def guard(
    path: Annotated[Path, typer.Argument(help="Session folder, store file or sessions root to lock.")],
    command: Annotated[list[str], typer.Argument(help="The gateway command, after --.", show_default=False)],
    wait: Annotated[float, typer.Option("--wait", help="Wait up to SECONDS for the holder to exit.",
                                        metavar="SECONDS", min=0)] = 0.0,
) -> None:
    """Lock a session, then run COMMAND in its place: the lock lives exactly as long as the
    gateway. If another process holds it, exit 75 at once (or after --wait) naming the holder."""
    guard_exec(path, command[1:] if command[:1] == ["--"] else command, wait)
