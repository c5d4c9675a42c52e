"""What `watch` saw and did, in a small SQLite file: a restart remembers the last hour of
conflicts, and an action recorded before it ran is never run twice.

The file is root's state (0600 in a 0700 folder), opened only where no other user could
have put it or a link on the way (wadoctor.util.trusted)."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from wadoctor.util.trusted import check_file_and_folders

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS conflicts (session TEXT NOT NULL, at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS conflicts_at ON conflicts (at)",
    "CREATE TABLE IF NOT EXISTS actions (key TEXT PRIMARY KEY, session TEXT NOT NULL, at REAL NOT NULL, "
    "action TEXT NOT NULL, cause TEXT NOT NULL, result TEXT)",
    "CREATE TABLE IF NOT EXISTS events (at REAL NOT NULL, event TEXT NOT NULL, body TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS resumes (session TEXT PRIMARY KEY, at REAL NOT NULL)",
)
KEEP_SECONDS = 7 * 86400  # events and conflicts older than this are dropped at start


class History:
    def __init__(self, path: Path) -> None:
        # every folder on the way is checked before anything is made in it: a link or a folder
        # another user could write never gets root's file (Untrusted, a config error)
        check_file_and_folders(next(p for p in Path(os.path.abspath(path)).parents if p.exists()))
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        check_file_and_folders(path.parent)
        if not os.path.lexists(path):
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, 0o600))
        check_file_and_folders(path)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        for statement in SCHEMA:
            self.db.execute(statement)

    def prune(self, now: float) -> None:
        for table in ("conflicts", "events"):
            self.db.execute(f"DELETE FROM {table} WHERE at < ?", (now - KEEP_SECONDS,))  # noqa: S608

    def conflict(self, session: str, at: float) -> None:
        self.db.execute("INSERT INTO conflicts VALUES (?, ?)", (session, at))

    def conflicts_since(self, since: float) -> list[tuple[str, float]]:
        return list(self.db.execute("SELECT session, at FROM conflicts WHERE at >= ? ORDER BY at", (since,)))

    def claim(self, key: str, session: str, at: float, action: str, cause: str) -> bool:
        """Record an action before it runs; False when one with this key was already recorded
        (this run or an earlier one): it is not run again."""
        try:
            self.db.execute("INSERT INTO actions (key, session, at, action, cause) VALUES (?, ?, ?, ?, ?)",
                            (key, session, at, action, cause))
        except sqlite3.IntegrityError:
            return False
        return True

    def done(self, key: str, result: str) -> None:
        self.db.execute("UPDATE actions SET result = ? WHERE key = ?", (result, key))

    def actions_since(self, since: float) -> list[tuple[str, float]]:
        return list(self.db.execute("SELECT session, at FROM actions WHERE at >= ? ORDER BY at", (since,)))

    def resume_at(self, session: str, at: float) -> None:
        """A paused session, to be resumed at `at` (whether or not watch is running then)."""
        self.db.execute("INSERT OR REPLACE INTO resumes VALUES (?, ?)", (session, at))

    def due(self, now: float) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT session FROM resumes WHERE at <= ?", (now,))]

    def resumed(self, session: str) -> None:
        self.db.execute("DELETE FROM resumes WHERE session = ?", (session,))

    def event(self, at: float, body: dict[str, Any]) -> None:
        self.db.execute("INSERT INTO events VALUES (?, ?, ?)", (at, body["event"], json.dumps(body, default=str)))

    def close(self) -> None:
        self.db.close()
