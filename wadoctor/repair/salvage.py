"""Saving what SQLite can still read from a damaged whatsmeow store into a new file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from wadoctor.stores.sqlite_probe import connect_read_only
from wadoctor.util.errors import WadoctorError


class SalvageFailed(WadoctorError):
    pass


def salvage(db: Path, target: Path) -> int:
    """Write a new database at `target` with every table and row of `db` that still reads
    (VACUUM INTO first, row by row when that fails); return the rows copied."""
    target.unlink(missing_ok=True)
    try:
        source = connect_read_only(db, 0.5)
    except sqlite3.Error as exc:
        raise SalvageFailed(f"{db.name} cannot be opened: {exc}") from None
    try:
        try:
            source.execute("VACUUM INTO ?", (str(target),))
            return _count_rows(target)
        except sqlite3.DatabaseError:
            target.unlink(missing_ok=True)
        return _copy_rows(source, target)
    finally:
        source.close()


def _count_rows(db: Path) -> int:
    connection = sqlite3.connect(db)
    try:
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return sum(connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables)  # noqa: S608
    finally:
        connection.close()


def _copy_rows(source: sqlite3.Connection, target: Path) -> int:
    try:
        schema = source.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
                                "AND name NOT LIKE 'sqlite_%' ORDER BY type = 'table' DESC").fetchall()
    except sqlite3.DatabaseError as exc:
        raise SalvageFailed(f"the schema itself is unreadable: {exc}") from None
    if not any(name == "whatsmeow_device" for _, name, _ in schema):
        raise SalvageFailed("the whatsmeow_device table is unreadable")
    out = sqlite3.connect(target)
    copied = 0
    try:
        out.execute("PRAGMA foreign_keys = OFF")
        for kind, name, sql in schema:
            try:
                out.execute(sql)
            except sqlite3.DatabaseError:
                continue
            if kind != "table":
                continue
            try:
                for row in source.execute(f'SELECT * FROM "{name}"'):  # noqa: S608
                    out.execute(f'INSERT OR IGNORE INTO "{name}" VALUES ({",".join("?" * len(row))})', row)  # noqa: S608
                    copied += 1
            except sqlite3.DatabaseError:
                continue  # keep the rows read before the damage
        out.commit()
    finally:
        out.close()
    return copied
