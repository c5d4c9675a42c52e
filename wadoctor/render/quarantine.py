"""Quarantine entries as `quarantine list` shows them: a document and a table."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from wadoctor.app.quarantine import Found, Restored
from wadoctor.render.envelope import document
from wadoctor.render.table import human_age, human_size
from wadoctor.repair.quarantine import Entry


def entry_dict(entry: Entry) -> dict[str, Any]:
    return {"id": entry.id, "run": entry.run, "session": entry.session, "root": str(entry.root),
            "reason": entry.reason, "state": entry.state, "created": entry.created.isoformat().replace("+00:00", "Z"),
            "items": [vars(i) for i in entry.items], "bytes": entry.bytes, "path": str(entry.path)}


def age_text(created: datetime) -> str:
    """How long ago, as every table says it (40s ago, 7m ago, 3h ago, 12d ago)."""
    return human_age(created.timestamp(), time.time())


def entries_table(found: list[Entry]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("ID", "RUN", "SESSION", "REASON", "ITEMS", "SIZE", "AGE", "STATE"):
        table.add_column(column, overflow="fold")
    for e in found:
        table.add_row(e.id, e.run, e.session, e.reason, str(len(e.items)), human_size(e.bytes), age_text(e.created),
                      e.state)
    return table


def entries_document(found: Found) -> dict[str, Any]:
    return document("quarantine list", {"entries": [entry_dict(e) for e in found.entries],
                                        "problems": found.problems}, int(found.exit_code),
                    {"entries": len(found.entries)})


def restored_document(result: Restored) -> dict[str, Any]:
    return document("restore", {"run": result.run, "dry_run": result.dry_run, "entries": result.entries,
                                "problems": result.problems}, int(result.exit_code), {"entries": len(result.entries)})


def print_restored(out: Console, warn: Callable[[str], None], result: Restored) -> None:
    verb = "would restore" if result.dry_run else "restored"
    for part in result.entries:
        for path in part["restored"]:
            out.print(f"{verb} {path}  (entry {part['entry']})", markup=False)
        for path in part["refused"]:
            warn(f"{path} exists again: left in quarantine (use --force to put it back anyway)")
