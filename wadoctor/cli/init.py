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
    """Write a commented wadoctor.toml: the roots of the sessions found under the current
    folder (or --root), thresholds and severity overrides.

    \b
    Example: wadoctor init --system --root /srv/gateway/sessions
    """
    from wadoctor.config import CONFIG_NAME, SYSTEM_CONFIG, write_default_config
    from wadoctor.util.errors import UsageError
    from wadoctor.util.escape import visible

    if system and path is not None:
        raise UsageError("give a PATH or --system, not both")
    target = SYSTEM_CONFIG if system else path or Path(CONFIG_NAME)
    for missing in [r for r in root or [] if not r.exists()]:
        typer.echo(f"wadoctor: warning: {visible(missing)} does not exist (yet?); check will say so", err=True)
    note = None
    if root:
        roots = [str(r.absolute()) if system else str(r) for r in root]
    else:
        roots = _roots_found(Path.cwd(), target.parent.absolute(), absolute=system)
        note = None if roots else f"no sessions found under {Path.cwd()}"
    write_default_config(target, force, roots, note)
    typer.echo(f"wrote {visible(target)}" + (f" with roots {', '.join(map(visible, roots))}" if roots else ""),
               err=True)


def _roots_found(start: Path, base: Path, absolute: bool) -> list[str]:
    """The folders holding the sessions found under `start`, as `roots` names them."""
    import os

    from wadoctor.config import Config
    from wadoctor.pipeline.discovery import Discovery
    from wadoctor.repair.quarantine import state_root
    from wadoctor.stores.adapters import ADAPTERS

    folders = sorted({state_root(s.path) for s in Discovery(ADAPTERS, Config().max_depth, False, workers=1)
                      .sessions([start.absolute()])})
    outermost = [f for f in folders if not any(other in f.parents for other in folders)]  # a root searches below
    return [str(f) if absolute else os.path.relpath(f, base) for f in outermost]
