"""`wadoctor restore` and `wadoctor quarantine list|purge`: the way back, and the only delete."""

from __future__ import annotations

import json as jsonlib
import re
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from wadoctor.cli import completion
from wadoctor.cli.options import ConfigFile, Json, Paths
from wadoctor.errors import UsageError, WadoctorError
from wadoctor.exitcodes import ExitCode

if TYPE_CHECKING:
    from wadoctor.config import Config
    from wadoctor.repair.quarantine import Entry

app = typer.Typer(help="List and purge quarantined sessions and files.", no_args_is_help=True)
_AGE = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _roots(paths: Paths, config: Config) -> list[Path]:
    """The named paths, else the config's roots and, with [[stores]], the folder beside the config
    that keeps what fix replaced in databases."""
    from wadoctor.repair.backups import database_state_root
    from wadoctor.scan import default_paths

    if paths:
        return list(paths)
    return default_paths(config) + ([database_state_root(config.source)] if config.stores else [])


def _entries(paths: Paths, config_file: ConfigFile) -> list[Entry]:
    from wadoctor.config import load_config
    from wadoctor.repair.quarantine import entries, state_roots

    config = load_config(config_file)
    return entries(state_roots(_roots(paths, config), config.max_depth))


def _entry_dict(entry: Entry) -> dict:
    return {"id": entry.id, "session": entry.session, "root": entry.root, "reason": entry.reason,
            "state": entry.state, "created": entry.created.isoformat().replace("+00:00", "Z"),
            "items": [vars(i) for i in entry.items], "bytes": entry.bytes, "path": str(entry.path)}


def restore(
    entry_id: Annotated[Optional[str], typer.Argument(metavar="QUARANTINE-ID", help="Entry to restore.",
                                                      autocompletion=completion.quarantine_ids)] = None,
    last: Annotated[bool, typer.Option("--last", help="Restore the newest entry.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Put files back even where a file has reappeared "
                                        "(the newcomer is quarantined in turn).")] = False,
    root: Annotated[Optional[list[str]], typer.Option("--root", help="Where to look (default: config roots, "
                                                      "else here).")] = None,
    config_file: ConfigFile = None,
) -> None:
    """Put a quarantine entry back where it came from."""
    if (entry_id is None) == (not last):
        raise UsageError("name one QUARANTINE-ID, or --last")
    from wadoctor.cli.output import Output
    from wadoctor.repair.quarantine import restore as restore_entry

    found = _entries([Path(r) for r in root] if root else None, config_file)
    chosen = found[-1:] if last else [e for e in found if e.id == entry_id]
    if not chosen:
        raise WadoctorError(f"no quarantine entry {entry_id or ''} found (see `wadoctor quarantine list`)")
    result = restore_entry(chosen[0], force)
    output = Output()
    for path in result.restored:
        output.out.print(f"restored {path}")
    for path in result.refused:
        output.warn(f"{path} exists again: left in quarantine (use --force to put it back anyway)")
    raise typer.Exit(int(ExitCode.WARNING if result.refused else ExitCode.OK))


@app.command("list")
def list_entries(paths: Paths = None, config_file: ConfigFile = None, json: Json = False) -> None:
    """List quarantine entries, oldest first."""
    found = _entries(paths, config_file)
    if json:
        sys.stdout.write(jsonlib.dumps({"schema_version": 1, "entries": [_entry_dict(e) for e in found]},
                                       indent=2, default=str) + "\n")
        raise typer.Exit()
    from rich.table import Table

    from wadoctor.cli.output import Output
    from wadoctor.render.table import human_size

    output = Output()
    if not found:
        output.out.print("The quarantine is empty.")
        raise typer.Exit()
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("ID", "SESSION", "REASON", "ITEMS", "SIZE", "STATE"):
        table.add_column(column, overflow="fold")
    for e in found:
        table.add_row(e.id, e.session, e.reason, str(len(e.items)), human_size(e.bytes), e.state)
    output.out.print(table)


@app.command("purge")
def purge_entries(
    older_than: Annotated[str, typer.Option("--older-than", metavar="AGE", help="e.g. 30d, 12h, 2w.")],
    paths: Paths = None,
    config_file: ConfigFile = None,
) -> None:
    """Delete quarantine entries older than AGE: the one command that really deletes."""
    match = _AGE.match(older_than)
    if not match:
        raise UsageError(f"--older-than takes an age such as 30d, 12h or 2w, not {older_than!r}")
    from wadoctor.cli.output import Output
    from wadoctor.config import load_config
    from wadoctor.repair.quarantine import purge, state_roots

    config = load_config(config_file)
    gone = purge(state_roots(_roots(paths, config), config.max_depth),
                 int(match[1]) * _UNITS[match[2]])
    output = Output()
    for entry in gone:
        output.out.print(f"purged {entry.id} ({entry.session}, {datetime.now(timezone.utc) - entry.created} old)")
