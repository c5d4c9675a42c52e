"""`wadoctor guard PATH -- COMMAND`: run a gateway holding an exclusive lock on its session."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wadoctor.cli.options import ConfigFile, Registry


def guard(
    path: Annotated[Path, typer.Argument(help="Session folder, store file or sessions root to lock.")],
    command: Annotated[list[str], typer.Argument(help="The gateway command, after --.", show_default=False)],
    wait: Annotated[float, typer.Option("--wait", help="Wait up to SECONDS for the holder to exit.",
                                        metavar="SECONDS", min=0)] = 0.0,
    registry: Registry = None,
    config_file: ConfigFile = None,
    registry_optional: Annotated[bool, typer.Option("--registry-optional", help="Start the gateway with the local "
                                                    "lock only when the registry is unreachable.")] = False,
) -> None:
    """Lock a session, then run COMMAND holding the lock: it lives as long as the gateway and
    the lock file is removed when it ends; signals are passed on and the gateway's exit status
    is the guard's. If another process holds it, exit 75 at once (or after --wait) naming the
    holder. With a registry, also hold each device identity fleet-wide for the gateway's life.

    \b
    Example: wadoctor guard sessions/shop -- node server.js
    """
    from wadoctor.config import load_config, registry_url
    from wadoctor.guard import guard_run

    command = command[1:] if command[:1] == ["--"] else command
    url = registry_url(load_config(config_file), registry)
    if url:
        from wadoctor.fleet.guard import guard_with_registry

        raise typer.Exit(guard_with_registry(path, command, wait, url, registry_optional))
    raise typer.Exit(guard_run(path, command, wait))
