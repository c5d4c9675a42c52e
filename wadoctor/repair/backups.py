"""Creds backups: what turns a lost pairing into a restart.

Baileys writes creds.json with a plain writeFile, so a crash or a full disk can leave it empty,
and the next start replaces the identity. Every check and fix keeps, per session, the last few
verified copies of a valid paired creds.json (only when it changed, 0600, on the same
filesystem under `<root>/.wadoctor/backups/<session>/`), so fix can put it back. The folders
are walked without following a link and must be wadoctor's own: a backups folder a tenant
linked to another tenant's is refused, never written to, read or rotated.
"""

from __future__ import annotations

import hashlib
import json
import os
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wadoctor.core.model import Session, SessionState
from wadoctor.repair.quarantine import STATE_DIR, state_root
from wadoctor.repair.safety import file_safe
from wadoctor.stores.baileys import CREDS, CREDS_CAP
from wadoctor.stores.baileys_creds import parse_creds, read_creds
from wadoctor.stores.files import read_capped
from wadoctor.util.trusted import Untrusted, read_private, replace_private, walk, walk_from

DATABASES = (STATE_DIR, "backups", "databases")  # below the state root: backups of creds kept in databases


@dataclass(frozen=True)
class Backup:
    path: Path
    creds: dict[str, Any]

    @property
    def jid(self) -> str | None:
        return (self.creds.get("me") or {}).get("id")


def database_state_root(config_file: Path | None) -> Path:
    """The folder whose `.wadoctor/` keeps backups and quarantined values of creds kept in
    databases: beside the config file, else the system's (root: /var/lib/wadoctor) or the
    user's state folder."""
    if config_file is not None:
        return config_file.parent
    if os.geteuid() == 0:
        return Path("/var/lib/wadoctor")
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "wadoctor"


def backup_place(session: Session, database_dir: Path | None = None) -> tuple[Path, tuple[str, ...]]:
    """A session's backups as (root, folders below it): beside its folder, or for creds in a
    database under `database_dir` (one folder per place, named by the session and a digest of
    its masked place). Walked link-free from the root, each folder wadoctor's own."""
    if session.creds_source is not None:
        digest = hashlib.sha256(session.creds_source.encode()).hexdigest()[:12]
        return database_dir or database_state_root(None), (*DATABASES, f"{file_safe(session.id)}-{digest}")
    return state_root(session.path), (STATE_DIR, "backups", session.id)


class DatabaseBackups:
    """Where a run backs up creds kept in databases: their folder under `root`, walked and
    checked as wadoctor's own once, then held open for the run, each session's folder opened
    from it. A million rows would otherwise walk the four folders above theirs a million
    times (30 us each). Each process opens its own (forked workers too); `close` at the end."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.shown = str(root.joinpath(*DATABASES))
        self.fd: int | None = None

    def folder(self, name: str) -> AbstractContextManager[int]:
        """The backups folder `name` (the last of backup_place's names), made if missing."""
        if self.fd is None:
            with walk(self.root, DATABASES, private=True, create=True) as fd:
                self.fd = os.dup(fd)
        return walk_from(self.fd, self.shown, (name,), private=True, create=True)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _verified(raw: bytes) -> dict[str, Any] | None:
    """Paired creds that Baileys would accept, or None (judged as a check judges them: at
    once where the C pass finds them healthy, as every check's backups are)."""
    creds, healthy, why = parse_creds(raw)
    if why or (healthy is None and read_creds(creds)[1]) or not (creds.get("me") and creds.get("account")):
        return None
    return creds


def _backups(folder: int) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n.startswith("creds-") and n.endswith(".json"))


def keep_backup(session: Session, keep: int, databases: DatabaseBackups | None = None) -> Path | None:
    """Back up a healthy paired Baileys session's creds (its creds.json, or the creds a database
    holds, under `databases`) if they changed; rotate to `keep`. Returns the new backup, or
    None when nothing was written. Raises Untrusted where the backups folder is a link or not
    wadoctor's own."""
    if keep <= 0 or session.state is not SessionState.PAIRED:
        return None
    if session.creds_source is not None and session.creds_raw is not None:
        raw = session.creds_raw
    elif session.format == "baileys":
        raw = read_capped(session.path / CREDS, CREDS_CAP)
    else:
        return None
    if _verified(raw) is None:
        return None
    digest = hashlib.sha256(raw).hexdigest()[:12]
    root, names = backup_place(session, databases.root if databases else None)
    if databases is not None and session.creds_source is not None:
        opened = databases.folder(names[-1])
    else:
        opened = walk(root, names, private=True, create=True)
    with opened as folder:
        existing = _backups(folder)
        if existing and existing[-1].endswith(f"-{digest}.json"):
            return None
        name = f"creds-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{digest}.json"
        replace_private(name, folder, raw)
        for old in existing[: max(0, len(existing) + 1 - keep)]:
            os.unlink(old, dir_fd=folder)
    return root.joinpath(*names, name)


def newest_backup(session: Session, database_dir: Path | None = None) -> Backup | None:
    """The newest backup of this session that still verifies, read only from a backups
    folder wadoctor can trust (never through a link another user planted)."""
    root, names = backup_place(session, database_dir)
    try:
        with walk(root, names, private=True) as folder:
            for name in reversed(_backups(folder)):
                shown = root.joinpath(*names, name)
                try:
                    creds = _verified(read_private(name, folder, shown, CREDS_CAP))
                except (Untrusted, OSError):
                    continue
                if creds is not None:
                    return Backup(shown, creds)
    except (Untrusted, OSError):
        return None
    return None


def highest_pre_key_id(session_path: Path) -> int:
    """The highest pre-key id among a folder's key files (0 where there is no folder)."""
    highest = 0
    if not session_path.is_dir():
        return 0
    for name in os.listdir(session_path):
        if name.startswith("pre-key-") and name.endswith(".json") and name[8:-5].isdigit():
            highest = max(highest, int(name[8:-5]))
    return highest


def restored_creds(backup: Backup, session_path: Path) -> bytes:
    """The backup with its pre-key counters brought past every pre-key file on disk, so Baileys
    never hands out a key id twice; serialised as Baileys does (compact JSON)."""
    creds = dict(backup.creds)
    floor = highest_pre_key_id(session_path) + 1
    for counter in ("nextPreKeyId", "firstUnuploadedPreKeyId"):
        creds[counter] = max(int(creds.get(counter, 1)), floor)
    return json.dumps(creds, separators=(",", ":"), ensure_ascii=False).encode()
