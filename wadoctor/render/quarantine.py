"""Quarantine entries as `quarantine list` shows them: a document and a table."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from rich.table import Table

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
